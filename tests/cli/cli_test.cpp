// dockpolc as a user runs it: the built binary (path in $DOCKPOLC) through
// every subcommand, asserting exit codes and outputs. Commands run with the
// fixtures directory as working directory, so file names in diagnostics are
// the short names given on the command line; outputs go to a fresh temp dir.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <chrono>
#include <thread>

#include "audit_log.hpp"
#include "dockpol/rt/limits.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string fixtures = std::string(DOCKPOL_SOURCE_ROOT) + "/tests/cli/fixtures";
const std::string examples = std::string(DOCKPOL_SOURCE_ROOT) + "/examples/policies";

struct run_result {
    int code = -1;
    std::string out, err;
};

std::string drain(int fd) {
    std::string s;
    ::lseek(fd, 0, SEEK_SET);
    char buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) s.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return s;
}

// Runs dockpolc with `args` in directory `cwd`, capturing stdout and stderr.
run_result run(const std::vector<std::string>& args, const std::string& cwd = fixtures) {
    const char* exe = std::getenv("DOCKPOLC");
    REQUIRE(exe != nullptr);
    const int out_fd = ::memfd_create("out", 0), err_fd = ::memfd_create("err", 0);
    REQUIRE(out_fd >= 0);
    REQUIRE(err_fd >= 0);
    std::vector<std::string> argv_s{exe};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (::chdir(cwd.c_str()) != 0) ::_exit(127);
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        ::execv(exe, argv.data());
        ::_exit(127);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    run_result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = drain(out_fd);
    r.err = drain(err_fd);
    return r;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void spit(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary);
    out << data;
}

// A fresh directory for one test's outputs, removed afterwards.
struct temp_dir {
    std::string path;
    temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "dockpolc-cli-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string operator/(const std::string& name) const { return path + "/" + name; }
};

std::string fx(const std::string& name) { return fixtures + "/" + name; }

} // namespace

TEST_CASE("version, help and usage errors") {
    auto v = run({"--version"});
    CHECK(v.code == 0);
    CHECK(v.out == std::string("dockpolc ") + DOCKPOL_VERSION + "\n");

    auto h = run({"--help"});
    CHECK(h.code == 0);
    CHECK(h.out.rfind("usage: dockpolc COMMAND", 0) == 0);

    auto none = run({});
    CHECK(none.code == 2);
    CHECK(none.out.empty());
    CHECK(none.err.rfind("usage: dockpolc", 0) == 0);

    auto unknown = run({"frobnicate"});
    CHECK(unknown.code == 2);
    CHECK(unknown.err == "dockpolc: unknown command \"frobnicate\" (see dockpolc --help)\n");

    auto bad_opt = run({"check", "ok.dpol", "--nope"});
    CHECK(bad_opt.code == 2);
    CHECK(bad_opt.err == "dockpolc: check: unknown option --nope\n");

    auto no_out = run({"build", "ok.dpol"});
    CHECK(no_out.code == 2);
    CHECK(no_out.err == "dockpolc: build: -o BUNDLE is required\n");

    auto bad_format = run({"check", "ok.dpol", "--format", "xml"});
    CHECK(bad_format.code == 2);
    CHECK(bad_format.err == "dockpolc: unknown --format \"xml\" (expected text or json)\n");

    auto twice = run({"fmt", "ok.dpol", "--write", "--check"});
    CHECK(twice.code == 2);

    auto no_input = run({"eval", "ok.dpol"});
    CHECK(no_input.code == 2);
    CHECK(no_input.err == "dockpolc: eval: --input REQUEST.json is required\n");

    auto no_cases = run({"test", "ok.dpol"});
    CHECK(no_cases.code == 2);
}

TEST_CASE("missing and oversized input files are I/O errors (exit 2)") {
    auto missing = run({"check", "nope.dpol"});
    CHECK(missing.code == 2);
    CHECK(missing.err == "dockpolc: cannot read nope.dpol: No such file or directory\n");

    auto dir = run({"check", "."});
    CHECK(dir.code == 2);
    CHECK(dir.err == "dockpolc: cannot read .: Is a directory\n");

    // max_key_file_bytes (runtime/dockpol/rt/limits.def): a "key" over it is refused before anyone parses it.
    temp_dir t;
    spit(t / "big.pem", std::string(dockpol::rt::limits::max_key_file_bytes + 1, 'A'));
    auto big = run({"build", "ok.dpol", "-o", t / "x.dpb", "--sign", t / "big.pem"});
    CHECK(big.code == 2);
    CHECK(big.err == "dockpolc: cannot read " + (t / "big.pem") + ": larger than " +
                         std::to_string(dockpol::rt::limits::max_key_file_bytes) + " bytes (max_key_file_bytes)\n");
    CHECK_FALSE(fs::exists(t / "x.dpb"));

    // max_request_bytes: a request file over 16 MiB is refused while reading.
    spit(t / "big.json", std::string((16u << 20) + 1, ' '));
    auto big_req = run({"eval", "ok.dpol", "--input", t / "big.json"});
    CHECK(big_req.code == 2);
    CHECK(big_req.err == "dockpolc: cannot read " + (t / "big.json") + ": larger than 16777216 bytes (max_request_bytes)\n");
}

// dockpolc reads a bundle with the runtime's own bound (rt::limits), so what
// it refuses for size is exactly what dockpold would refuse.
TEST_CASE("the CLI's bundle limit is the runtime's: limit + 1 bytes is refused, naming the value") {
    temp_dir t;
    const std::size_t limit = dockpol::rt::limits::max_bundle_bytes;
    const std::string magic = "\x89" "DPB\r\n\x1a\n";
    spit(t / "over.dpb", magic + std::string(limit + 1 - magic.size(), '\0'));
    auto over = run({"inspect", t / "over.dpb"});
    CHECK(over.code == 2);
    CHECK(over.err == "dockpolc: cannot read " + (t / "over.dpb") + ": larger than " + std::to_string(limit) +
                          " bytes (max_bundle_bytes)\n");
    // At the limit the file is read and judged by the loader (here: a bad header), not by its size.
    spit(t / "at.dpb", magic + std::string(limit - magic.size(), '\0'));
    auto at = run({"inspect", t / "at.dpb"});
    CHECK(at.code == 2);
    CHECK(at.err.find(": bundle rejected: ") != std::string::npos);
    CHECK(at.err.find("larger than") == std::string::npos);

    // --data files: the compiler's max_data_bytes, as `dockpolc limits` reports it.
    auto js = json::parse(run({"limits", "--format", "json"}).out);
    std::size_t data_limit = 0;
    for (const auto& row : js)
        if (row["table"] == "compiler" && row["name"] == "max_data_bytes") data_limit = row["value"];
    REQUIRE(data_limit > 0);
    spit(t / "data.json", std::string(data_limit + 1, ' '));
    auto data = run({"check", "ok.dpol", "--data", t / "data.json"});
    CHECK(data.code == 2);
    CHECK(data.err == "dockpolc: cannot read " + (t / "data.json") + ": larger than " + std::to_string(data_limit) +
                          " bytes (max_data_bytes)\n");
}

TEST_CASE("limits: the runtime and compiler tables as JSON, text and Markdown") {
    auto js = run({"limits", "--format", "json"});
    REQUIRE(js.code == 0);
    const auto rows = json::parse(js.out);
    std::set<std::string> names;
    for (const auto& row : rows) {
        const std::string key = row["table"].get<std::string>() + "." + row["name"].get<std::string>();
        CHECK(names.insert(key).second);   // one row per limit and table
        CHECK((row["unit"] == "bytes" || row["unit"] == "count"));
        CHECK_FALSE(row["reason"].get<std::string>().empty());
    }
    auto value_of = [&](const std::string& table, const std::string& name) {
        for (const auto& row : rows)
            if (row["table"] == table && row["name"] == name) return row["value"].get<std::size_t>();
        return std::size_t{0};
    };
    CHECK(value_of("runtime", "max_bundle_bytes") == dockpol::rt::limits::max_bundle_bytes);
    CHECK(value_of("runtime", "max_target_bytes") == dockpol::rt::limits::max_target_bytes);
    // A limit both share is in the runtime's table only.
    CHECK(value_of("compiler", "max_string_bytes") == 0);
    auto text = run({"limits"});
    CHECK(text.code == 0);
    CHECK(text.out.find("runtime.max_bundle_bytes ") != std::string::npos);
    CHECK(run({"limits", "--format", "yaml"}).code == 2);
    CHECK(run({"limits", "extra"}).code == 2);
}

TEST_CASE("check: clean policy, errors as text and as exact JSON") {
    auto ok = run({"check", "ok.dpol"});
    CHECK(ok.code == 0);
    CHECK(ok.out.empty());

    auto ok_json = run({"check", "ok.dpol", "--format", "json"});
    CHECK(ok_json.code == 0);
    CHECK(json::parse(ok_json.out) == json::parse(R"({"diagnostics":[]})"));

    auto text = run({"check", "errors.dpol"});
    CHECK(text.code == 1);
    CHECK(text.out.empty());
    CHECK(text.err.rfind("errors.dpol:4:", 0) == 0);
    CHECK(text.err.find("dp-unknown-action") != std::string::npos);

    auto js = run({"check", "errors.dpol", "--format", "json"});
    CHECK(js.code == 1);
    const json doc = json::parse(js.out);
    REQUIRE(doc.is_object());
    REQUIRE(doc.size() == 1);
    REQUIRE(doc["diagnostics"].is_array());
    REQUIRE(doc["diagnostics"].size() == 1);
    const json& d = doc["diagnostics"][0];
    CHECK(d["code"] == "dp-unknown-action");
    CHECK(d["severity"] == "error");
    CHECK(d["file"] == "errors.dpol");
    CHECK(d["line"] == 4);
    CHECK(d["column"] == 24);
    CHECK(d["message"] == "unknown action \"contianer_list\"");
    CHECK(d["help"] == "did you mean \"container_list\"?");
    // The span's end (exclusive): `"contianer_list"` is 16 code points.
    CHECK(d["end_line"] == 4);
    CHECK(d["end_column"] == 40);
    CHECK(d.size() == 9);
}

TEST_CASE("--color: always, never, and a wrong value; the text ends with a summary line") {
    auto always = run({"check", "--color", "always", "errors.dpol"});
    CHECK(always.code == 1);
    CHECK(always.err.find("\x1b[1;31merror[dp-unknown-action]\x1b[0m") != std::string::npos);
    auto never = run({"check", "errors.dpol", "--color=never"});
    CHECK(never.err.find('\x1b') == std::string::npos);
    CHECK(never.err.ends_with("\n1 error\n"));
    // Not a terminal: auto means no colour.
    CHECK(run({"check", "errors.dpol"}).err.find('\x1b') == std::string::npos);
    auto bad = run({"check", "errors.dpol", "--color", "blue"});
    CHECK(bad.code == 2);
    CHECK(bad.err == "dockpolc: unknown --color \"blue\" (expected auto, always or never)\n");
}

TEST_CASE("--werror turns warnings into failure") {
    auto plain = run({"check", "warn.dpol"});
    CHECK(plain.code == 0);
    CHECK(plain.err.find("dp-unreachable-rule") != std::string::npos);

    auto strict = run({"check", "--werror", "warn.dpol"});
    CHECK(strict.code == 1);

    temp_dir t;
    auto build = run({"build", "warn.dpol", "--werror", "-o", t / "w.dpb"});
    CHECK(build.code == 1);
    CHECK_FALSE(fs::exists(t / "w.dpb"));

    auto js = run({"check", "warn.dpol", "--format", "json", "--werror"});
    CHECK(js.code == 1);
    CHECK(json::parse(js.out)["diagnostics"][0]["severity"] == "warning");
}

TEST_CASE("--data files become constants; a bad one is dp-data") {
    auto missing = run({"check", "data.dpol"});
    CHECK(missing.code == 1);
    CHECK(missing.err.find("dp-undefined-name") != std::string::npos);

    CHECK(run({"check", "data.dpol", "--data", "groups.json"}).code == 0);

    auto bad = run({"check", "data.dpol", "--data", "groups_bad.json", "--format", "json"});
    CHECK(bad.code == 1);
    bool saw_data = false;
    const json bad_doc = json::parse(bad.out);
    for (const auto& d : bad_doc["diagnostics"])
        if (d["code"] == "dp-data" && d["file"] == "groups_bad.json") saw_data = true;
    CHECK(saw_data);

    auto unreadable = run({"check", "data.dpol", "--data", "nope.json"});
    CHECK(unreadable.code == 2);
    CHECK(unreadable.err == "dockpolc: cannot read nope.json: No such file or directory\n");

    // The constant reaches evaluation: an `sre` member is an admin.
    temp_dir t;
    spit(t / "req.json", R"({"user":"sam","groups":["sre"],"method":"GET","path":"/containers/json"})");
    auto ev = run({"eval", "data.dpol", "--data", "groups.json", "--input", t / "req.json", "--format", "json"});
    CHECK(ev.code == 0);
    CHECK(json::parse(ev.out)["rule"] == "admins");
}

TEST_CASE("build then inspect: manifest, rules and disassembly") {
    temp_dir t;
    auto b = run({"build", "ok.dpol", "-o", t / "ok.dpb", "--revision", "r1"});
    REQUIRE(b.code == 0);
    CHECK(b.out == "wrote " + (t / "ok.dpb") + ": 4 rules, revision r1\n");

    auto js = run({"inspect", t / "ok.dpb", "--format", "json"});
    REQUIRE(js.code == 0);
    const json j = json::parse(js.out);
    CHECK(j["manifest"]["revision"] == "r1");
    REQUIRE(j["manifest"]["sources"].size() == 1);
    CHECK(j["manifest"]["sources"][0]["file"] == "ok.dpol");
    CHECK(j["manifest"]["sources"][0]["sha256"].get<std::string>().size() == 64);
    CHECK(j["signature"].is_null());
    CHECK(j["default"] == "deny");
    const json rules = json::parse(R"([
        {"name":"no_privileged","effect":"deny","own":false,"position":{"file":"ok.dpol","line":4,"column":1}},
        {"name":"admins","effect":"allow","own":false,"position":{"file":"ok.dpol","line":7,"column":1}},
        {"name":"devs_prod_readonly","effect":"allow","own":false,"position":{"file":"ok.dpol","line":10,"column":1}},
        {"name":"builtin_ping","effect":"allow","own":false,"position":null}])");
    CHECK(j["rules"] == rules);
    CHECK(j["owner_label"].is_null());

    auto text = run({"inspect", t / "ok.dpb"});
    REQUIRE(text.code == 0);
    // The signature line, then the disassembly with the manifest and every rule.
    CHECK(text.out.rfind("signature: none\n", 0) == 0);
    CHECK(text.out.find("\"r1\"") != std::string::npos);
    for (const char* rule : {"no_privileged", "admins", "devs_prod_readonly", "builtin_ping"})
        CHECK(text.out.find(rule) != std::string::npos);

    // Without --revision the revision is the source digest, the same every time.
    auto b2 = run({"build", "ok.dpol", "-o", t / "ok2.dpb"});
    REQUIRE(b2.code == 0);
    auto j2 = json::parse(run({"inspect", t / "ok2.dpb", "--format", "json"}).out);
    CHECK_FALSE(j2["manifest"]["revision"].get<std::string>().empty());
    REQUIRE(run({"build", "ok.dpol", "-o", t / "ok3.dpb"}).code == 0);
    CHECK(slurp(t / "ok2.dpb") == slurp(t / "ok3.dpb"));
}

TEST_CASE("ownership: inspect shows the owner label and `allow own`; fmt prints them; eval binds resource.owner") {
    temp_dir t;
    REQUIRE(run({"check", "ownership.dpol"}).code == 0);
    REQUIRE(run({"build", "ownership.dpol", "-o", t / "own.dpb", "--revision", "r1"}).code == 0);
    const json j = json::parse(run({"inspect", t / "own.dpb", "--format", "json"}).out);
    CHECK(j["owner_label"] == "dockpol.owner");
    REQUIRE(j["rules"].size() == 4);
    CHECK(j["rules"][0]["own"] == false);
    CHECK(j["rules"][1]["own"] == true);
    CHECK(j["rules"][1]["effect"] == "allow");
    auto text = run({"inspect", t / "own.dpb"});
    REQUIRE(text.code == 0);
    CHECK(text.out.find("owner_label \"dockpol.owner\"\n") != std::string::npos);
    CHECK(text.out.find("rule 1 devs_own (allow own) at ownership.dpol:7:1\n") != std::string::npos);
    CHECK(text.out.find("slot_eq       slot 1 (resource.owner) slot 2 (user)") != std::string::npos);
    CHECK(run({"fmt", "--check", "ownership.dpol"}).code == 0);

    // resource.owner is the target's value of the owner label.
    spit(t / "req.json", R"({"user":"bruce","groups":[],"host":"h","method":"GET","path":"/v1.41/containers/web/json",
                             "resource":{"name":"web","labels":{"dockpol.owner":"bruce"}}})");
    auto ev = run({"eval", "ownership.dpol", "--input", t / "req.json", "--format", "json"});
    REQUIRE(ev.code == 0);
    CHECK(json::parse(ev.out)["rule"] == "mine");
    spit(t / "req2.json", R"({"user":"bruce","groups":[],"host":"h","method":"GET","path":"/v1.41/containers/web/json",
                              "resource":{"name":"web","labels":{"dockpol.owner":"alice"}}})");
    ev = run({"eval", "ownership.dpol", "--input", t / "req2.json", "--format", "json"});
    REQUIRE(ev.code == 0);
    CHECK(json::parse(ev.out)["rule"] == "default");

    // dp-own-action through the CLI, as JSON.
    spit(t / "bad.dpol", "owner label \"dockpol.owner\"\nrule bad: allow own if action == \"system_info\"\n");
    auto bad = run({"check", t / "bad.dpol", "--format", "json"});
    CHECK(bad.code == 1);
    const json d = json::parse(bad.out)["diagnostics"];
    REQUIRE(d.size() == 2);   // the note about `default`, then the error
    CHECK(d[1]["code"] == "dp-own-action");
    CHECK(d[1]["line"] == 2);
    CHECK(d[1]["column"] == 17);
}

TEST_CASE("a rejected bundle is exit 2 with the loader's reason") {
    temp_dir t;
    REQUIRE(run({"build", "ok.dpol", "-o", t / "ok.dpb"}).code == 0);
    std::string bytes = slurp(t / "ok.dpb");
    bytes[bytes.size() / 2] ^= 0x01;
    spit(t / "bad.dpb", bytes);

    auto ins = run({"inspect", t / "bad.dpb"});
    CHECK(ins.code == 2);
    CHECK(ins.out.empty());
    CHECK(ins.err.rfind("dockpolc: " + (t / "bad.dpb") + ": bundle rejected: ", 0) == 0);

    auto ev = run({"eval", t / "bad.dpb", "--input", "req_admin_list.json"});
    CHECK(ev.code == 2);
    CHECK(ev.err.find("bundle rejected") != std::string::npos);

    spit(t / "text.dpb", "default deny\n");
    auto magic = run({"inspect", t / "text.dpb"});
    CHECK(magic.code == 2);
    CHECK(magic.err.find("bundle rejected") != std::string::npos);
}

TEST_CASE("keygen, signed build, inspect shows the key id") {
    temp_dir t;
    auto k = run({"keygen", "-o", t / "key.pem", "--pub", t / "pub.pem"});
    REQUIRE(k.code == 0);
    REQUIRE(k.out.size() == std::string("key id ").size() + 16 + 1);
    const std::string key_id = k.out.substr(7, 16);
    struct ::stat st {};
    REQUIRE(::stat((t / "key.pem").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(slurp(t / "key.pem").rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
    CHECK(slurp(t / "pub.pem").rfind("-----BEGIN PUBLIC KEY-----", 0) == 0);

    auto b = run({"build", "ok.dpol", "-o", t / "s.dpb", "--sign", t / "key.pem", "--revision", "signed"});
    REQUIRE(b.code == 0);
    CHECK(b.out == "wrote " + (t / "s.dpb") + ": 4 rules, revision signed, signed by key " + key_id + "\n");
    auto js = json::parse(run({"inspect", t / "s.dpb", "--format", "json"}).out);
    CHECK(js["signature"] == json{{"key_id", key_id}});
    auto text = run({"inspect", t / "s.dpb"});
    CHECK(text.out.rfind("signature: key " + key_id + " (not checked: no public key given)\n", 0) == 0);

    // A public key is not a signing key.
    auto wrong = run({"build", "ok.dpol", "-o", t / "x.dpb", "--sign", t / "pub.pem"});
    CHECK(wrong.code == 2);
    CHECK_FALSE(fs::exists(t / "x.dpb"));
}

TEST_CASE("keygen keeps existing files unless --force") {
    temp_dir t;
    REQUIRE(run({"keygen", "-o", t / "key.pem", "--pub", t / "pub.pem"}).code == 0);
    const std::string key = slurp(t / "key.pem"), pub = slurp(t / "pub.pem");
    auto again = run({"keygen", "-o", t / "key.pem"});
    CHECK(again.code == 2);
    CHECK(again.err == "dockpolc: keygen: " + (t / "key.pem") + " exists; use --force to overwrite it\n");
    // An existing --pub alone is kept too.
    auto pub_only = run({"keygen", "-o", t / "new.pem", "--pub", t / "pub.pem"});
    CHECK(pub_only.code == 2);
    CHECK_FALSE(fs::exists(t / "new.pem"));
    CHECK(slurp(t / "key.pem") == key);
    CHECK(slurp(t / "pub.pem") == pub);
    auto forced = run({"keygen", "-o", t / "key.pem", "--pub", t / "pub.pem", "--force"});
    CHECK(forced.code == 0);
    CHECK(slurp(t / "key.pem") != key);
    CHECK(slurp(t / "pub.pem") != pub);
}

TEST_CASE("verify: digest, signature and verifier offline; exit 2 when any fails") {
    temp_dir t;
    REQUIRE(run({"keygen", "-o", t / "key.pem", "--pub", t / "pub.pem"}).code == 0);
    REQUIRE(run({"keygen", "-o", t / "other.pem", "--pub", t / "other.pub"}).code == 0);
    REQUIRE(run({"build", "ok.dpol", "-o", t / "s.dpb", "--sign", t / "key.pem", "--revision", "r1"}).code == 0);
    REQUIRE(run({"build", "ok.dpol", "-o", t / "u.dpb", "--revision", "r1"}).code == 0);

    auto good = run({"verify", t / "s.dpb", "--pubkey", t / "other.pub", t / "pub.pem"});
    CHECK(good.code == 0);
    CHECK(good.out.find(": ok (digest, signature by key ") != std::string::npos);
    CHECK(good.out.find("revision r1") != std::string::npos);

    auto foreign = run({"verify", t / "s.dpb", "--pubkey", t / "other.pub"});
    CHECK(foreign.code == 2);
    CHECK(foreign.err.find("not a trusted key") != std::string::npos);
    auto unsigned_ = run({"verify", t / "u.dpb", "--pubkey", t / "pub.pem"});
    CHECK(unsigned_.code == 2);
    CHECK(unsigned_.err.find("not signed") != std::string::npos);
    auto bytes = slurp(t / "s.dpb");
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 1);
    spit(t / "bad.dpb", bytes);
    auto flipped = run({"verify", t / "bad.dpb", "--pubkey", t / "pub.pem"});
    CHECK(flipped.code == 2);
    CHECK(flipped.err.find("bundle rejected") != std::string::npos);
    CHECK(run({"verify", t / "s.dpb"}).code == 2);   // no key: nothing to verify against

    // inspect --pubkey checks the signature the same way before printing.
    auto ins = run({"inspect", t / "s.dpb", "--pubkey", t / "pub.pem"});
    CHECK(ins.code == 0);
    CHECK(ins.out.find(" (verified)\n") != std::string::npos);
    auto insj = json::parse(run({"inspect", t / "s.dpb", "--format", "json", "--pubkey", t / "pub.pem"}).out);
    CHECK(insj["signature"]["verified"] == true);
    CHECK(run({"inspect", t / "s.dpb", "--pubkey", t / "other.pub"}).code == 2);
    CHECK(run({"inspect", t / "u.dpb", "--pubkey", t / "pub.pem"}).code == 2);
}

// Scripts (tests/hotswap/hotswap_lib.py, fuzz/tools/make_corpus.py) cut and
// patch bundles from this layout: it must tile the file exactly.
TEST_CASE("inspect --format json: the byte layout of a plain and a signed bundle") {
    temp_dir t;
    REQUIRE(run({"build", "ok.dpol", "-o", t / "u.dpb"}).code == 0);
    REQUIRE(run({"keygen", "-o", t / "key.pem"}).code == 0);
    REQUIRE(run({"build", "ok.dpol", "-o", t / "s.dpb", "--sign", t / "key.pem"}).code == 0);
    for (const std::string name : {"u.dpb", "s.dpb"}) {
        INFO(name);
        const std::string bytes = slurp(t / name);
        const json j = json::parse(run({"inspect", t / name, "--format", "json"}).out);
        const json& l = j["layout"];
        CHECK(l["size"] == bytes.size());
        auto le = [&](std::size_t at, std::size_t n) {
            std::uint64_t v = 0;
            for (std::size_t i = n; i-- > 0;) v = v << 8 | static_cast<unsigned char>(bytes[at + i]);
            return v;
        };
        std::size_t at = 0;
        for (const auto& f : l["header"]) {
            CHECK(f["offset"] == at);
            if (f.contains("value")) CHECK(f["value"] == le(at, f["size"]));
            at += f["size"].get<std::size_t>();
        }
        CHECK(l["header"][0]["name"] == "magic");
        CHECK(l["payload"]["offset"] == at);
        std::uint32_t tag = 0;
        for (const auto& s : l["sections"]) {
            CHECK(s["tag"] == ++tag);   // every tag once, in order
            CHECK(le(at, 4) == tag);
            CHECK(le(at + 4, 4) == s["size"]);
            CHECK(s["offset"] == at + 8);
            at += 8 + s["size"].get<std::size_t>();
        }
        CHECK(l["sections"][0]["name"] == "strings");
        CHECK(at == l["payload"]["offset"].get<std::size_t>() + l["payload"]["size"].get<std::size_t>());
        const bool is_signed = name == "s.dpb";
        CHECK(l["signature"].is_null() == !is_signed);
        if (is_signed) {
            CHECK(l["signature"]["offset"] == at);
            CHECK(l["signature"]["key_id_size"] == 8);
            at += l["signature"]["size"].get<std::size_t>();
        }
        CHECK(l["digest"]["offset"] == at);
        CHECK(at + l["digest"]["size"].get<std::size_t>() == bytes.size());
    }
}

TEST_CASE("every command has --help with its options and an example") {
    for (const char* cmd :
         {"build", "check", "test", "eval", "inspect", "verify", "fmt", "keygen", "learn", "diff", "actions", "facts",
          "limits", "diagnostics"}) {
        auto h = run({cmd, "--help"});
        INFO(cmd);
        CHECK(h.code == 0);
        CHECK(h.out.rfind(std::string("usage: dockpolc ") + cmd + " ", 0) == 0);
        CHECK(h.out.find("\noptions:\n") != std::string::npos);
        CHECK(h.out.find("  -h, --help") != std::string::npos);
        CHECK(h.out.find(std::string("\nexample:\n  dockpolc ") + cmd) != std::string::npos);
        // The overview names every command too.
        CHECK(run({"--help"}).out.find(std::string("\n  ") + cmd + " ") != std::string::npos);
    }
    CHECK(run({"build", "--help"}).out.find("--sign KEY.pem") != std::string::npos);
    CHECK(run({"check", "--help"}).out.find("--data F.json") != std::string::npos);
}

TEST_CASE("eval: exact JSON decision, text, explain") {
    temp_dir t;
    REQUIRE(run({"build", "ok.dpol", "-o", t / "ok.dpb", "--revision", "r1"}).code == 0);

    auto allow = run({"eval", t / "ok.dpb", "--input", "req_admin_list.json", "--format", "json"});
    CHECK(allow.code == 0);
    CHECK(allow.out == R"({"decision":"allow","rule":"admins","action":"container_list","revision":"r1"})"
                       "\n");

    auto deny = run({"eval", t / "ok.dpb", "--input", "req_dev_staging.json", "--format", "json"});
    CHECK(deny.code == 0);
    CHECK(deny.out == R"({"decision":"deny","rule":"default","action":"container_list","revision":"r1"})"
                      "\n");

    // A bundle is recognised by its magic bytes whatever its name.
    fs::copy_file(t / "ok.dpb", t / "ok.bundle");
    CHECK(run({"eval", t / "ok.bundle", "--input", "req_admin_list.json", "--format", "json"}).out == allow.out);

    auto text = run({"eval", t / "ok.dpb", "--input", "req_admin_list.json"});
    CHECK(text.code == 0);
    CHECK(text.out == "allow by rule 'admins'\n  action:   container_list\n  revision: r1\n");

    // A body that cannot be read unambiguously is denied by rule `error`, with the reason.
    auto dup = run({"eval", t / "ok.dpb", "--input", "req_duplicate_key.json", "--format", "json"});
    CHECK(dup.code == 0);
    const json dj = json::parse(dup.out);
    CHECK(dj["decision"] == "deny");
    CHECK(dj["rule"] == "error");
    CHECK(dj["action"] == "container_create");
    CHECK_FALSE(dj["reason"].get<std::string>().empty());
    CHECK(dj.size() == 5);

    // Sources: the revision is the source digest, as `build` writes it.
    auto j2 = json::parse(run({"eval", "ok.dpol", "--input", "req_admin_list.json", "--format", "json"}).out);
    REQUIRE(run({"build", "ok.dpol", "-o", t / "digest.dpb"}).code == 0);
    auto man = json::parse(run({"inspect", t / "digest.dpb", "--format", "json"}).out)["manifest"];
    CHECK(j2["revision"] == man["revision"]);

    // --explain on sources names the first false conjunct of each rule before the decider.
    auto ex = run({"eval", "ok.dpol", "--input", "req_dev_staging.json", "--format", "json", "--explain"});
    CHECK(ex.code == 0);
    const json ej = json::parse(ex.out);
    const json expected = json::parse(R"([
        {"rule":"no_privileged","matched":false,
         "because":"action == \"container_create\" is false: action is \"container_list\""},
        {"rule":"admins","matched":false,"because":"group == \"admins\" is false: group is [\"dev\"]"},
        {"rule":"devs_prod_readonly","matched":false,"because":"host matches \"prod*\" is false: host is \"staging-1\""},
        {"rule":"builtin_ping","matched":false,"because":"action is not \"system_ping\""}])");
    CHECK(ej["explain"] == expected);
    CHECK(ej["rule"] == "default");

    // Rules after the decider are not explained.
    auto ex2 = json::parse(run({"eval", "ok.dpol", "--input", "req_admin_list.json", "--format", "json", "--explain"}).out);
    REQUIRE(ex2["explain"].size() == 1);
    CHECK(ex2["explain"][0]["rule"] == "no_privileged");
    // The deciding rule's fields with the values it read.
    CHECK(ex2["decided_by"] == json::parse(R"({"rule":"admins","values":{"group":["admins"]}})"));
    auto explained_text = run({"eval", "ok.dpol", "--input", "req_admin_list.json", "--explain"});
    CHECK(explained_text.out.find("  admins read: group = [\"admins\"];\n") != std::string::npos);

    // A bundle has no source text: its conditions are rebuilt from the code and explained the same way.
    auto exb = json::parse(run({"eval", t / "ok.dpb", "--input", "req_dev_staging.json", "--format", "json", "--explain"}).out);
    CHECK(exb["explain"] == expected);
    auto exb2 = json::parse(run({"eval", t / "ok.dpb", "--input", "req_admin_list.json", "--format", "json", "--explain"}).out);
    CHECK(exb2["explain"] == ex2["explain"]);
    CHECK(exb2["decided_by"] == ex2["decided_by"]);
}

TEST_CASE("eval --explain from a bundle: the first false conjunct of every shape of condition") {
    temp_dir t;
    REQUIRE(run({"build", "explain.dpol", "-o", t / "ex.dpb"}).code == 0);
    const json src = json::parse(
        run({"eval", "explain.dpol", "--input", "req_create.json", "--format", "json", "--explain"}).out)["explain"];
    const json bun = json::parse(
        run({"eval", t / "ex.dpb", "--input", "req_create.json", "--format", "json", "--explain"}).out)["explain"];
    const json expected = json::parse(R"([
        {"rule":"big_memory","matched":false,"because":"body.Tty == false is false: body.Tty is true"},
        {"rule":"privileged_or_host_pid","matched":false,
         "because":"body.HostConfig.Privileged == true or body.HostConfig.PidMode == \"host\" is false: body.HostConfig.Privileged is false, body.HostConfig.PidMode is \"\""},
        {"rule":"socket_mount","matched":false,
         "because":"any x in body.HostConfig.Mounts: x.Type == \"bind\" and x.Source covers \"/var/run\" is false: body.HostConfig.Mounts is [[absent, \"volume\", \"v1\"]]"},
        {"rule":"not_dev","matched":false,
         "because":"not (group == \"dev\" or user == \"root\") is false: group is [\"dev\"], user is \"dave\""},
        {"rule":"devs","matched":false,
         "because":"body.Image in {\"alpine\", \"busybox\"} is false: body.Image is \"debian:latest\""},
        {"rule":"others_pulling","matched":false,
         "because":"action != \"container_create\" is false: action is \"container_create\""},
        {"rule":"builtin_ping","matched":false,"because":"action is not \"system_ping\""}])");
    CHECK(bun == expected);
    // The same words as from sources, except the any/all variable, whose name the code does not keep.
    REQUIRE(src.size() == bun.size());
    for (std::size_t i = 0; i < src.size(); ++i) {
        if (src[i]["rule"] == "socket_mount") continue;
        CHECK(src[i] == bun[i]);
    }
}

TEST_CASE("eval: malformed requests are exit 2 with the file name") {
    auto bad = run({"eval", "ok.dpol", "--input", "req_malformed.json"});
    CHECK(bad.code == 2);
    CHECK(bad.out.empty());
    CHECK(bad.err.rfind("dockpolc: req_malformed.json: malformed JSON at byte 30: ", 0) == 0);

    auto shape = run({"eval", "ok.dpol", "--input", "req_bad_shape.json"});
    CHECK(shape.code == 2);
    CHECK(shape.err == "dockpolc: req_bad_shape.json: \"user\" must be a string, not number\n");

    auto route = run({"eval", "ok.dpol", "--input", "req_bad_route.json"});
    CHECK(route.code == 2);
    CHECK(route.err.rfind("dockpolc: req_bad_route.json: bad request: ", 0) == 0);

    auto missing = run({"eval", "ok.dpol", "--input", "nope.json"});
    CHECK(missing.code == 2);
    CHECK(missing.err == "dockpolc: cannot read nope.json: No such file or directory\n");

    // A broken policy is a policy error (1) once the request is fine.
    auto broken = run({"eval", "errors.dpol", "--input", "req_admin_list.json"});
    CHECK(broken.code == 1);
}

TEST_CASE("eval: a body nested past max_json_depth is exit 2, not a crash (regression: SIGSEGV re-serialising it)") {
    // 100,000 nested arrays: nlohmann's recursive dump used to overflow the stack.
    auto deep = run({"eval", "ok.dpol", "--input", "req_deep_body.json"});
    CHECK(deep.code == 2);
    CHECK(deep.out.empty());
    CHECK(deep.err == "dockpolc: req_deep_body.json: JSON nested more than 64 levels deep at byte 148 (max_json_depth)\n");
}

TEST_CASE("eval: resource inspect JSON and named objects reach the request") {
    // The target's name and labels come from its inspect JSON; a denial by label proves it.
    auto r = run({"eval", "resource.dpol", "--input", "req_resource_inspect.json", "--format", "json"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    const json d = json::parse(r.out);
    CHECK(d["decision"] == "deny");
    CHECK(d["rule"] == "prod_containers");
    auto bad = run({"eval", "resource.dpol", "--input", "req_bad_objects.json"});
    CHECK(bad.code == 2);
    CHECK(bad.err == "dockpolc: req_bad_objects.json: \"objects\" key \"disk:data\" must be KIND:NAME with KIND "
                     "volume, container or network\n");
}

TEST_CASE("test: passing, failing and malformed cases") {
    auto pass = run({"test", "ok.dpol", "--cases", "cases_pass.json"});
    CHECK(pass.code == 0);
    CHECK(pass.out == "3 passed, 0 failed\n");

    auto failing = run({"test", "ok.dpol", "--cases", "cases_fail.json", "cases_pass.json"});
    CHECK(failing.code == 1);
    CHECK(failing.out ==
          "FAIL cases_fail.json: wrong rule: expected allow by rule 'devs_prod_readonly', decided allow by rule 'admins'\n"
          "FAIL cases_fail.json: wrong decision: expected allow, decided deny by rule 'default'\n"
          "4 passed, 2 failed\n");

    auto js = run({"test", "ok.dpol", "--cases", "cases_fail.json", "--format", "json"});
    CHECK(js.code == 1);
    const json j = json::parse(js.out);
    CHECK(j["passed"] == 1);
    CHECK(j["failed"] == 2);
    CHECK(j["failures"][0] == json::parse(R"({"file":"cases_fail.json","name":"wrong rule",
        "expected":{"decision":"allow","rule":"devs_prod_readonly"},"decided":{"decision":"allow","rule":"admins"}})"));

    auto malformed = run({"test", "ok.dpol", "--cases", "cases_malformed.json"});
    CHECK(malformed.code == 2);
    CHECK(malformed.err.rfind("dockpolc: cases_malformed.json: malformed JSON at byte ", 0) == 0);

    auto shape = run({"test", "ok.dpol", "--cases", "cases_bad_shape.json"});
    CHECK(shape.code == 2);
    CHECK(shape.err == "dockpolc: cases_bad_shape.json: case \"no expect\": \"expect\" must be an object "
                       "{\"decision\", \"rule\"?}\n");
}

TEST_CASE("test: -v, --run, --coverage and --min-coverage") {
    auto v = run({"test", "ok.dpol", "--cases", "cases_pass.json", "-v"});
    CHECK(v.code == 0);
    // Each line ends with the time the decision took: " [N.N µs]".
    const std::regex timed(R"( \[[0-9]+\.[0-9] µs\]\n)");
    CHECK(std::regex_replace(v.out, timed, "\n") ==
          "PASS cases_pass.json: admin lists: allow by rule 'admins'\n"
          "PASS cases_pass.json: dev on prod: allow by rule 'devs_prod_readonly'\n"
          "PASS cases_pass.json: dev on staging: deny by rule 'default'\n"
          "3 passed, 0 failed\n");

    auto sel = run({"test", "ok.dpol", "--cases", "cases_pass.json", "--run", "dev on *"});
    CHECK(sel.code == 0);
    CHECK(sel.out == "2 passed, 0 failed, 1 not selected by --run\n");
    auto none = run({"test", "ok.dpol", "--cases", "cases_pass.json", "--run", "nothing*"});
    CHECK(none.code == 2);
    CHECK(none.err == "dockpolc: test: no case name matches --run\n");

    auto cov = run({"test", "ok.dpol", "--cases", "cases_pass.json", "--coverage"});
    CHECK(cov.code == 0);
    CHECK(cov.out == "3 passed, 0 failed\n"
                     "coverage: 2 of 3 rules decided a case (66.7%)\n"
                     "  never decided: rule no_privileged (ok.dpol:4)\n");
    auto low = run({"test", "ok.dpol", "--cases", "cases_pass.json", "--coverage", "--min-coverage", "90"});
    CHECK(low.code == 1);
    CHECK(low.err == "dockpolc: test: coverage 66.7% is below --min-coverage 90.0%\n");
    CHECK(run({"test", "ok.dpol", "--cases", "cases_pass.json", "--coverage", "--min-coverage", "60"}).code == 0);
    CHECK(run({"test", "ok.dpol", "--cases", "cases_pass.json", "--min-coverage", "60"}).code == 2);
    CHECK(run({"test", "ok.dpol", "--cases", "cases_pass.json", "--coverage", "--min-coverage", "abc"}).code == 2);

    auto js = json::parse(run({"test", "ok.dpol", "--cases", "cases_pass.json", "--coverage", "--format", "json", "-v"}).out);
    CHECK(js["coverage"] == json::parse(R"({"rules":3,"decided":2,"percent":66.66666666666667,
        "never_decided":[{"rule":"no_privileged","at":"ok.dpol:4"}]})"));
    REQUIRE(js["cases"].size() == 3);
    CHECK(js["cases"][0]["micros"].is_number());
    CHECK(js["cases"][1]["passed"] == true);
    CHECK(js["cases"][1]["decided"] == json::parse(R"({"decision":"allow","rule":"devs_prod_readonly"})"));
}

TEST_CASE("test: a case naming a rule the policy lacks, and an empty cases file, are errors") {
    temp_dir t;
    spit(t / "typo.json", R"([{"name":"typo","request":{"user":"a","groups":["admins"],"method":"GET",
        "path":"/v1.41/containers/json"},"expect":{"decision":"allow","rule":"admin"}}])");
    auto typo = run({"test", "ok.dpol", "--cases", t / "typo.json"});
    CHECK(typo.code == 2);
    CHECK(typo.err == "dockpolc: " + (t / "typo.json") + ": case \"typo\": expect.rule \"admin\" is not a rule of "
                      "the policy (did you mean \"admins\"?)\n");
    spit(t / "empty.json", "[]");
    auto empty = run({"test", "ok.dpol", "--cases", t / "empty.json"});
    CHECK(empty.code == 2);
    CHECK(empty.err == "dockpolc: test: the cases files hold no case\n");
}

TEST_CASE("test --watch runs again when a cases file changes") {
    temp_dir t;
    fs::copy_file(fixtures + "/ok.dpol", t / "ok.dpol");
    fs::copy_file(fixtures + "/cases_pass.json", t / "cases.json");
    const std::string out = t / "watch.out";
    // Runs in the background for 6 s at most; the cases file changes after the first run.
    const std::string cmd = "cd " + std::string(t.path) + " && (timeout 6 " + std::string(::getenv("DOCKPOLC")) +
                            " test ok.dpol --cases cases.json --watch > watch.out 2>&1 &) ; "
                            "for i in $(seq 50); do grep -q 'watching' watch.out 2>/dev/null && break; sleep 0.1; done; "
                            "sleep 0.5; sed -i 's/\\\"deny\\\"/\\\"allow\\\"/' cases.json; "
                            "for i in $(seq 50); do [ $(grep -c 'watching' watch.out) -ge 2 ] && break; sleep 0.1; done";
    REQUIRE(std::system(cmd.c_str()) == 0);
    const std::string got = slurp(out);
    CHECK(got.find("3 passed, 0 failed\n-- watching 2 files") != std::string::npos);
    CHECK(got.find("2 passed, 1 failed\n-- watching 2 files") != std::string::npos);
    std::system(("pkill -f 'test ok.dpol --cases cases.json --watch' >/dev/null 2>&1; true"));
}

TEST_CASE("test: every example policy passes its cases") {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(examples)) {
        const std::string p = e.path().string();
        if (e.path().extension() != ".dpol") continue;
        const std::string cases = p.substr(0, p.size() - 5) + ".cases.json";
        INFO(p);
        REQUIRE(fs::exists(cases));
        auto r = run({"test", "--werror", p, "--cases", cases});
        INFO(r.out << r.err);
        CHECK(r.code == 0);
        CHECK(r.out.find(" 0 failed\n") != std::string::npos);
        ++n;
    }
    CHECK(n >= 4);
}

TEST_CASE("fmt: --check diff, --write, idempotence") {
    temp_dir t;
    const std::string src = slurp(fx("unformatted.dpol"));
    spit(t / "u.dpol", src);

    auto printed = run({"fmt", "unformatted.dpol"});
    REQUIRE(printed.code == 0);
    CHECK(printed.out != src);

    auto check = run({"fmt", "--check", "unformatted.dpol"});
    CHECK(check.code == 1);
    CHECK(check.out.rfind("--- unformatted.dpol\n+++ unformatted.dpol (formatted)\n@@ -1,", 0) == 0);
    CHECK(check.out.find("\n-default   deny\n") != std::string::npos);

    auto write = run({"fmt", "--write", t / "u.dpol"});
    CHECK(write.code == 0);
    CHECK(slurp(t / "u.dpol") == printed.out);

    // Formatting is idempotent: the formatted file is canonical.
    auto again = run({"fmt", "--check", t / "u.dpol"});
    CHECK(again.code == 0);
    CHECK(again.out.empty());
    CHECK(run({"fmt", t / "u.dpol"}).out == printed.out);

    // Every example is canonical.
    for (const auto& e : fs::directory_iterator(examples)) {
        if (e.path().extension() != ".dpol") continue;
        auto r = run({"fmt", "--check", e.path().string()});
        INFO(e.path().string() << "\n" << r.out << r.err);
        CHECK(r.code == 0);
    }
}

// The reference pages are generated; these fail when the checked-in copy is stale
// (regenerate: dockpolc facts --format markdown > docs/facts.md, likewise actions, limits, diagnostics).
TEST_CASE("docs/facts.md, docs/actions.md, docs/limits.md and docs/diagnostics.md are what dockpolc prints") {
    const std::string docs = std::string(DOCKPOL_SOURCE_ROOT) + "/docs/";
    auto read = [](const std::string& path) {
        std::ifstream f(path, std::ios::binary);
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    };
    auto facts = run({"facts", "--format", "markdown"});
    REQUIRE(facts.code == 0);
    CHECK(facts.out == read(docs + "facts.md"));
    auto actions = run({"actions", "--format", "markdown"});
    REQUIRE(actions.code == 0);
    CHECK(actions.out == read(docs + "actions.md"));
    auto limits = run({"limits", "--format", "markdown"});
    REQUIRE(limits.code == 0);
    CHECK(limits.out == read(docs + "limits.md"));
    auto diagnostics = run({"diagnostics", "--format", "markdown"});
    REQUIRE(diagnostics.code == 0);
    CHECK(diagnostics.out == read(docs + "diagnostics.md"));
}

TEST_CASE("diagnostics: every code once, as JSON, with the severity check reports it with") {
    auto js = run({"diagnostics", "--format", "json"});
    REQUIRE(js.code == 0);
    const json rows = json::parse(js.out);
    std::set<std::string> codes;
    for (const auto& r : rows) {
        CHECK(codes.insert(r["code"].get<std::string>()).second);
        CHECK(r["code"].get<std::string>().rfind("dp-", 0) == 0);
    }
    CHECK(codes.size() == rows.size());
    auto severity_of = [&](const std::string& code) {
        for (const auto& r : rows)
            if (r["code"] == code) return r["severity"].get<std::string>();
        return std::string("missing");
    };
    CHECK(severity_of("dp-type") == "error");
    CHECK(severity_of("dp-glob-equality") == "warning");
    CHECK(severity_of("dp-no-default") == "note");
    // What check reports carries the table's severity.
    temp_dir t;
    spit(t / "nodefault.dpol", "rule r: allow if host == \"dev-*\"\n");
    auto ck = run({"check", t / "nodefault.dpol", "--format", "json"});
    const json out = json::parse(ck.out);
    bool saw_glob = false, saw_default = false;
    for (const auto& d : out["diagnostics"]) {
        CHECK(d["severity"] == severity_of(d["code"].get<std::string>()));
        saw_glob |= d["code"] == "dp-glob-equality";
        saw_default |= d["code"] == "dp-no-default";
    }
    CHECK(saw_glob);
    CHECK(saw_default);
    CHECK(run({"diagnostics", "--format", "yaml"}).code == 2);
}

TEST_CASE("facts: the fact table as text and JSON") {
    auto js = run({"facts", "--format", "json"});
    REQUIRE(js.code == 0);
    const json rows = json::parse(js.out);
    REQUIRE(rows.is_array());
    bool saw_registry = false, saw_target = false, saw_host = false;
    for (const auto& r : rows) {
        if (r["fact"] == "container.image_registry") {
            saw_registry = true;
            CHECK(r["actions"] == json::parse(R"(["container_create","service_create","service_update"])"));
            CHECK(r["actions_text"] == "container_create, service_create, service_update");
        }
        if (r["fact"] == "resource.container.privileged") {
            saw_target = true;
            CHECK(r["actions_text"] == "every action on an existing container");
        }
        if (r["fact"] == "host_access") {
            saw_host = true;
            CHECK(r["actions_text"] == "every action");
        }
        CHECK(r["fact"] != "user");   // request fields are not facts
    }
    CHECK(saw_registry);
    CHECK(saw_target);
    CHECK(saw_host);
    auto text = run({"facts"});
    REQUIRE(text.code == 0);
    CHECK(text.out.rfind("FACT ", 0) == 0);
    CHECK(run({"facts", "--format", "yaml"}).code == 2);
}

TEST_CASE("actions: the route table as text and JSON") {
    auto js = run({"actions", "--format", "json"});
    REQUIRE(js.code == 0);
    const json rows = json::parse(js.out);
    REQUIRE(rows.is_array());
    CHECK(rows.size() >= 122);
    CHECK(rows[4] == json::parse(R"({"action":"container_list","method":"GET","route":"/containers/json","resource":"container"})"));
    for (const auto& r : rows) CHECK(r.size() == 4);

    auto text = run({"actions"});
    REQUIRE(text.code == 0);
    CHECK(text.out.rfind("ACTION ", 0) == 0);
    CHECK(text.out.find("\nnetwork_delete ") != std::string::npos);
}

// ---- audit-verify: logs written by dockpold's own audit writer (sidecar/audit_log.hpp), then tampered with.

namespace {

namespace ds = dockpol::sidecar;

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

// A request's audit line as dockpold formats it.
std::string audit_line(int n) {
    static const std::vector<std::string> groups{"dev"};
    ds::audit_event e;
    e.time = std::chrono::system_clock::now();
    const auto id = std::to_string(1000 + n);
    e.id = id;
    e.user = "alice";
    e.groups = &groups;
    e.peer = "127.0.0.1:40000";
    e.host = "ci-1";
    e.method = "GET";
    e.path = "/containers/json";
    e.action = "container_list";
    e.decision = "allow";
    e.rule = "read_only";
    e.revision = "r1";
    e.status = 200;
    return ds::format_audit_line(e);
}

// Writes `n` audit lines through the real writer: a checkpoint every 3 lines, signed when `key` is given.
// With n = 7: 1 start, 2-4 lines, 5 periodic, 6-8 lines, 9 periodic, 10 line, 11 stop.
void write_audit_log(const std::string& path, int n, const std::string& key = "") {
    ds::metrics m;
    ds::audit_log log(path, m);
    if (!key.empty()) REQUIRE_FALSE(log.load_key(key));
    log.set_checkpoint_interval(3, std::chrono::hours(1));
    REQUIRE_FALSE(log.open());
    log.start();
    for (int i = 1; i <= n; ++i) log.push(audit_line(i));
    log.stop();
}

// A directory with a key pair (dockpolc keygen), a second key and a 7-line signed log.
struct audit_fixture {
    temp_dir t;
    std::string log = t / "audit.log", key = t / "audit.pem", pub = t / "audit.pub", other_pub = t / "other.pub";
    audit_fixture() {
        REQUIRE(run({"keygen", "-o", key, "--pub", pub}).code == 0);
        REQUIRE(run({"keygen", "-o", t / "other.pem", "--pub", other_pub}).code == 0);
        write_audit_log(log, 7, key);
        REQUIRE(split_lines(slurp(log)).size() == 11);
    }
    std::vector<std::string> lines() const { return split_lines(slurp(log)); }
    void rewrite(const std::vector<std::string>& lines) const { spit(log, join_lines(lines)); }
};

// The first error of `audit-verify --format json`: its file name (without the directory) and line.
struct verify_error {
    int code;
    std::string file;
    std::uint64_t line = 0;
    std::string message;
    json report;
};

verify_error audit_verify(std::vector<std::string> args) {
    args.insert(args.begin(), "audit-verify");
    args.insert(args.end(), {"--format", "json"});
    auto r = run(args);
    INFO(r.out << r.err);
    verify_error v{r.code, "", 0, "", json()};
    if (r.code == 2) return v;
    v.report = json::parse(r.out);
    if (!v.report["error"].is_null()) {
        v.file = fs::path(v.report["error"]["file"].get<std::string>()).filename().string();
        v.line = v.report["error"]["line"].get<std::uint64_t>();
        v.message = v.report["error"]["message"].get<std::string>();
    }
    return v;
}

} // namespace

TEST_CASE("audit-verify: a log written by dockpold's writer verifies, with and without its key") {
    audit_fixture f;
    auto text = run({"audit-verify", f.log, "--pubkey", f.pub});
    INFO(text.out << text.err);
    CHECK(text.code == 0);
    CHECK(text.out == "ok: 7 audit lines, 4 checkpoints, chain intact; signatures checked\n");
    auto unchecked = run({"audit-verify", f.log});
    CHECK(unchecked.code == 0);
    CHECK(unchecked.out.find("signatures not checked (no --pubkey)") != std::string::npos);
    auto js = audit_verify({f.log, "--pubkey", f.pub});
    CHECK(js.code == 0);
    CHECK(js.report["ok"] == true);
    CHECK(js.report["audit_lines"] == 7);
    CHECK(js.report["checkpoints"] == 4);
    CHECK(js.report["signatures"] == "checked");
    CHECK(js.report["dropped"] == 0);
}

TEST_CASE("audit-verify: an altered line is found where the chain breaks") {
    audit_fixture f;
    SECTION("a flipped byte inside a value: the next line's prev no longer matches") {
        auto lines = f.lines();
        const auto at = lines[2].find("alice");
        REQUIRE(at != std::string::npos);
        lines[2][at] = 'A';
        f.rewrite(lines);
        auto v = audit_verify({f.log, "--pubkey", f.pub});
        CHECK(v.code == 1);
        CHECK(v.file == "audit.log");
        CHECK(v.line == 4);
        CHECK(v.message.find("audit.log:3") != std::string::npos);
    }
    SECTION("a flipped byte that breaks the JSON is that line") {
        auto lines = f.lines();
        lines[5][0] = '[';
        f.rewrite(lines);
        auto v = audit_verify({f.log});
        CHECK(v.code == 1);
        CHECK(v.line == 6);
        CHECK(v.message.find("not a JSON object") != std::string::npos);
    }
    SECTION("a flipped byte in a signed checkpoint fails its signature") {
        auto lines = f.lines();
        const auto at = lines[4].find("\"lines\":3");
        REQUIRE(at != std::string::npos);
        lines[4][at + 8] = '4';
        f.rewrite(lines);
        auto v = audit_verify({f.log, "--pubkey", f.pub});
        CHECK(v.code == 1);
        CHECK(v.line == 5);
        CHECK(v.message.find("signature") != std::string::npos);
        // Without keys the count itself disagrees with the lines before it.
        auto counted = audit_verify({f.log});
        CHECK(counted.code == 1);
        CHECK(counted.line == 5);
        CHECK(counted.message.find("counts 4 audit lines, the log has 3") != std::string::npos);
    }
}

TEST_CASE("audit-verify: deleted, inserted and reordered lines") {
    audit_fixture f;
    auto lines = f.lines();
    SECTION("a deleted line") {
        lines.erase(lines.begin() + 5);
        f.rewrite(lines);
        auto v = audit_verify({f.log, "--pubkey", f.pub});
        CHECK(v.code == 1);
        CHECK(v.line == 6);
        CHECK(v.message.find("audit.log:5") != std::string::npos);
    }
    SECTION("an inserted copy of a line") {
        lines.insert(lines.begin() + 2, lines[1]);
        f.rewrite(lines);
        auto v = audit_verify({f.log, "--pubkey", f.pub});
        CHECK(v.code == 1);
        CHECK(v.line == 3);
    }
    SECTION("two lines swapped") {
        std::swap(lines[5], lines[6]);
        f.rewrite(lines);
        auto v = audit_verify({f.log, "--pubkey", f.pub});
        CHECK(v.code == 1);
        CHECK(v.line == 6);
    }
    SECTION("a whole checkpoint removed") {
        lines.erase(lines.begin() + 4);
        f.rewrite(lines);
        auto v = audit_verify({f.log});
        CHECK(v.code == 1);
        CHECK(v.line == 5);
    }
}

TEST_CASE("audit-verify: a truncated log fails unless --open says it is still written") {
    audit_fixture f;
    auto lines = f.lines();
    SECTION("cut in the middle of line 8") {
        std::string cut = join_lines({lines.begin(), lines.begin() + 7}) + lines[7].substr(0, 20);
        spit(f.log, cut);
        auto v = audit_verify({f.log, "--pubkey", f.pub});
        CHECK(v.code == 1);
        CHECK(v.line == 8);
        CHECK(v.message.find("middle of a line") != std::string::npos);
        // Still being written: the partial line and the two lines after checkpoint 5 are counted, not errors.
        auto open = audit_verify({f.log, "--pubkey", f.pub, "--open"});
        CHECK(open.code == 0);
        CHECK(open.report["unsealed"] == 2);
    }
    SECTION("the final checkpoint removed: the missing line is named") {
        lines.pop_back();
        f.rewrite(lines);
        auto v = audit_verify({f.log, "--pubkey", f.pub});
        CHECK(v.code == 1);
        CHECK(v.line == 11);
        CHECK(v.message.find("without a final checkpoint") != std::string::npos);
        auto open = audit_verify({f.log, "--pubkey", f.pub, "--open"});
        CHECK(open.code == 0);
        CHECK(open.report["unsealed"] == 1);
    }
    SECTION("cut back to a periodic checkpoint: still not the end dockpold writes") {
        lines.resize(9);
        f.rewrite(lines);
        auto v = audit_verify({f.log, "--pubkey", f.pub});
        CHECK(v.code == 1);
        CHECK(v.line == 10);
        CHECK(audit_verify({f.log, "--pubkey", f.pub, "--open"}).code == 0);
    }
    SECTION("the beginning removed") {
        lines.erase(lines.begin(), lines.begin() + 2);
        f.rewrite(lines);
        auto v = audit_verify({f.log});
        CHECK(v.code == 1);
        CHECK(v.line == 1);
        CHECK(v.message.find("beginning is missing") != std::string::npos);
    }
    SECTION("an empty file") {
        spit(f.log, "");
        CHECK(audit_verify({f.log}).code == 1);
    }
}

TEST_CASE("audit-verify: keys — a wrong key, an unsigned log, an unreadable key or log") {
    audit_fixture f;
    auto wrong = audit_verify({f.log, "--pubkey", f.other_pub});
    CHECK(wrong.code == 1);
    CHECK(wrong.line == 1);
    CHECK(wrong.message.find("does not verify with any --pubkey") != std::string::npos);
    // Either of two keys may have signed it.
    CHECK(audit_verify({f.log, "--pubkey", f.other_pub, "--pubkey", f.pub}).code == 0);

    const auto unsigned_log = f.t / "unsigned.log";
    write_audit_log(unsigned_log, 2);
    CHECK(audit_verify({unsigned_log}).code == 0);
    auto unsig = audit_verify({unsigned_log, "--pubkey", f.pub});
    CHECK(unsig.code == 1);
    CHECK(unsig.file == "unsigned.log");
    CHECK(unsig.line == 1);
    CHECK(unsig.message.find("not signed") != std::string::npos);

    auto missing = run({"audit-verify", f.t / "nope.log", "--pubkey", f.pub});
    CHECK(missing.code == 2);
    CHECK(missing.err.find("nope.log") != std::string::npos);
    // An unreadable file is exit 2 even when an earlier file is tampered with.
    auto lines = f.lines();
    lines.erase(lines.begin() + 3);
    f.rewrite(lines);
    CHECK(run({"audit-verify", f.log, f.t / "nope.log"}).code == 2);
    spit(f.t / "junk.pub", "not a key\n");
    CHECK(run({"audit-verify", unsigned_log, "--pubkey", f.t / "junk.pub"}).code == 2);
    CHECK(run({"audit-verify"}).code == 2);
    CHECK(run({"audit-verify", unsigned_log, "--format", "yaml"}).code == 2);
}

TEST_CASE("audit-verify: a rotated log verifies across its files, only in order") {
    temp_dir t;
    const auto path = t / "audit.log", old_path = t / "audit.log.1";
    {
        ds::metrics m;
        ds::audit_log log(path, m);
        log.set_checkpoint_interval(3, std::chrono::hours(1));
        REQUIRE_FALSE(log.open());
        log.start();
        for (int i = 1; i <= 4; ++i) log.push(audit_line(i));
        // logrotate: rename, then SIGUSR1 (request_reopen) once the lines are in the old file.
        for (int i = 0; i < 2000 && split_lines(slurp(path)).size() < 6; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        REQUIRE(split_lines(slurp(path)).size() == 6);
        REQUIRE(std::rename(path.c_str(), old_path.c_str()) == 0);
        log.request_reopen();
        for (int i = 0; i < 2000 && !fs::exists(path); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        for (int i = 5; i <= 6; ++i) log.push(audit_line(i));
        log.stop();
    }
    auto both = audit_verify({old_path, path});
    CHECK(both.code == 0);
    CHECK(both.report["audit_lines"] == 6);
    // Swapped: the old file's start does not follow the new file's last line.
    auto swapped = audit_verify({path, old_path});
    CHECK(swapped.code == 1);
    CHECK(swapped.file == "audit.log.1");
    CHECK(swapped.line == 1);
    // Each alone: the old one ends with its close, the new one starts from its rotate checkpoint.
    CHECK(audit_verify({old_path}).code == 0);
    auto alone = audit_verify({path});
    CHECK(alone.code == 0);
    CHECK(alone.report["audit_lines"] == 2);
    // The old file's close removed: the new file's rotate no longer follows a closed file.
    auto old_lines = split_lines(slurp(old_path));
    old_lines.pop_back();
    spit(old_path, join_lines(old_lines));
    auto cut = audit_verify({old_path, path});
    CHECK(cut.code == 1);
    CHECK(cut.file == "audit.log");
    CHECK(cut.line == 1);
}

TEST_CASE("audit-verify: lines the queue dropped are reported, not tampering") {
    temp_dir t;
    const auto path = t / "audit.log";
    {
        ds::metrics m;
        ds::audit_log log(path, m);
        REQUIRE_FALSE(log.open());
        for (std::size_t i = 0; i < ds::audit_queue_limit + 3; ++i) log.push("{\"n\":1}\n");
        log.start();
        log.stop();
    }
    auto v = audit_verify({path});
    CHECK(v.code == 0);
    CHECK(v.report["dropped"] == 3);
    CHECK(v.report["audit_lines"] == ds::audit_queue_limit);
    auto text = run({"audit-verify", path});
    CHECK(text.out.find("3 audit lines were dropped by dockpold's full queue") != std::string::npos);
    CHECK(text.out.find("; 3 lines dropped by the queue") != std::string::npos);
}

// dockpolc diff: the audit log replayed on two policies (facts, not guesses).
TEST_CASE("diff: exit 0 without changes, 1 with them, 2 for a malformed line; not replayable lines counted") {
    auto same = run({"diff", "audit_live.dpol", "audit_live.dpol", "--against", "audit.log"});
    CHECK(same.code == 0);
    CHECK(same.out == "7 lines, 5 replayed, 0 decisions changed, 1 not replayable, 1 checkpoints skipped\n"
                      "  not replayable: 1 x no facts recorded (no decision was evaluated, or an older dockpold)\n");

    // The candidate reads container.privileged, which audit.log did not record: those lines are not replayed.
    auto unrecorded = run({"diff", "--format", "json", "audit_live.dpol", "audit_strict.dpol", "--against", "audit.log"});
    CHECK(unrecorded.code == 0);
    auto u = json::parse(unrecorded.out);
    CHECK(u["replayed"] == 3);
    CHECK(u["not_replayable"] == 3);
    CHECK(u["changes"].empty());
    CHECK(u["not_replayable_reasons"] ==
          json::parse(R"J([{"reason":"NEW: container.privileged (not recorded)","lines":2},
                          {"reason":"no facts recorded (no decision was evaluated, or an older dockpold)","lines":1}])J"));

    // Recorded: the privileged create changes from allow to deny.
    auto changed = run({"diff", "--format", "json", "audit_live.dpol", "audit_strict.dpol", "--against", "audit_priv.log"});
    CHECK(changed.code == 1);
    auto c = json::parse(changed.out);
    CHECK(c["replayed"] == 5);
    REQUIRE(c["changes"].size() == 1);
    CHECK(c["changes"][0] == json::parse(R"({"kind":"decision","file":"audit_priv.log","line":4,
        "time":"2026-12-07T14:00:02.000Z","user":"bob","groups":["ops"],"action":"container_create",
        "old":{"decision":"allow","rule":"watch_host_access"},"new":{"decision":"deny","rule":"no_privileged"}})"));
    auto text = run({"diff", "audit_live.dpol", "audit_strict.dpol", "--against", "audit_priv.log"});
    CHECK(text.code == 1);
    CHECK(text.out.rfind("audit_priv.log:4: bob container_create: allow (rule watch_host_access) -> deny (rule "
                         "no_privileged)\n", 0) == 0);

    auto bad = run({"diff", "audit_live.dpol", "audit_strict.dpol", "--against", "audit.log", "--against",
                    "audit_malformed.log"});
    CHECK(bad.code == 2);
    CHECK(bad.out.empty());
    CHECK(bad.err == "dockpolc: diff: audit_malformed.log:3: not a JSON line\n");
    CHECK(run({"diff", "audit_live.dpol", "--against", "audit.log"}).code == 2);
    CHECK(run({"diff", "audit_live.dpol", "audit_live.dpol", "--against", "missing.log"}).code == 2);
    CHECK(run({"diff", "audit_live.dpol", "errors.dpol", "--against", "audit.log"}).code == 2);
}

// dockpolc learn: the draft passes check --werror and its own cases; host access is never learned.
TEST_CASE("learn: a least-privilege draft that checks clean and passes its sampled cases") {
    temp_dir t;
    auto r = run({"learn", "audit.log", "-o", t / "draft.dpol", "--cases", t / "draft.cases.json"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    const auto draft = slurp(t / "draft.dpol");
    INFO(draft);
    CHECK(draft.rfind("# DRAFT policy learned by `dockpolc learn`", 0) == 0);
    CHECK(draft.find("# Learned from: audit.log (6 requests)\n") != std::string::npos);
    CHECK(draft.find("# Requests from 2026-12-07T14:00:00.000Z to 2026-12-07T14:00:05.000Z.\n") != std::string::npos);
    CHECK(draft.find("# Allowed requests learned: 5; denied, not learned: 0; with host access (host_access true), left "
                     "out: 1; checkpoint lines skipped: 1.\n") != std::string::npos);
    CHECK(draft.find("\ndefault deny\n") != std::string::npos);
    CHECK(draft.find("let group_dev_actions = {\"container_attach\", \"container_create\", \"container_list\"}\n") !=
          std::string::npos);
    CHECK(draft.find("rule group_dev:\n    allow if group == \"dev\"\n        and action in group_dev_actions\n"
                     "        and host matches \"dev-*\"\n        and not host_access\n") != std::string::npos);
    // bob's privileged create was host access: ops learned only the volume removal, without the guard.
    CHECK(draft.find("let group_ops_actions = {\"volume_delete\"}\n") != std::string::npos);
    CHECK(draft.find("rule group_ops: allow if group == \"ops\" and action in group_ops_actions and host == \"prod-1\"\n") !=
          std::string::npos);
    // A caller in two groups: one rule for the pair, before the single groups; no group: a rule per user.
    CHECK(draft.find("rule group_dev_ops:") < draft.find("rule group_dev:"));
    CHECK(draft.find("let group_dev_ops_actions = {\"container_exec\", \"exec_start\"}") != std::string::npos);
    CHECK(draft.find("rule user_carol: allow if user == \"carol\"") != std::string::npos);

    // In canonical layout: fmt --check is clean.
    CHECK(run({"fmt", "--check", t / "draft.dpol"}).code == 0);
    auto check = run({"check", "--werror", t / "draft.dpol"});
    CHECK(check.code == 0);
    CHECK(check.err.empty());
    auto test = run({"test", t / "draft.dpol", "--cases", t / "draft.cases.json"});
    CHECK(test.code == 0);
    CHECK(test.out == "5 passed, 0 failed\n");
    auto cases = json::parse(slurp(t / "draft.cases.json"));
    REQUIRE(cases.size() == 5);
    CHECK(cases[0]["name"] == "group_dev_ops: container_exec on dev-1 (audit.log:7)");
    CHECK(cases[0]["expect"] == json::parse(R"({"decision":"allow","rule":"group_dev_ops"})"));

    // The draft against the log it came from: only the host-access request changes.
    auto d = run({"diff", "--format", "json", "audit_live.dpol", t / "draft.dpol", "--against", "audit.log"});
    CHECK(d.code == 1);
    auto dj = json::parse(d.out);
    REQUIRE(dj["changes"].size() == 1);
    CHECK(dj["changes"][0]["line"] == 4);
    CHECK(dj["changes"][0]["new"] == json::parse(R"({"decision":"deny","rule":"default"})"));

    // Deterministic: the same input gives the same bytes.
    CHECK(run({"learn", "audit.log", "-o", t / "again.dpol", "--cases", t / "again.json"}).code == 0);
    CHECK(slurp(t / "again.dpol") == draft);
    CHECK(slurp(t / "again.json") == slurp(t / "draft.cases.json"));

    // By user: one rule per caller.
    CHECK(run({"learn", "audit.log", "--group-by", "user", "-o", t / "u.dpol", "--cases", t / "u.json"}).code == 0);
    const auto by_user = slurp(t / "u.dpol");
    CHECK(by_user.find("rule user_alice:") != std::string::npos);
    CHECK(by_user.find("rule group_") == std::string::npos);
    CHECK(run({"check", "--werror", t / "u.dpol"}).code == 0);
    CHECK(run({"test", t / "u.dpol", "--cases", t / "u.json"}).code == 0);

    auto bad = run({"learn", "audit_malformed.log", "-o", t / "x.dpol", "--cases", t / "x.json"});
    CHECK(bad.code == 2);
    CHECK(bad.err == "dockpolc: learn: audit_malformed.log:3: not a JSON line\n");
    CHECK_FALSE(fs::exists(t / "x.dpol"));
    auto nothing = run({"learn", "audit_malformed.log", "audit_empty.log", "-o", t / "y.dpol", "--cases", t / "y.json"});
    CHECK(nothing.code == 2);
    CHECK(run({"learn", "audit_empty.log", "-o", t / "y.dpol", "--cases", t / "y.json"}).err ==
          "dockpolc: learn: no allowed request to learn from in the logs given\n");
    CHECK_FALSE(fs::exists(t / "y.dpol"));
    CHECK(run({"learn", "audit.log", "-o", t / "y.dpol"}).code == 2);
    CHECK(run({"learn", "audit.log", "--group-by", "team", "-o", t / "y.dpol", "--cases", t / "y.json"}).code == 2);
}
