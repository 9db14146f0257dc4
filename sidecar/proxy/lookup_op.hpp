// Resource lookup over one upstream connection: GET each inspect path in
// turn and keep dockerd's status and raw answer. One composed operation so the
// session only sees "looked up" or an error; the caller's deadline bounds it in
// time (closing the socket cancels it) and the parser limits bound it in size.
#pragma once
#include <boost/asio/coroutine.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "dockpol/rt/limits.hpp"
#include "dockpol/rt/request.hpp"
#include "dockpol/rt/routes.hpp"
#include "dockpol/rt/vm.hpp"
#include "resource_lookup.hpp"

namespace dockpol::sidecar {

namespace lookup_net = boost::asio;

struct lookup_item {
    std::string kind;          // inspect kind ("container", "exec", ...)
    std::string name;          // as the request named it
    std::string path;          // from rt::inspect_path
    unsigned status = 0;       // dockerd's final status, 0 until answered
    std::string body;          // dockerd's answer
    std::string extra_headers; // whole "Name: value\r\n" lines sent with the inspect (hand-off, lookup nonce)
    bool shadow_only = false;  // asked for the shadow bundle alone: its failure must not change the live answer
};

// Named volumes and joined containers looked up for one request: a create names a few; more is an attack on
// dockerd through us.
inline constexpr std::size_t max_object_lookups = 64;
// An inspect answer comes from dockerd's memory; 10 s means dockerd is wedged.
inline constexpr std::chrono::seconds inspect_timeout{10};

// What the policy reads of the request's target, from its inspect answer (the proxy and the plugin alike).
// An image is addressed by reference (a tag is not an id): its name is the reference the request used,
// not whichever RepoTag dockerd lists first (`docker tag prod aaa/x` must not change what a rule sees).
inline void set_resource(rt::request& q, const rt::route_result& route, const resource_info& info) {
    q.resource_name = route.inspect_kind == "image" ? std::optional<std::string>(route.resource_id) : info.name;
    q.resource_labels = info.labels;
    q.resource_names = info.names;
    q.resource_inspect = info.raw;
}

// Whether deciding with `p` reads the request's target (resource.*), so it is looked up first: proxy,
// plugin and shadow alike.
inline bool reads_target(const rt::program& p, const rt::route_result& route, std::uint16_t action_id) {
    return !route.resource_id.empty() && !route.inspect_kind.empty() && rt::needs_resource(p, action_id);
}

// The inspect of `kind` `name`, or nullopt when no inspect path addresses it exactly.
inline std::optional<lookup_item> inspect_item(std::string_view kind, std::string_view name, bool shadow_only = false) {
    auto path = rt::inspect_path(kind, name);
    if (path.empty()) return std::nullopt;
    return lookup_item{std::string(kind), std::string(name), std::move(path), 0, {}, {}, shadow_only};
}

// The kind and name of an object a decision named ("volume:NAME", "container:NAME").
inline std::pair<std::string, std::string> object_key_parts(const std::string& key) {
    const auto colon = key.find(':');
    return {key.substr(0, colon), colon == std::string::npos ? "" : key.substr(colon + 1)};
}

// The inspect of one object a decision named, or why it cannot be asked for.
inline std::variant<lookup_item, std::string> object_lookup(const std::string& key) {
    const auto [kind, name] = object_key_parts(key);
    if (auto item = inspect_item(kind, name)) return std::move(*item);
    return "cannot look up " + kind + " \"" + name + "\"";
}

// What the answer to a target's inspect says, for the proxy and the plugin alike:
//   resource_info   the target's facts;
//   lookup_item     ask this next and read its answer the same way (an exec's facts are its container's,
//                   looked up by the exact ContainerID);
//   target_missing  dockerd answered 404;
//   std::string     why the lookup failed.
struct target_missing {};
using target_answer = std::variant<resource_info, lookup_item, target_missing, std::string>;

inline target_answer read_target_answer(const lookup_item& it) {
    if (it.status == 404) return target_missing{};
    if (it.status != 200) return fmt::format("dockerd answered {} for {}", it.status, it.path);
    auto info = parse_inspect(it.kind, it.body);
    if (!info) return std::string("dockerd's inspect answer is not JSON");
    if (it.kind == "exec") {
        if (auto next = inspect_item("container", info->id)) return std::move(*next);
        return "exec " + it.name + " names no container";
    }
    return std::move(*info);
}

inline std::string too_many_objects(std::size_t n) {
    return fmt::format("the request names {} objects to look up (at most {})", n, max_object_lookups);
}

struct lookup_result {
    bool reusable = false;     // the connection ended on a complete keep-alive exchange with nothing unread
};

namespace detail {

template <class Stream>
struct lookup_op : lookup_net::coroutine {
    Stream& s;
    boost::beast::flat_buffer& buf;
    std::vector<lookup_item>& items;
    std::size_t i = 0;
    std::string wire;
    std::unique_ptr<boost::beast::http::response_parser<boost::beast::http::string_body>> p;

    template <class Self>
    void operator()(Self& self, boost::beast::error_code ec = {}, std::size_t = 0) {
        namespace http = boost::beast::http;
        BOOST_ASIO_CORO_REENTER(*this) {
            for (; i < items.size(); ++i) {
                wire = inspect_request(items[i].path, items[i].extra_headers);
                BOOST_ASIO_CORO_YIELD lookup_net::async_write(s, lookup_net::buffer(wire), std::move(self));
                if (ec) return self.complete(ec, lookup_result{});
                // Interim answers (1xx except 101) precede the final one; they are skipped, never taken for it.
                do {
                    p = std::make_unique<http::response_parser<http::string_body>>();
                    p->header_limit(static_cast<std::uint32_t>(rt::limits::max_upstream_head_bytes));
                    p->body_limit(max_inspect_bytes);
                    BOOST_ASIO_CORO_YIELD http::async_read(s, buf, *p, std::move(self));
                    if (ec) return self.complete(ec, lookup_result{});
                } while (p->get().result_int() / 100 == 1 && p->get().result_int() != 101);
                items[i].status = p->get().result_int();
                items[i].body = std::move(p->get().body());
                if (!p->keep_alive() || buf.size() != 0) {
                    if (i + 1 < items.size()) return self.complete(http::error::end_of_stream, lookup_result{});
                    return self.complete(ec, lookup_result{false});
                }
            }
            self.complete(ec, lookup_result{true});
        }
    }
};

} // namespace detail

// Completes with (error, result); on error the connection must be closed.
template <class Stream, class Token>
auto async_lookup(Stream& s, boost::beast::flat_buffer& buf, std::vector<lookup_item>& items, Token&& token) {
    return lookup_net::async_compose<Token, void(boost::beast::error_code, lookup_result)>(
        detail::lookup_op<Stream>{{}, s, buf, items, 0, {}, {}}, token, s);
}

} // namespace dockpol::sidecar
