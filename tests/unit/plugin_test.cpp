// `dockpold plugin`: Docker's AuthZ plugin protocol without sockets. Parsing
// is exact and strict (base64, field types), a malformed call is denied with
// a reason and an audit line, and decisions come from the same routes, facts
// and rt::decide as the proxy — with what a plugin cannot see or do (an
// unsent body the policy reads, ownership rewrites, lookups) denied by rule
// `error`. The plugin's flags come from the proxy's flag table.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/write.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "config.hpp"
#include "dockpol/dsl/compile.hpp"
#include "dockpol/rt/bundle.hpp"
#include "plugin/authz_protocol.hpp"
#include "plugin/plugin_decide.hpp"
#include "plugin/plugin_server.hpp"

namespace plugin_test {

using namespace dockpol;
using namespace dockpol::sidecar;
using namespace dockpol::sidecar::plugin;
using nlohmann::json;

namespace {

std::string fixture(const std::string& name) {
    std::ifstream in(std::string(DOCKPOL_SOURCE_ROOT) + "/tests/unit/fixtures/plugin/" + name, std::ios::binary);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string base64(std::string_view in) {
    static constexpr char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        auto n = (std::uint32_t(std::uint8_t(in[i])) << 16) | (std::uint32_t(std::uint8_t(in[i + 1])) << 8) |
                 std::uint8_t(in[i + 2]);
        for (int k = 3; k >= 0; --k) out.push_back(abc[(n >> (6 * k)) & 63]);
    }
    if (in.size() - i == 1) {
        auto n = std::uint32_t(std::uint8_t(in[i])) << 16;
        out += {abc[(n >> 18) & 63], abc[(n >> 12) & 63], '=', '='};
    } else if (in.size() - i == 2) {
        auto n = (std::uint32_t(std::uint8_t(in[i])) << 16) | (std::uint32_t(std::uint8_t(in[i + 1])) << 8);
        out += {abc[(n >> 18) & 63], abc[(n >> 12) & 63], abc[(n >> 6) & 63], '='};
    }
    return out;
}

std::vector<std::uint8_t> bundle_of(const std::string& policy_file) {
    auto r = dsl::compile({dsl::source_file{policy_file, fixture(policy_file)}}, {}, "rev-" + policy_file);
    REQUIRE(r.image);
    return rt::write_bundle(*r.image);
}

std::shared_ptr<const rt::program> program_of(const std::string& policy_file) {
    auto r = dsl::compile({dsl::source_file{policy_file, fixture(policy_file)}}, {}, "t");
    REQUIRE(r.image);
    auto l = rt::load_image(*r.image);
    REQUIRE(l.prog);
    return l.prog;
}

// An AuthZReq as dockerd builds it: TLS callers carry their certificate, UNIX socket callers nothing.
json call(std::string method, std::string uri, std::optional<std::string> body = std::nullopt, bool tls_alice = false) {
    json j{{"RequestMethod", method}, {"RequestUri", uri}, {"RequestHeaders", {{"User-Agent", "Docker-Client/28.0.1"}}}};
    if (body) {
        j["RequestBody"] = base64(*body);
        j["RequestHeaders"]["Content-Type"] = "application/json";
    }
    if (tls_alice) {
        j["User"] = "alice";
        j["UserAuthNMethod"] = "TLS";
        j["RequestPeerCertificates"] = json::array({base64(fixture("alice_dev_ops.pem"))});
    }
    return j;
}

authz_request parsed(const json& j) {
    auto r = parse_authz_request(j.dump());
    REQUIRE(std::holds_alternative<authz_request>(r));
    return std::get<authz_request>(std::move(r));
}

plugin_outcome decide_with(const std::string& policy_file, const json& j, plugin_settings s = {}) {
    return plugin_decide(*program_of(policy_file), parsed(j), s);
}

std::string parse_error(std::string_view text) {
    auto r = parse_authz_request(text);
    REQUIRE(std::holds_alternative<std::string>(r));
    return std::get<std::string>(r);
}

} // namespace

// ---- protocol ---------------------------------------------------------------

TEST_CASE("plugin: base64 is Go's standard encoding, strictly") {
    CHECK(decode_base64("") == std::string());
    CHECK(decode_base64("YQ==") == std::string("a"));
    CHECK(decode_base64("YWI=") == std::string("ab"));
    CHECK(decode_base64("YWJj") == std::string("abc"));
    CHECK(decode_base64(base64(std::string("\0\xff\x10", 3))) == std::string("\0\xff\x10", 3));
    CHECK_FALSE(decode_base64("YQ"));      // unpadded
    CHECK_FALSE(decode_base64("Y==="));    // three padding characters
    CHECK_FALSE(decode_base64("YQ==YQ==")); // padding in the middle
    CHECK_FALSE(decode_base64("YR=="));    // bits under the padding
    CHECK_FALSE(decode_base64("YW-j"));    // URL alphabet
    CHECK_FALSE(decode_base64("YW J"));
}

TEST_CASE("plugin: an AuthZReq from a TLS client parses field by field") {
    auto r = parse_authz_request(fixture("authz_req_create_tls.json"));
    REQUIRE(std::holds_alternative<authz_request>(r));
    const auto& q = std::get<authz_request>(r);
    CHECK(q.user == "alice");
    CHECK(q.authn_method == "TLS");
    CHECK(q.method == "POST");
    CHECK(q.uri == "/v1.41/containers/create?name=web");
    REQUIRE(q.body);
    CHECK(*q.body == fixture("create_body.json"));
    CHECK(header_value(q, "content-type") == std::optional<std::string_view>("application/json"));
    CHECK_FALSE(header_value(q, "Authorization"));
    REQUIRE(q.peer_certificates_pem.size() == 1);
    CHECK(q.peer_certificates_pem[0] == fixture("alice_dev_ops.pem"));
}

TEST_CASE("plugin: an AuthZReq from the UNIX socket has no user, body or certificate") {
    auto r = parse_authz_request(fixture("authz_req_list_unix.json"));
    REQUIRE(std::holds_alternative<authz_request>(r));
    const auto& q = std::get<authz_request>(r);
    CHECK(q.user.empty());
    CHECK_FALSE(q.body);
    CHECK(q.peer_certificates_pem.empty());
}

TEST_CASE("plugin: malformed calls name what is wrong") {
    CHECK(parse_error("{") == "the plugin request is not JSON");
    CHECK(parse_error("[]") == "the plugin request is not a JSON object");
    CHECK(parse_error(R"({"RequestUri":"/_ping"})") == "RequestMethod is missing");
    CHECK(parse_error(R"({"RequestMethod":"GET"})") == "RequestUri is missing");
    CHECK(parse_error(R"({"RequestMethod":"GET","RequestUri":7})") == "RequestUri is not a string");
    CHECK(parse_error(R"({"RequestMethod":"POST","RequestUri":"/x","RequestBody":"not base64!"})") ==
          "RequestBody is not valid base64");
    CHECK(parse_error(R"({"RequestMethod":"POST","RequestUri":"/x","RequestBody":[1]})") ==
          "RequestBody is not a base64 string");
    CHECK(parse_error(R"({"RequestMethod":"GET","RequestUri":"/x","RequestHeaders":{"A":1}})") ==
          "RequestHeaders[A] is not a string");
    CHECK(parse_error(R"({"RequestMethod":"GET","RequestUri":"/x","RequestPeerCertificates":[1]})") ==
          "RequestPeerCertificates holds a non-string");
    CHECK(parse_error(R"({"RequestMethod":"GET","RequestUri":"/x","RequestPeerCertificates":["%%%%"]})") ==
          "RequestPeerCertificates holds invalid base64");
}

TEST_CASE("plugin: more headers or certificates than any dockerd sends are malformed") {
    json j{{"RequestMethod", "GET"}, {"RequestUri", "/_ping"}, {"RequestHeaders", json::object()}};
    for (std::size_t i = 0; i <= max_header_entries; ++i) j["RequestHeaders"]["X-" + std::to_string(i)] = "v";
    CHECK(parse_error(j.dump()) == "RequestHeaders has too many entries");
    json c{{"RequestMethod", "GET"}, {"RequestUri", "/_ping"}, {"RequestPeerCertificates", json::array()}};
    for (std::size_t i = 0; i <= max_peer_certificates; ++i) c["RequestPeerCertificates"].push_back(base64("x"));
    CHECK(parse_error(c.dump()) == "RequestPeerCertificates has too many entries");
}

TEST_CASE("plugin: answers are dockerd's Response shape, Msg and Err only when set") {
    CHECK(serialize(authz_response{true, {}, {}}) == "{\"Allow\":true}\n");
    CHECK(serialize(authz_response{false, "no \"way\"", {}}) == "{\"Allow\":false,\"Msg\":\"no \\\"way\\\"\"}\n");
    auto j = json::parse(serialize(authz_response{false, "m", "e"}));
    CHECK(j == json{{"Allow", false}, {"Msg", "m"}, {"Err", "e"}});
    CHECK(json::parse(activate_body()) == json{{"Implements", {"authz"}}});
}

// ---- decisions --------------------------------------------------------------

TEST_CASE("plugin: a TLS caller is its certificate's CN with its O values as groups") {
    auto o = decide_with("body_policy.dpol", call("POST", "/v1.41/containers/create", fixture("create_body.json"), true));
    CHECK(o.id.user == "alice");
    CHECK(o.id.groups == std::vector<std::string>{"dev", "ops"});
    CHECK(o.allow);
    CHECK(o.rule == "devs");
    CHECK(o.action == "container_create");
}

TEST_CASE("plugin: a denial carries the proxy's message, rule and action") {
    auto o = decide_with("body_policy.dpol",
                         call("POST", "/v1.41/containers/create", fixture("create_privileged_body.json"), true));
    CHECK_FALSE(o.allow);
    CHECK(o.rule == "no_priv");
    CHECK(o.msg == "[dockpol] The command 'container_create' denied for user 'alice' by rule 'no_priv'");
    CHECK(o.msg == denial_message("container_create", "alice", "no_priv"));
    auto r = response_of(o);
    CHECK_FALSE(r.allow);
    CHECK(r.msg == o.msg);
    CHECK(r.err.empty());
}

TEST_CASE("plugin: the UNIX socket is --local-user with --local-groups") {
    auto list = decide_with("body_policy.dpol", call("GET", "/v1.41/containers/json"));
    CHECK(list.allow);
    CHECK(list.rule == "local_reads");
    CHECK(list.id.user == "local");

    auto create = decide_with("body_policy.dpol", call("POST", "/v1.41/containers/create", fixture("create_body.json")));
    CHECK_FALSE(create.allow);
    CHECK(create.rule == "default");
    CHECK(create.msg == "[dockpol] The command 'container_create' denied for user 'local' by rule 'default'");

    plugin_settings s;
    s.local_user = "ci";
    s.local_groups = {"dev"};
    auto as_dev = decide_with("body_policy.dpol", call("POST", "/v1.41/containers/create", fixture("create_body.json")), s);
    CHECK(as_dev.allow);
    CHECK(as_dev.id.user == "ci");
    CHECK(as_dev.rule == "devs");
}

TEST_CASE("plugin: no body where the policy reads body facts is a denial by rule error (CVE-2024-41110)") {
    // dockerd leaves RequestBody out for chunked, large or non-JSON bodies, whatever the headers say.
    auto j = call("POST", "/v1.41/containers/create", std::nullopt, true);
    j["RequestHeaders"]["Content-Type"] = "application/json";
    auto o = decide_with("body_policy.dpol", j);
    CHECK_FALSE(o.allow);
    CHECK(o.rule == "error");
    CHECK(o.reason == reasons::body_not_seen);
    CHECK(o.msg == "[dockpol] The command 'container_create' denied for user 'alice' by rule 'error'");
    // An empty body is no body: Go leaves an empty RequestBody out too.
    j["RequestBody"] = "";
    CHECK(decide_with("body_policy.dpol", j).reason == reasons::body_not_seen);
}

TEST_CASE("plugin: no body is fine when no rule reads body facts for the action") {
    auto o = decide_with("nobody_policy.dpol", call("POST", "/v1.41/containers/create", std::nullopt, true));
    CHECK(o.allow);
    CHECK(o.rule == "devs");
}

TEST_CASE("plugin: a body the policy reads larger than --max-body-inspect is denied by rule error") {
    plugin_settings s;
    s.max_body_inspect = 16;
    auto o = decide_with("body_policy.dpol", call("POST", "/v1.41/containers/create", fixture("create_body.json"), true), s);
    CHECK_FALSE(o.allow);
    CHECK(o.rule == "error");
    CHECK(o.reason.starts_with("request body larger than --max-body-inspect"));
}

TEST_CASE("plugin: allows that need an ownership rewrite are denied: a plugin cannot change the request") {
    auto list = decide_with("owner_policy.dpol", call("GET", "/v1.41/containers/json", std::nullopt, true));
    CHECK_FALSE(list.allow);
    CHECK(list.rule == "error");
    CHECK(list.reason == reasons::rewrite_needs_proxy);

    auto create = decide_with("owner_policy.dpol", call("POST", "/v1.41/containers/create", fixture("create_body.json"), true));
    CHECK_FALSE(create.allow);
    CHECK(create.rule == "error");
    CHECK(create.reason == reasons::rewrite_needs_proxy);

    // Actions that need no rewrite are decided as usual.
    auto ping = decide_with("owner_policy.dpol", call("GET", "/_ping", std::nullopt, true));
    CHECK(ping.allow);
    CHECK(ping.rule == "ops");
}

TEST_CASE("plugin: without --docker a policy that needs the target looked up denies by rule error") {
    auto del = decide_with("resource_policy.dpol", call("DELETE", "/v1.41/containers/web", std::nullopt, true));
    CHECK_FALSE(del.allow);
    CHECK(del.rule == "error");
    CHECK(del.reason == reasons::no_lookups);
    auto own = decide_with("owner_policy.dpol", call("DELETE", "/v1.41/containers/web", std::nullopt, true));
    CHECK_FALSE(own.allow);
    CHECK(own.reason == reasons::no_lookups);
    // Other actions need no lookup.
    CHECK(decide_with("resource_policy.dpol", call("GET", "/v1.41/containers/json", std::nullopt, true)).allow);
}

TEST_CASE("plugin: with --docker the target is looked up, then decided on what dockerd said") {
    plugin_settings s;
    s.lookup_nonce = std::string(64, 'n');
    auto prog = program_of("resource_policy.dpol");
    auto first = plugin_decide(*prog, parsed(call("DELETE", "/v1.41/containers/web", std::nullopt, true)), s);
    REQUIRE(first.pending);
    CHECK(first.pending->target);
    REQUIRE(first.pending->items.size() == 1);
    CHECK(first.pending->items[0].path == "/containers/web/json");
    auto answered = [&](unsigned status, std::string body) {
        auto o = first;
        o.pending->items[0].status = status;
        o.pending->items[0].body = std::move(body);
        return plugin_resume(*prog, std::move(o), s);
    };
    // The name the policy reads is dockerd's, not the one the request used.
    auto prod = answered(200, R"({"Id":"0123","Name":"/prod","Config":{"Labels":{}}})");
    CHECK_FALSE(prod.pending);
    CHECK_FALSE(prod.allow);
    CHECK(prod.rule == "no_prod_delete");
    auto web = answered(200, R"({"Id":"0123","Name":"/web","Config":{"Labels":{}}})");
    CHECK(web.allow);
    CHECK(web.rule == "devs");
    // Not found: denied (dockerd resolves the name again and could find one created meanwhile).
    auto missing = answered(404, R"({"message":"No such container: web"})");
    CHECK_FALSE(missing.allow);
    CHECK(missing.reason == "target not found: container web");
    auto broken = answered(500, "oops");
    CHECK_FALSE(broken.allow);
    CHECK(broken.rule == "error");
    auto failed = plugin_resume(*prog, first, s, "cannot connect to dockerd: refused");
    CHECK_FALSE(failed.allow);
    CHECK(failed.reason == "resource lookup failed: cannot connect to dockerd: refused");
}

TEST_CASE("plugin: an exec's target is its container, looked up in a second round") {
    plugin_settings s;
    s.lookup_nonce = std::string(64, 'n');
    auto prog = program_of("resource_policy.dpol");
    auto o = plugin_decide(*prog, parsed(call("DELETE", "/v1.41/containers/e1", std::nullopt, true)), s);
    REQUIRE(o.pending);
    // As if the request had named an exec: the exec's answer leads to its container.
    o.pending->items[0] = lookup_item{"exec", "e1", "/exec/e1/json", 200, R"({"ID":"e1","ContainerID":"c0ffee"})", {}};
    auto second = plugin_resume(*prog, std::move(o), s);
    REQUIRE(second.pending);
    REQUIRE(second.pending->items.size() == 1);
    CHECK(second.pending->items[0].path == "/containers/c0ffee/json");
    second.pending->items[0].status = 200;
    second.pending->items[0].body = R"({"Id":"c0ffee","Name":"/prod","Config":{"Labels":{}}})";
    auto done = plugin_resume(*prog, std::move(second), s);
    CHECK_FALSE(done.pending);
    CHECK(done.rule == "no_prod_delete");
}

// ---- proxy and plugin together ---------------------------------------------

TEST_CASE("plugin: a request the proxy signed is allowed once; forged, altered or replayed ones are denied") {
    const handoff::key k{std::string(32, 's')};
    handoff::signer proxy(k);
    handoff::verifier v(k);
    plugin_settings s;
    s.handoff = &v;
    // The privileged create the policy would deny as `local`: the proxy allowed it for its own caller.
    auto signed_call = [&](const std::string& uri, const std::string& token) {
        auto j = call("POST", uri, fixture("create_privileged_body.json"));
        j["RequestHeaders"]["X-Dockpol-Decision"] = token;
        return j;
    };
    const std::string uri = "/v1.41/containers/create?name=web";
    const auto token = proxy.token("POST", uri);
    auto ok = decide_with("body_policy.dpol", signed_call(uri, token), s);
    CHECK(ok.allow);
    CHECK(ok.rule == "handoff");
    // The same header again, on another target, or made with another key: denied by rule error.
    auto replay = decide_with("body_policy.dpol", signed_call(uri, token), s);
    CHECK_FALSE(replay.allow);
    CHECK(replay.rule == "error");
    CHECK(replay.reason == "hand-off token already used");
    CHECK(replay.msg == "[dockpol] The command 'container_create' denied for user 'local' by rule 'error'");
    auto moved = decide_with("body_policy.dpol", signed_call("/v1.41/containers/create?name=other", proxy.token("POST", uri)), s);
    CHECK_FALSE(moved.allow);
    CHECK(moved.reason == "hand-off signature does not verify");
    handoff::signer stranger(handoff::key{std::string(32, 'x')});
    auto forged = decide_with("body_policy.dpol", signed_call(uri, stranger.token("POST", uri)), s);
    CHECK_FALSE(forged.allow);
    CHECK(forged.reason == "hand-off signature does not verify");
    auto junk = decide_with("body_policy.dpol", signed_call(uri, "yes"), s);
    CHECK_FALSE(junk.allow);
    CHECK(junk.rule == "error");
    // Without --handoff-key the header means nothing: the request is decided as the local user.
    auto plain = decide_with("body_policy.dpol", signed_call(uri, proxy.token("POST", uri)));
    CHECK_FALSE(plain.allow);
    CHECK(plain.rule == "no_priv");
}

TEST_CASE("plugin: the lookup nonce allows the plugin's own inspects and nothing else") {
    plugin_settings s;
    s.lookup_nonce = std::string(64, 'a');
    auto with = [&](std::string method, std::string uri, std::string nonce) {
        auto j = call(std::move(method), std::move(uri));
        j["RequestHeaders"]["X-Dockpol-Lookup"] = std::move(nonce);
        return decide_with("resource_policy.dpol", j, s);
    };
    auto inspect = with("GET", "/containers/web/json", s.lookup_nonce);
    CHECK(inspect.allow);
    CHECK(inspect.rule == "lookup");
    CHECK_FALSE(with("GET", "/containers/web/json", std::string(64, 'b')).allow);
    CHECK_FALSE(with("GET", "/containers/web/json", "a").allow);
    auto del = with("DELETE", "/containers/web", s.lookup_nonce);
    CHECK_FALSE(del.allow);
    CHECK(del.reason == "X-Dockpol-Lookup is the plugin's own, for its inspects only");
    CHECK_FALSE(with("GET", "/containers/web/logs", s.lookup_nonce).allow);
    // A plugin without a nonce (none of its own lookups) allows no such header.
    s.lookup_nonce.clear();
    CHECK_FALSE(with("GET", "/containers/web/json", "").allow);
}

TEST_CASE("plugin: identities that do not add up are denied by rule error") {
    auto j = call("GET", "/v1.41/containers/json", std::nullopt, true);
    j["User"] = "mallory";
    auto o = decide_with("nobody_policy.dpol", j);
    CHECK_FALSE(o.allow);
    CHECK(o.rule == "error");
    CHECK(o.reason == "User does not match the peer certificate's CN");

    auto no_cert = call("GET", "/v1.41/containers/json");
    no_cert["User"] = "alice";
    CHECK(decide_with("nobody_policy.dpol", no_cert).reason == "User is set but no peer certificate was sent");

    auto garbage = call("GET", "/v1.41/containers/json", std::nullopt, true);
    garbage["RequestPeerCertificates"] = json::array({base64("not a certificate")});
    CHECK(decide_with("nobody_policy.dpol", garbage).reason == "the peer certificate is not a PEM certificate");
}

TEST_CASE("plugin: what the proxy refuses with 400 the plugin denies with the same message") {
    auto o = decide_with("nobody_policy.dpol", call("GET", "/v1.41/containers/a%2Fb/json", std::nullopt, true));
    CHECK_FALSE(o.allow);
    CHECK(o.rule == "error");
    CHECK(o.msg.starts_with("[dockpol] bad request: "));

    auto form = call("POST", "/v1.41/containers/create", std::nullopt, true);
    form["RequestHeaders"]["Content-Type"] = "application/x-www-form-urlencoded";
    auto f = decide_with("nobody_policy.dpol", form);
    CHECK_FALSE(f.allow);
    CHECK(f.msg == bad_request_message("form-encoded request body (dockerd would read parameters from it)"));
}

// ---- endpoints and audit ------------------------------------------------------

TEST_CASE("plugin: endpoints answer, and every AuthZReq writes one audit line") {
    policy_store store;
    REQUIRE_FALSE(store.try_replace(bundle_of("body_policy.dpol"), "p.dpb"));
    metrics stats;
    std::vector<std::string> lines;
    plugin_context ctx{store, stats, [&lines](std::string l) { lines.push_back(std::move(l)); }, {}, {}, {1}, {0}};
    ctx.settings.host = "node-1";

    auto act = handle_call(ctx, activate_path, "{}");
    CHECK(act.status == http::status::ok);
    CHECK(json::parse(act.body) == json{{"Implements", {"authz"}}});

    auto allowed = handle_call(ctx, authz_request_path, fixture("authz_req_list_unix.json"));
    CHECK(json::parse(allowed.body) == json{{"Allow", true}});
    auto denied = handle_call(ctx, authz_request_path,
                              call("POST", "/v1.41/containers/create", fixture("create_privileged_body.json"), true).dump());
    CHECK(json::parse(denied.body) ==
          json{{"Allow", false}, {"Msg", "[dockpol] The command 'container_create' denied for user 'alice' by rule 'no_priv'"}});
    auto bad = json::parse(handle_call(ctx, authz_request_path, "{oops").body);
    CHECK(bad["Allow"] == false);
    CHECK(bad["Err"] == "bad plugin request: the plugin request is not JSON");
    CHECK(bad["Msg"] == "[dockpol] bad plugin request: the plugin request is not JSON");

    // The response phase never blocks, and writes no second line.
    CHECK(json::parse(handle_call(ctx, authz_response_path, "{}").body) == json{{"Allow", true}});
    CHECK(handle_call(ctx, "/Nope", "{}").status == http::status::not_found);

    REQUIRE(lines.size() == 3);
    auto a = json::parse(lines[0]);
    CHECK(a["mode"] == "plugin");
    CHECK(a["user"] == "local");
    CHECK(a["host"] == "node-1");
    CHECK(a["action"] == "container_list");
    CHECK(a["path"] == "/containers/json");
    CHECK(a["decision"] == "allow");
    CHECK(a["rule"] == "local_reads");
    CHECK(a["revision"] == "rev-body_policy.dpol");
    auto d = json::parse(lines[1]);
    CHECK(d["decision"] == "deny");
    CHECK(d["rule"] == "no_priv");
    CHECK(d["groups"] == json{"dev", "ops"});
    CHECK(d["status"] == 403);
    auto m = json::parse(lines[2]);
    CHECK(m["decision"] == "deny");
    CHECK(m["rule"] == "error");
    CHECK(m["reason"] == "bad plugin request: the plugin request is not JSON");
    CHECK(stats.requests[0][rt::action_id_of("container_list")].load() == 1);
}

TEST_CASE("plugin: a connection answers calls while keep-alive and denies a call over the size limit unread") {
    policy_store store;
    REQUIRE_FALSE(store.try_replace(bundle_of("body_policy.dpol"), "p.dpb"));
    metrics stats;
    std::vector<std::string> lines;
    plugin_context ctx{store, stats, [&lines](std::string l) { lines.push_back(std::move(l)); }, {}, {}, {1}, {0}};

    // Talks to one session over a socketpair: writes `request`, reads until the session closes.
    auto exchange = [&ctx](const std::string& request) {
        net::io_context ioc;
        unix_protocol::socket server(ioc), client(ioc);
        net::local::connect_pair(server, client);
        std::make_shared<plugin_session>(ctx, std::move(server))->run();
        net::write(client, net::buffer(request));
        std::thread t([&ioc] { ioc.run(); });
        std::string got;
        char buf[4096];
        for (beast::error_code ec;;) {
            auto n = client.read_some(net::buffer(buf), ec);
            if (ec) break;
            got.append(buf, n);
        }
        t.join();
        return got;
    };

    const std::string activate = "POST /Plugin.Activate HTTP/1.1\r\nHost: p\r\nContent-Length: 2\r\n\r\n{}";
    const std::string last = "POST /Plugin.Activate HTTP/1.1\r\nHost: p\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}";
    auto two = exchange(activate + last);
    std::size_t answers = 0;
    const std::string body = "{\"Implements\":[\"authz\"]}";
    for (auto at = two.find(body); at != std::string::npos; at = two.find(body, at + body.size())) ++answers;
    CHECK(answers == 2);
    CHECK(two.find("application/vnd.docker.plugins.v1.2+json") != std::string::npos);

    const std::string huge = "POST /AuthZPlugin.AuthZReq HTTP/1.1\r\nHost: p\r\nContent-Length: " +
                             std::to_string(max_plugin_request_bytes + 1) + "\r\n\r\n";
    auto got = exchange(huge);
    REQUIRE(got.starts_with("HTTP/1.1 200"));
    auto answer = json::parse(got.substr(got.find("\r\n\r\n") + 4));
    CHECK(answer["Allow"] == false);
    CHECK(answer["Err"] == "bad plugin request: the plugin request is larger than 8388608 bytes");
    REQUIRE(lines.size() == 1);
    CHECK(json::parse(lines[0])["decision"] == "deny");

    auto get = exchange("GET /Plugin.Activate HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n");
    CHECK(get.starts_with("HTTP/1.1 405"));
}

// ---- flags --------------------------------------------------------------------

TEST_CASE("plugin: flags come from the shared table; each mode refuses the other's") {
    auto ok = parse_plugin_config({"--socket", "/run/docker/plugins/dockpol.sock", "--bundle", "p.dpb", "--local-user",
                                   "ci", "--local-groups", "dev,ops"});
    REQUIRE(std::holds_alternative<config>(ok));
    const auto& c = std::get<config>(ok);
    CHECK(c.plugin_socket == "/run/docker/plugins/dockpol.sock");
    CHECK(c.local_user == "ci");
    CHECK(c.local_groups == std::vector<std::string>{"dev", "ops"});
    CHECK(std::get<config>(parse_plugin_config({"--socket", "/s", "--bundle", "b"})).local_user == "local");

    auto err = [](const std::vector<std::string>& a) {
        auto r = parse_plugin_config(a);
        REQUIRE(std::holds_alternative<std::string>(r));
        return std::get<std::string>(r);
    };
    CHECK(err({"--bundle", "b"}).starts_with("--socket is required"));
    CHECK(err({"--socket", "rel.sock", "--bundle", "b"}).starts_with("--socket: invalid value"));
    CHECK(err({"--socket", "/s", "--bundle", "b", "--local-groups", "dev,,ops"}).starts_with("--local-groups: invalid value"));
    CHECK(err({"--socket", "/s", "--bundle", "b", "--local-groups", "dev,"}).starts_with("--local-groups: invalid value"));
    // The bounds of a certificate's identity (identity.hpp) hold for local callers too.
    std::string groups = "g0";
    for (std::size_t i = 1; i < flag_limits::max_local_groups; ++i) groups += ",g" + std::to_string(i);
    CHECK(std::get<config>(parse_plugin_config({"--socket", "/s", "--bundle", "b", "--local-groups", groups})).local_groups.size() ==
          max_groups);
    CHECK(err({"--socket", "/s", "--bundle", "b", "--local-groups", groups + ",one_more"}).ends_with("use at most 64 groups"));
    const std::string longest(flag_limits::max_local_name_bytes, 'u');
    CHECK(std::get<config>(parse_plugin_config({"--socket", "/s", "--bundle", "b", "--local-user", longest})).local_user == longest);
    CHECK(err({"--socket", "/s", "--bundle", "b", "--local-user", longest + "u"}).starts_with("--local-user: invalid value"));
    CHECK(flag_limits::max_local_name_bytes == max_identity_text);
    CHECK(err({"--socket", "/s", "--bundle", "b", "--listen", "0.0.0.0:1"}) ==
          "--listen is not a flag of `dockpold plugin` (see dockpold --help)");
    auto proxy = parse_config({"--socket", "/s"});
    REQUIRE(std::holds_alternative<std::string>(proxy));
    CHECK(std::get<std::string>(proxy) == "--socket is a flag of `dockpold plugin` (see dockpold --help)");

    const auto h = plugin_flags_help();
    CHECK(h.find("  --socket PATH") != std::string::npos);
    CHECK(h.find("  --local-user NAME") != std::string::npos);
    CHECK(h.find("(default local)") != std::string::npos);
    CHECK(h.find("  --bundle FILE") != std::string::npos);
    CHECK(h.find("--listen") == std::string::npos);
    CHECK(flags_help().find("  --local-groups G,...") != std::string::npos);
}

} // namespace plugin_test
