// Fleet distribution: GET the bundle from --bundle-url with If-None-Match, so
// an unchanged bundle costs one small 304. The ETag is remembered only after
// the caller verified and installed the bytes: a bad bundle is fetched (and
// rejected) again on the next poll instead of being skipped as "unchanged".
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "dockpol/rt/verifier.hpp"
#include "http_client.hpp"

namespace dockpol::sidecar {

// A 16 MiB bundle over a slow WAN link still fits; a stuck server does not hold a poll forever.
inline constexpr std::chrono::milliseconds bundle_fetch_timeout{std::chrono::seconds(30)};

struct fetch_outcome {
    enum class kind { fresh, not_modified, failed };
    kind k = kind::failed;
    std::vector<std::uint8_t> bytes;   // fresh: the body
    std::string etag;                  // fresh: the server's ETag ("" when none)
    std::string error;                 // failed: why
};

class bundle_fetcher {
public:
    // Parses the URL and builds the TLS context for https (CA file or system roots).
    static std::variant<std::shared_ptr<bundle_fetcher>, std::string> create(const std::string& url,
                                                                             const std::optional<std::string>& ca_file) {
        using result = std::variant<std::shared_ptr<bundle_fetcher>, std::string>;
        auto u = parse_http_url(url);
        if (auto* e = std::get_if<std::string>(&u)) return result(std::in_place_index<1>, "--bundle-url: " + *e);
        std::shared_ptr<net::ssl::context> tls;
        if (std::get<http_url>(u).tls) {
            auto t = make_client_tls(ca_file);
            if (auto* e = std::get_if<std::string>(&t)) return result(std::in_place_index<1>, "--bundle-url-ca: " + *e);
            tls = std::get<0>(std::move(t));
        } else if (ca_file) {
            return result(std::in_place_index<1>, "--bundle-url-ca is only used with an https:// --bundle-url");
        }
        return result(std::in_place_index<0>, std::shared_ptr<bundle_fetcher>(
                                                   new bundle_fetcher(url, std::get<http_url>(std::move(u)), std::move(tls))));
    }

    const std::string& url() const { return text_; }

    // One GET; `cb` runs once on a strand of `ex`.
    void fetch(net::any_io_executor ex, std::function<void(fetch_outcome)> cb,
               std::chrono::milliseconds timeout = bundle_fetch_timeout) {
        http_get_options opt;
        opt.if_none_match = accepted_etag();
        opt.max_body = rt::limits::max_bundle_bytes;
        opt.timeout = timeout;
        opt.tls = tls_;
        const bool conditional = !opt.if_none_match.empty();
        async_http_get(ex, url_, std::move(opt), [this, conditional, cb = std::move(cb)](http_get_result r) {
            fetch_outcome out;
            if (!r.error.empty()) {
                out.error = "cannot fetch " + text_ + ": " + r.error;
            } else if (r.status == 304 && conditional) {
                out.k = fetch_outcome::kind::not_modified;
            } else if (r.status == 200) {
                out.k = fetch_outcome::kind::fresh;
                out.bytes = std::move(r.body);
                out.etag = std::move(r.etag);
            } else {
                out.error = "cannot fetch " + text_ + ": HTTP " + std::to_string(r.status);
            }
            cb(std::move(out));
        });
    }

    // The bytes with this ETag passed verification and now serve.
    void accept(std::string etag) {
        std::lock_guard lk(mu_);
        etag_ = std::move(etag);
    }
    std::string accepted_etag() const {
        std::lock_guard lk(mu_);
        return etag_;
    }

private:
    bundle_fetcher(std::string text, http_url url, std::shared_ptr<net::ssl::context> tls)
        : text_(std::move(text)), url_(std::move(url)), tls_(std::move(tls)) {}

    std::string text_;
    http_url url_;
    std::shared_ptr<net::ssl::context> tls_;
    mutable std::mutex mu_;
    std::string etag_;
};

} // namespace dockpol::sidecar
