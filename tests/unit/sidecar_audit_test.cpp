// Audit lines: one JSON object per line, keys and types of docs/request-model.md.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "audit_log.hpp"

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

TEST_CASE("the writer appends lines, reopens on request and counts drops") {
    char tmpl[] = "/tmp/dockpol-audit-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    close(fd);
    std::string path = tmpl;
    metrics m;
    {
        audit_log log(path, m);
        REQUIRE_FALSE(log.open());
        log.start();
        log.push("{\"n\":1}\n");
        log.push("{\"n\":2}\n");
        // logrotate moves the file away, then signals: the next line goes to a new file at the same path.
        while (true) {
            std::ifstream probe(path);
            std::stringstream got;
            got << probe.rdbuf();
            if (got.str().size() == 16) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        REQUIRE(std::rename(path.c_str(), (path + ".1").c_str()) == 0);
        log.request_reopen();
        log.push("{\"n\":3}\n");
        log.stop();
    }
    auto slurp = [](const std::string& p) {
        std::ifstream in(p);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    };
    CHECK(slurp(path + ".1") == "{\"n\":1}\n{\"n\":2}\n");
    CHECK(slurp(path) == "{\"n\":3}\n");
    std::remove((path + ".1").c_str());

    // Without a running writer the queue fills: the limit holds and every extra line is a counted drop.
    audit_log stalled(path, m);
    for (std::size_t i = 0; i < audit_queue_limit + 5; ++i) stalled.push("x\n");
    CHECK(m.audit_dropped.load() == 5);
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
