// The plugin's own inspects (plugin_decide.hpp, pending_lookups): one
// connection to dockerd's socket per round, every item sent with the
// plugin's per-process nonce (X-Dockpol-Lookup) so that dockerd's authz chain
// — which asks this same plugin — lets them through. Bounded like the proxy's
// lookups: one deadline for connect and answers, inspect answers limited in
// size by lookup_op.hpp.
#pragma once
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "handoff/handoff.hpp"
#include "proxy/lookup_op.hpp"

namespace dockpol::sidecar::plugin {

class plugin_lookup : public std::enable_shared_from_this<plugin_lookup> {
public:
    using unix_protocol = boost::asio::local::stream_protocol;
    using stream_type = boost::beast::basic_stream<unix_protocol, boost::asio::any_io_executor,
                                                   boost::beast::unlimited_rate_policy>;
    // Called once, on `ex`, with "" when dockerd answered every item (statuses and bodies filled in), else why not.
    using done_fn = std::function<void(std::string error)>;

    plugin_lookup(boost::asio::any_io_executor ex, std::vector<lookup_item>& items, done_fn done)
        : stream_(ex), items_(items), done_(std::move(done)) {}

    void run(const std::string& docker_socket, const std::string& nonce) {
        std::string line(handoff::lookup_header);
        line += ": " + nonce + "\r\n";
        for (auto& it : items_) it.extra_headers = line;
        stream_.expires_after(inspect_timeout);
        stream_.async_connect(unix_protocol::endpoint(docker_socket),
                              [self = shared_from_this()](boost::beast::error_code ec) { self->on_connect(ec); });
    }

private:
    void on_connect(boost::beast::error_code ec) {
        if (ec) return finish("cannot connect to dockerd: " + ec.message());
        async_lookup(stream_, buf_, items_, [self = shared_from_this()](boost::beast::error_code e, lookup_result) {
            self->finish(e ? "no answer from dockerd: " + e.message() : std::string());
        });
    }

    void finish(std::string error) {
        boost::beast::error_code ignored;
        stream_.socket().close(ignored);
        auto done = std::move(done_);
        done(std::move(error));
    }

    stream_type stream_;
    boost::beast::flat_buffer buf_;
    std::vector<lookup_item>& items_;
    done_fn done_;
};

} // namespace dockpol::sidecar::plugin
