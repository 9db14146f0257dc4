// The signed hand-off between dockpold the proxy and dockpold the plugin
// (docs/plugin.md, "Proxy and plugin together"). With both in front of one
// dockerd, a request the proxy allowed reaches the plugin through dockerd's
// authz chain; without a hand-off the plugin would decide it again as the
// socket's local user. So the proxy adds
//     X-Dockpol-Decision: <instance>-<counter>-<unix seconds>.<HMAC-SHA256 hex>
// over the method and the exact target it forwards, and the plugin allows a
// request whose header verifies. The proxy strips the header (and the
// plugin's lookup header) from every client request, so only a holder of the
// key can make one; a header that does not verify is a denial, never a
// fall-back. Replays: each token is accepted once (a window of counters per
// proxy instance) and only for max_handoff_skew around its time.
#pragma once
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "dockpol/rt/signature.hpp"
#include "random_hex.hpp"

namespace dockpol::sidecar::handoff {

// The header the proxy signs allowed requests with; clients never get one through.
inline constexpr std::string_view decision_header = "X-Dockpol-Decision";
// The header the plugin's own inspect calls carry (plugin_lookup.hpp); stripped from clients too.
inline constexpr std::string_view lookup_header = "X-Dockpol-Lookup";
// Both hosts read one clock (or NTP-close ones); a token older or newer than this is refused.
inline constexpr std::chrono::seconds max_handoff_skew{60};
// 256 bits of key: the HMAC is as strong as SHA-256 allows.
inline constexpr std::size_t min_handoff_key_bytes = 32;
// Counters per proxy instance remembered for replay: requests may reach the plugin out of order, this far.
inline constexpr std::uint64_t replay_window = 65536;
// Proxy instances (restarts, replicas) tracked at once; the least recently seen is forgotten first.
inline constexpr std::size_t max_tracked_instances = 64;
// "<16 hex>-<16 hex>-<seconds>" and 64 hex digits of MAC, with margin.
inline constexpr std::size_t max_token_bytes = 128;

struct key {
    std::string bytes;
};

// Reads the shared secret: a file nobody but its owner and group may read, of at least 32 bytes
// (e.g. `head -c 32 /dev/urandom | base64 > handoff.key`); trailing whitespace is not part of it.
inline std::variant<key, std::string> load_key(const std::string& path) {
    using result = std::variant<key, std::string>;
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) return result(std::in_place_index<1>, "--handoff-key " + path + ": cannot read it");
    if (st.st_mode & (S_IROTH | S_IWOTH))
        return result(std::in_place_index<1>, "--handoff-key " + path + ": readable by others (chmod o-rw it)");
    auto text = rt::detail::sig_impl::read_small_file(path);
    if (text.index() == 1) return result(std::in_place_index<1>, "--handoff-key " + std::get<1>(text));
    std::string bytes = std::get<0>(std::move(text));
    while (!bytes.empty() && (bytes.back() == '\n' || bytes.back() == '\r' || bytes.back() == ' ' || bytes.back() == '\t'))
        bytes.pop_back();
    if (bytes.size() < min_handoff_key_bytes)
        return result(std::in_place_index<1>, fmt::format("--handoff-key {}: {} bytes, at least {} are needed", path,
                                                          bytes.size(), min_handoff_key_bytes));
    return result(std::in_place_index<0>, key{std::move(bytes)});
}

namespace detail {

// What the MAC covers: a version tag, the token's id, the method and the target as dockerd receives it.
inline std::string mac_hex(const key& k, std::string_view id, std::string_view method, std::string_view target) {
    std::string msg = "dockpol-handoff-v1\n";
    msg.append(id).append("\n").append(method).append("\n").append(target);
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned len = 0;
    HMAC(EVP_sha256(), k.bytes.data(), static_cast<int>(k.bytes.size()),
         reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac.data(), &len);
    return rt::to_hex(std::span<const std::uint8_t>(mac.data(), len));
}

inline std::optional<std::uint64_t> parse_hex64(std::string_view s) {
    if (s.size() != 16) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return std::nullopt;
        v = (v << 4) | static_cast<unsigned>(d);
    }
    return v;
}

inline std::optional<std::int64_t> parse_seconds(std::string_view s) {
    if (s.empty() || s.size() > 12) return std::nullopt;
    std::int64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

inline std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

} // namespace detail

// The proxy's side: one instance id per process, a counter per token.
class signer {
public:
    explicit signer(key k) : key_(std::move(k)), instance_(random_hex(8)) {}

    // The header value for a request forwarded with this method and target.
    std::string token(std::string_view method, std::string_view target,
                      std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
        const auto n = counter_.fetch_add(1, std::memory_order_relaxed);
        std::string id = fmt::format("{}-{:016x}-{}", instance_, n, detail::unix_seconds(now));
        std::string out = id;
        out += '.';
        out += detail::mac_hex(key_, id, method, target);
        return out;
    }

    const std::string& instance() const { return instance_; }

private:
    key key_;
    std::string instance_;
    std::atomic<std::uint64_t> counter_{1};
};

// A whole header line for requests dockpold makes itself (its inspects).
inline std::string header_line(signer& s, std::string_view method, std::string_view target) {
    std::string line(decision_header);
    line += ": ";
    line += s.token(method, target);
    line += "\r\n";
    return line;
}

// The plugin's side: checks the MAC, the time and that the token was not seen before.
class verifier {
public:
    explicit verifier(key k) : key_(std::move(k)) {}

    // Empty when the token verifies for this method and target (and is now used up); else why not.
    std::string verify(std::string_view token, std::string_view method, std::string_view target,
                       std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
        if (token.size() > max_token_bytes) return "hand-off header too long";
        const auto dot = token.find('.');
        if (dot == std::string_view::npos) return "hand-off header is not ID.MAC";
        const auto id = token.substr(0, dot), mac = token.substr(dot + 1);
        const auto d1 = id.find('-'), d2 = id.find('-', d1 == std::string_view::npos ? d1 : d1 + 1);
        if (d1 == std::string_view::npos || d2 == std::string_view::npos) return "hand-off id is not INSTANCE-COUNTER-TIME";
        const auto instance = id.substr(0, d1);
        const auto counter = detail::parse_hex64(id.substr(d1 + 1, d2 - d1 - 1));
        const auto secs = detail::parse_seconds(id.substr(d2 + 1));
        if (instance.size() != 16 || !detail::parse_hex64(instance) || !counter || !secs)
            return "hand-off id is not INSTANCE-COUNTER-TIME";
        const auto expect = detail::mac_hex(key_, id, method, target);
        // Constant time: the MAC must not be guessable byte by byte from response timing.
        if (mac.size() != expect.size() || CRYPTO_memcmp(mac.data(), expect.data(), expect.size()) != 0)
            return "hand-off signature does not verify";
        const auto age = detail::unix_seconds(now) - *secs;
        if (age > max_handoff_skew.count() || -age > max_handoff_skew.count()) return "hand-off token expired";
        std::lock_guard lk(mu_);
        return use(std::string(instance), *counter, now);
    }

private:
    struct window {
        std::uint64_t highest = 0;
        std::vector<std::uint64_t> seen = std::vector<std::uint64_t>(replay_window / 64);
        std::chrono::system_clock::time_point last_used;
        bool test_and_set(std::uint64_t n) {
            auto& word = seen[(n % replay_window) / 64];
            const std::uint64_t bit = std::uint64_t{1} << (n % 64);
            const bool was = word & bit;
            word |= bit;
            return was;
        }
    };

    std::string use(std::string instance, std::uint64_t n, std::chrono::system_clock::time_point now) {
        auto it = windows_.find(instance);
        if (it == windows_.end()) {
            if (windows_.size() >= max_tracked_instances) {
                auto oldest = windows_.begin();
                for (auto j = windows_.begin(); j != windows_.end(); ++j)
                    if (j->second.last_used < oldest->second.last_used) oldest = j;
                windows_.erase(oldest);
            }
            it = windows_.emplace(std::move(instance), window{}).first;
        }
        auto& w = it->second;
        w.last_used = now;
        if (n > w.highest) {
            // Counters skipped over are cleared: they may still arrive, once each.
            const std::uint64_t step = n - w.highest;
            if (step >= replay_window) {
                std::fill(w.seen.begin(), w.seen.end(), 0);
            } else {
                for (std::uint64_t c = w.highest + 1; c <= n; ++c)
                    w.seen[(c % replay_window) / 64] &= ~(std::uint64_t{1} << (c % 64));
            }
            w.highest = n;
            w.test_and_set(n);
            return {};
        }
        if (w.highest - n >= replay_window) return "hand-off token too old";
        if (w.test_and_set(n)) return "hand-off token already used";
        return {};
    }

    key key_;
    std::mutex mu_;
    std::unordered_map<std::string, window> windows_;
};

} // namespace dockpol::sidecar::handoff
