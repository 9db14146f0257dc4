// The active policy. Requests take one snapshot and use it from start to end;
// a reload loads and verifies the new bundle completely (bounds → digest →
// signature → verifier) before one atomic swap, and a failed reload keeps the
// last good bundle and records why (docs/architecture.md hot swap).
#pragma once
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "dockpol/rt/bundle.hpp"
#include "dockpol/rt/signature.hpp"
#include "dockpol/rt/verifier.hpp"
#include "dockpol/rt/vm.hpp"

namespace dockpol::sidecar {

struct policy_status {
    std::string revision;
    std::chrono::system_clock::time_point loaded_at{};
    std::string source;                       // file path (or URL) of the active bundle
    std::chrono::system_clock::time_point last_reload{};
    std::string last_error;                   // "" when the last reload succeeded
};

// Reads a whole file, bounded by the bundle size limit (plus one byte to detect oversize).
inline std::variant<std::vector<std::uint8_t>, std::string> read_bundle_file(const std::string& path) {
    using result = std::variant<std::vector<std::uint8_t>, std::string>;
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return result(std::in_place_index<1>, "cannot open bundle " + path + ": " + std::strerror(errno));
    std::vector<std::uint8_t> bytes;
    std::uint8_t buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
        bytes.insert(bytes.end(), buf, buf + n);
        if (bytes.size() > rt::limits::max_bundle_bytes) {
            std::fclose(f);
            return result(std::in_place_index<1>, "bundle " + path + " is larger than " +
                                                      std::to_string(rt::limits::max_bundle_bytes) + " bytes");
        }
    }
    bool err = std::ferror(f);
    std::fclose(f);
    if (err) return result(std::in_place_index<1>, "cannot read bundle " + path);
    return result(std::in_place_index<0>, std::move(bytes));
}

class policy_store {
public:
    explicit policy_store(std::vector<rt::public_key> keys = {}) : keys_(std::move(keys)) {}

    // The program a request uses for its whole life (null only before the first successful load).
    std::shared_ptr<const rt::program> snapshot() const { return current_.load(std::memory_order_acquire); }

    // Loads and verifies `bytes` fully, then swaps. On error the current program stays.
    std::optional<std::string> try_replace(std::span<const std::uint8_t> bytes, const std::string& source) {
        auto r = rt::load_bundle(bytes, keys_);
        if (!r.prog) {
            std::lock_guard lk(status_mu_);
            status_.last_reload = std::chrono::system_clock::now();
            status_.last_error = r.error.empty() ? std::string("bundle rejected") : r.error;
            return status_.last_error;
        }
        install(std::move(r.prog), source);
        return std::nullopt;
    }

    // Makes a loaded and verified program the current one (a reload, or the shadow's promotion).
    void install(std::shared_ptr<const rt::program> prog, const std::string& source) {
        std::lock_guard lk(status_mu_);
        status_.last_reload = std::chrono::system_clock::now();
        status_.revision = rt::image_of(*prog).man.revision;
        status_.loaded_at = status_.last_reload;
        status_.source = source;
        status_.last_error.clear();
        current_.store(std::move(prog), std::memory_order_release);
    }

    // Reads the file, then try_replace; errors name the file.
    std::optional<std::string> load_file(const std::string& path) {
        auto bytes = read_bundle_file(path);
        if (auto* e = std::get_if<std::string>(&bytes)) {
            std::lock_guard lk(status_mu_);
            status_.last_reload = std::chrono::system_clock::now();
            status_.last_error = *e;
            return *e;
        }
        if (auto e = try_replace(std::get<0>(bytes), path)) return "bundle " + path + " rejected: " + *e;
        return std::nullopt;
    }

    policy_status status() const {
        std::lock_guard lk(status_mu_);
        return status_;
    }

private:
    std::vector<rt::public_key> keys_;
    std::atomic<std::shared_ptr<const rt::program>> current_;
    mutable std::mutex status_mu_;
    policy_status status_;
};

} // namespace dockpol::sidecar
