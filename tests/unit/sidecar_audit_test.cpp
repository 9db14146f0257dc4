// Audit lines: one JSON object per line, keys and types of docs/request-model.md.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "audit_log.hpp"
#include "dockpol/rt/audit_chain.hpp"
#include "dockpol/rt/signature.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace sidecar_audit_test {

using namespace dockpol::sidecar;

namespace {

audit_event sample(const std::vector<std::string>& groups) {
    audit_event e;
    e.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795628587206));
    e.id = "00000000000000ff";
    e.user = "alice";
    e.groups = &groups;
    e.peer = "127.0.0.1:50000";
    e.host = "prod-web-1";
    e.method = "DELETE";
    e.path = "/containers/web";
    e.action = "container_delete";
    e.resource = "web";
    e.decision = "deny";
    e.rule = "no_delete";
    e.revision = "r1";
    e.status = 403;
    e.bytes_in = 12;
    e.bytes_out = 99;
    e.duration_ms = 1.25;
    return e;
}

} // namespace

TEST_CASE("time is RFC 3339 UTC with milliseconds") {
    CHECK(rfc3339_ms(std::chrono::system_clock::time_point(std::chrono::milliseconds(1795628587206))) ==
          "2026-11-25T17:43:07.206Z");
    CHECK(rfc3339_ms(std::chrono::system_clock::time_point(std::chrono::milliseconds(0))) == "1970-01-01T00:00:00.000Z");
}

TEST_CASE("an audit line has every key, in order, with the right types") {
    std::vector<std::string> groups{"dev", "ops"};
    auto line = format_audit_line(sample(groups));
    REQUIRE(line.back() == '\n');
    CHECK(std::count(line.begin(), line.end(), '\n') == 1);
    auto j = nlohmann::ordered_json::parse(line);
    std::vector<std::string> keys;
    for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
    CHECK(keys == std::vector<std::string>{"time", "id", "user", "groups", "peer", "host", "method", "path", "action",
                                           "resource", "decision", "rule", "revision", "status", "bytes_in",
                                           "bytes_out", "duration_ms"});
    CHECK(j["time"] == "2026-11-25T17:43:07.206Z");
    CHECK(j["groups"] == nlohmann::ordered_json::array({"dev", "ops"}));
    CHECK(j["status"] == 403);
    CHECK(j["bytes_in"] == 12);
    CHECK(j["bytes_out"] == 99);
    CHECK(j["duration_ms"].get<double>() == Approx(1.25));
    CHECK(j["rule"] == "no_delete");
}

TEST_CASE("reason appears only when set, and hostile text stays inside strings") {
    std::vector<std::string> groups{"a\"b"};
    auto e = sample(groups);
    e.reason = "body: duplicate key \"Image\"\n";
    e.path = "/x\x01y";
    auto j = nlohmann::json::parse(format_audit_line(e));
    CHECK(j["reason"] == "body: duplicate key \"Image\"\n");
    CHECK(j["path"] == "/x\x01y");
    CHECK(j["groups"][0] == "a\"b");
    e.reason = {};
    CHECK_FALSE(nlohmann::json::parse(format_audit_line(e)).contains("reason"));
}

namespace {

namespace chain = dockpol::rt::audit_chain;

std::string temp_path() {
    char tmpl[] = "/tmp/dockpol-audit-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    close(fd);
    std::remove(tmpl);   // the writer creates it, as on a fresh host
    return tmpl;
}

std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The file's lines without their newlines; the file must end with one.
std::vector<std::string> lines_of(const std::string& p) {
    const auto text = slurp(p);
    REQUIRE((text.empty() || text.back() == '\n'));
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

// Polls until the file has `n` lines (the writer flushes on its own schedule).
void wait_for_lines(const std::string& p, std::size_t n) {
    for (int i = 0; i < 2000; ++i) {
        const auto t = slurp(p);
        if (static_cast<std::size_t>(std::count(t.begin(), t.end(), '\n')) >= n) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    FAIL("the writer did not write " << n << " lines to " << p);
}

// Every line's `prev` is the hash of the line before it; the first one's is `first_prev`.
void check_links(const std::vector<std::string>& lines, std::string first_prev) {
    std::string expected = std::move(first_prev);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        INFO("line " << i + 1 << ": " << lines[i]);
        auto j = nlohmann::json::parse(lines[i]);
        CHECK(j["prev"] == expected);
        expected = chain::line_hash(lines[i]);
    }
}

nlohmann::json checkpoint_at(const std::vector<std::string>& lines, std::size_t i) {
    REQUIRE(i < lines.size());
    auto j = nlohmann::json::parse(lines[i]);
    INFO(lines[i]);
    REQUIRE(j.contains("checkpoint"));
    return j["checkpoint"];
}

} // namespace

TEST_CASE("the writer chains every line and seals every N lines and at stop") {
    const auto path = temp_path();
    metrics m;
    {
        audit_log log(path, m);
        log.set_checkpoint_interval(3, std::chrono::hours(1));
        REQUIRE_FALSE(log.open());
        log.start();
        for (int i = 1; i <= 7; ++i) log.push("{\"n\":" + std::to_string(i) + "}\n");
        log.stop();
    }
    const auto lines = lines_of(path);
    // start, 1 2 3, periodic, 4 5 6, periodic, 7, stop
    REQUIRE(lines.size() == 11);
    check_links(lines, std::string(chain::genesis_prev));
    CHECK(nlohmann::json::parse(lines[1]) == nlohmann::json::parse(
                                                 "{\"n\":1,\"prev\":\"" + chain::line_hash(lines[0]) + "\"}"));
    struct expected { std::size_t at; const char* kind; int seq, lines; };
    for (auto e : {expected{0, "start", 0, 0}, expected{4, "periodic", 1, 3}, expected{8, "periodic", 2, 6},
                   expected{10, "stop", 3, 7}}) {
        auto c = checkpoint_at(lines, e.at);
        CHECK(c["kind"] == e.kind);
        CHECK(c["seq"] == e.seq);
        CHECK(c["lines"] == e.lines);
        CHECK(c["dropped"] == 0);
        CHECK(c["time"].get<std::string>().size() == 24);
        CHECK_FALSE(c.contains("key_id"));   // no --audit-key: unsigned
        CHECK(lines[e.at].find("\"sig\"") == std::string::npos);
    }
    // Audit lines are only the requests' own: the checkpoints sit between them, not inside.
    for (std::size_t i : {1u, 2u, 3u, 5u, 6u, 7u, 9u}) CHECK_FALSE(nlohmann::json::parse(lines[i]).contains("checkpoint"));
    std::remove(path.c_str());
}

TEST_CASE("with a key every checkpoint is signed over its line without the sig") {
    const auto path = temp_path();
    const auto key_path = path + ".key";
    auto sk = std::get<dockpol::rt::signing_key>(dockpol::rt::generate_signing_key());
    auto other = std::get<dockpol::rt::signing_key>(dockpol::rt::generate_signing_key());
    {
        std::ofstream k(key_path);
        k << dockpol::rt::signing_key_pem(sk);
    }
    metrics m;
    {
        audit_log log(path, m);
        REQUIRE_FALSE(log.load_key(key_path));
        log.set_checkpoint_interval(2, std::chrono::hours(1));
        REQUIRE_FALSE(log.open());
        log.start();
        for (int i = 0; i < 3; ++i) log.push("{\"n\":1}\n");
        log.stop();
    }
    const auto lines = lines_of(path);
    REQUIRE(lines.size() == 6);   // start, 1, 2, periodic, 3, stop
    check_links(lines, std::string(chain::genesis_prev));
    int signed_checkpoints = 0;
    for (const auto& l : lines) {
        if (!nlohmann::json::parse(l).contains("checkpoint")) continue;
        ++signed_checkpoints;
        CHECK(nlohmann::json::parse(l)["checkpoint"]["key_id"] == sk.key_id);
        auto parts = chain::split_signature(l);
        CHECK(parts.sig_base64.size() == 88);
        CHECK(chain::signed_by(parts, dockpol::rt::public_of(sk)));
        CHECK_FALSE(chain::signed_by(parts, dockpol::rt::public_of(other)));
        // One changed byte in the signed part and the signature no longer holds.
        auto altered = parts;
        altered.unsigned_line[altered.unsigned_line.find("\"lines\":") + 8] ^= 1;
        CHECK_FALSE(chain::signed_by(altered, dockpol::rt::public_of(sk)));
    }
    CHECK(signed_checkpoints == 3);
    std::remove(path.c_str());
    std::remove(key_path.c_str());
}

TEST_CASE("a key file that is missing or not an Ed25519 private key is refused with its path") {
    metrics m;
    audit_log log("/tmp/unused-audit.log", m);
    auto missing = log.load_key("/nonexistent/audit.pem");
    REQUIRE(missing);
    CHECK(missing->find("/nonexistent/audit.pem") != std::string::npos);
    const auto junk = temp_path();
    {
        std::ofstream k(junk);
        k << "not a key\n";
    }
    auto bad = log.load_key(junk);
    REQUIRE(bad);
    CHECK(bad->find("not a PEM private key") != std::string::npos);
    std::remove(junk.c_str());
}

TEST_CASE("rotation closes the old file and opens the new one with a checkpoint chained to it") {
    const auto path = temp_path();
    metrics m;
    {
        audit_log log(path, m);
        REQUIRE_FALSE(log.open());
        log.start();
        log.push("{\"n\":1}\n");
        log.push("{\"n\":2}\n");
        wait_for_lines(path, 3);
        // logrotate moves the file away, then signals: the next line goes to a new file at the same path.
        REQUIRE(std::rename(path.c_str(), (path + ".1").c_str()) == 0);
        log.request_reopen();
        wait_for_lines(path, 1);
        log.push("{\"n\":3}\n");
        log.stop();
    }
    const auto old_lines = lines_of(path + ".1");
    const auto new_lines = lines_of(path);
    REQUIRE(old_lines.size() == 4);   // start, 1, 2, close
    REQUIRE(new_lines.size() == 3);   // rotate, 3, stop
    check_links(old_lines, std::string(chain::genesis_prev));
    check_links(new_lines, chain::line_hash(old_lines.back()));
    CHECK(nlohmann::json::parse(old_lines[1])["n"] == 1);
    CHECK(nlohmann::json::parse(new_lines[1])["n"] == 3);
    auto close = checkpoint_at(old_lines, 3), rotate = checkpoint_at(new_lines, 0), stop = checkpoint_at(new_lines, 2);
    CHECK(close["kind"] == "close");
    CHECK(close["lines"] == 2);
    CHECK(rotate["kind"] == "rotate");
    CHECK(rotate["lines"] == 2);
    CHECK(rotate["seq"] == close["seq"].get<int>() + 1);
    CHECK(stop["kind"] == "stop");
    CHECK(stop["lines"] == 3);
    std::remove((path + ".1").c_str());
    std::remove(path.c_str());
}

TEST_CASE("a reopen of the same file (not renamed) adds no checkpoints") {
    const auto path = temp_path();
    metrics m;
    {
        audit_log log(path, m);
        REQUIRE_FALSE(log.open());
        log.start();
        log.push("{\"n\":1}\n");
        wait_for_lines(path, 2);
        log.request_reopen();
        log.push("{\"n\":2}\n");
        log.stop();
    }
    const auto lines = lines_of(path);
    REQUIRE(lines.size() == 4);   // start, 1, 2, stop
    check_links(lines, std::string(chain::genesis_prev));
    std::remove(path.c_str());
}

TEST_CASE("a restart appending to the same file continues its chain") {
    const auto path = temp_path();
    metrics m;
    for (int run = 0; run < 2; ++run) {
        audit_log log(path, m);
        REQUIRE_FALSE(log.open());
        log.start();
        log.push("{\"n\":1}\n");
        log.stop();
    }
    const auto lines = lines_of(path);
    REQUIRE(lines.size() == 6);   // start, 1, stop, start, 1, stop
    check_links(lines, std::string(chain::genesis_prev));
    CHECK(checkpoint_at(lines, 3)["kind"] == "start");
    CHECK(checkpoint_at(lines, 5)["lines"] == 1);
    std::remove(path.c_str());
}

TEST_CASE("lines the full queue drops are counted into the next checkpoint") {
    const auto path = temp_path();
    metrics m;
    {
        audit_log log(path, m);
        REQUIRE_FALSE(log.open());
        // Before the writer runs the queue fills: the limit holds and every extra line is a counted drop.
        for (std::size_t i = 0; i < audit_queue_limit + 5; ++i) log.push("{\"x\":1}\n");
        CHECK(m.audit_dropped.load() == 5);
        log.start();
        log.stop();
    }
    const auto lines = lines_of(path);
    check_links(lines, std::string(chain::genesis_prev));
    auto last = checkpoint_at(lines, lines.size() - 1);
    CHECK(last["kind"] == "stop");
    CHECK(last["lines"] == audit_queue_limit);
    CHECK(last["dropped"] == 5);
    // start + every line + one periodic checkpoint per checkpoint_every_lines + stop
    CHECK(lines.size() == 1 + audit_queue_limit + audit_queue_limit / chain::checkpoint_every_lines + 1);
    std::remove(path.c_str());
}

TEST_CASE("a quiet log is sealed after the checkpoint interval, not only at stop") {
    const auto path = temp_path();
    metrics m;
    audit_log log(path, m);
    log.set_checkpoint_interval(1000, std::chrono::milliseconds(50));
    REQUIRE_FALSE(log.open());
    log.start();
    log.push("{\"n\":1}\n");
    wait_for_lines(path, 3);   // start, 1, periodic — without any further line
    const auto lines = lines_of(path);
    CHECK(checkpoint_at(lines, 2)["kind"] == "periodic");
    CHECK(checkpoint_at(lines, 2)["lines"] == 1);
    // Nothing new: no further checkpoint while idle.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(lines_of(path).size() == 3);
    log.stop();
    CHECK(lines_of(path).size() == 4);
    std::remove(path.c_str());
}

TEST_CASE("an unopenable audit path is reported with the path") {
    metrics m;
    audit_log log("/nonexistent-dir/audit.log", m);
    auto err = log.open();
    REQUIRE(err);
    CHECK(err->find("/nonexistent-dir/audit.log") != std::string::npos);
}

TEST_CASE("target_id follows resource only when an id was forwarded in place of the name") {
    std::vector<std::string> groups{"dev"};
    auto e = sample(groups);
    e.target_id = "4f1c0ffee";
    auto j = nlohmann::ordered_json::parse(format_audit_line(e));
    std::vector<std::string> keys;
    for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
    auto at = std::find(keys.begin(), keys.end(), "resource");
    REQUIRE(at != keys.end());
    CHECK(*(at + 1) == "target_id");
    CHECK(j["resource"] == "web");
    CHECK(j["target_id"] == "4f1c0ffee");
    e.target_id = {};
    CHECK_FALSE(nlohmann::json::parse(format_audit_line(e)).contains("target_id"));
}

} // namespace sidecar_audit_test
