// `dockpold doctor`: each bypass planted in a fake root (and a fake dockerd
// on a UNIX socket) is reported by its check, and a clean set-up reports none.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <thread>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dockpol/dsl/compile.hpp"
#include "dockpol/rt/bundle.hpp"
#include "doctor/doctor.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace sidecar_doctor_test {

namespace fs = std::filesystem;
namespace dd = dockpol::sidecar::doctor;
namespace rt = dockpol::rt;

namespace {

const fs::path fixtures = fs::path(DOCKPOL_SOURCE_ROOT) / "tests/unit/fixtures/doctor";

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

void put(const fs::path& p, const std::string& text, fs::perms mode = fs::perms(0644)) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    fs::permissions(p, mode);
}

// Answers GETs on a UNIX socket from a path → body table, one request per connection (HTTP/1.0).
class fake_dockerd {
public:
    fake_dockerd(const fs::path& path, std::map<std::string, std::string> answers) : answers_(std::move(answers)) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd_, 16) == 0);
        thread_ = std::thread([this] { serve(); });
    }
    ~fake_dockerd() {
        stop_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        thread_.join();
        ::close(fd_);
    }
    int requests() const { return requests_; }

private:
    void serve() {
        while (!stop_) {
            const int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) return;
            std::string req;
            char buf[4096];
            while (req.find("\r\n\r\n") == std::string::npos) {
                const ssize_t n = ::recv(c, buf, sizeof buf, 0);
                if (n <= 0) break;
                req.append(buf, static_cast<std::size_t>(n));
            }
            ++requests_;
            const auto sp1 = req.find(' '), sp2 = req.find(' ', sp1 + 1);
            const std::string target = req.substr(sp1 + 1, sp2 - sp1 - 1);
            auto it = answers_.find(target);
            const std::string body = it == answers_.end() ? R"({"message":"no such thing"})" : it->second;
            const std::string resp = std::string("HTTP/1.0 ") + (it == answers_.end() ? "404 Not Found" : "200 OK") +
                                     "\r\nContent-Type: application/json\r\nContent-Length: " +
                                     std::to_string(body.size()) + "\r\n\r\n" + body;
            ::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
            ::close(c);
        }
    }
    int fd_ = -1;
    std::map<std::string, std::string> answers_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<int> requests_{0};
};

// A self-signed certificate valid from `from_days` to `to_days` (+ `extra_secs`) relative to now.
void write_cert(const fs::path& p, long from_days, long to_days, long extra_secs = 0) {
    std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), &EVP_PKEY_free);
    REQUIRE(key);
    std::unique_ptr<X509, void (*)(X509*)> x(X509_new(), &X509_free);
    X509_set_version(x.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(x.get()), from_days * 86400);
    X509_gmtime_adj(X509_getm_notAfter(x.get()), to_days * 86400 + extra_secs);
    X509_NAME* n = X509_get_subject_name(x.get());
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("dockpold"), -1, -1, 0);
    X509_set_issuer_name(x.get(), n);
    X509_set_pubkey(x.get(), key.get());
    REQUIRE(X509_sign(x.get(), key.get(), nullptr) > 0);
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(p.c_str(), "w"), &std::fclose);
    REQUIRE(PEM_write_X509(f.get(), x.get()) == 1);
}

const rt::signing_key& ci_key() {
    static const rt::signing_key k = std::get<rt::signing_key>(rt::generate_signing_key());
    return k;
}

void write_bundle(const fs::path& p, const rt::signing_key* key) {
    auto res = dockpol::dsl::compile({{"policy.dpol", slurp(fixtures / "policy.dpol")}}, {}, "doctor-test");
    REQUIRE(res.image);
    const auto bytes = rt::write_bundle(*res.image, key);
    put(p, std::string(bytes.begin(), bytes.end()));
}

// A fake host root with a clean set-up: UNIX socket only, nobody but dockpold in
// group docker, a 0660 socket, a private key, a valid certificate, a fresh signed bundle.
struct fake_host {
    fs::path root;
    dd::environment env;

    fake_host() {
        char tmpl[] = "/tmp/dockpol-doctor-XXXXXX";
        root = ::mkdtemp(tmpl);
        put(root / "etc/docker/daemon.json", slurp(fixtures / "daemon_clean.json"));
        put(root / "etc/group", slurp(fixtures / "group_clean"));
        put(root / "etc/passwd", slurp(fixtures / "passwd"));
        put(root / "proc/net/tcp", slurp(fixtures / "net_tcp_clean"));
        put(root / "proc/net/tcp6", slurp(fixtures / "net_tcp_clean").substr(0, 100) + "\n");
        put(root / "proc/1/cmdline", std::string("/sbin/init\0splash\0", 18));
        put(root / "proc/700/cmdline", std::string("/usr/bin/dockerd\0-H\0fd://\0", 26));
        fs::create_directories(root / "var/run");
        put(root / "dockpol/server-key.pem", "not really a key", fs::perms(0600));
        write_cert(root / "dockpol/server.pem", -1, 365);
        write_bundle(root / "dockpol/bundle.dpb", &ci_key());
        put(root / "dockpol/bundle.pub.pem", rt::public_key_pem(rt::public_of(ci_key())));
        env.root = root.string();
        env.tls_key = (root / "dockpol/server-key.pem").string();
        env.tls_cert = (root / "dockpol/server.pem").string();
        env.bundle = (root / "dockpol/bundle.dpb").string();
        env.bundle_pubkeys = {(root / "dockpol/bundle.pub.pem").string()};
    }
    ~fake_host() { fs::remove_all(root); }

    fs::path socket() const { return root / "var/run/docker.sock"; }
};

std::map<std::string, std::string> no_containers() { return {{"/containers/json", "[]"}}; }

std::vector<dd::finding> of_check(const dd::findings& fs, const std::string& check) {
    std::vector<dd::finding> out;
    for (const auto& f : fs)
        if (f.check == check) out.push_back(f);
    return out;
}

bool mentions(const dd::finding& f, const std::string& s) { return f.message.find(s) != std::string::npos; }

} // namespace

TEST_CASE("doctor: a clean host reports nothing") {
    fake_host h;
    fake_dockerd d(h.socket(), no_containers());
    fs::permissions(h.socket(), fs::perms(0660));
    const auto found = dd::run_checks(h.env);
    for (const auto& f : found) INFO(f.check + ": " + f.message);
    CHECK(found.empty());
    CHECK(dd::all_clear(found));
    CHECK(d.requests() == 1);
    const auto j = nlohmann::json::parse(dd::render_json(found));
    CHECK(j["ok"] == true);
    CHECK(j["findings"].empty());
}

TEST_CASE("doctor: dockerd on TCP without TLS, from daemon.json") {
    fake_host h;
    put(h.root / "etc/docker/daemon.json", slurp(fixtures / "daemon_tcp.json"));
    const auto found = of_check(dd::run_checks(h.env), "docker_tcp");
    REQUIRE(found.size() == 1);
    CHECK(found[0].sev == dd::severity::error);
    CHECK(mentions(found[0], "tcp://0.0.0.0:2375"));
    CHECK(mentions(found[0], "daemon.json"));
    CHECK(!found[0].fix.empty());

    put(h.root / "etc/docker/daemon.json", slurp(fixtures / "daemon_tcp_tls.json"));
    CHECK(of_check(dd::run_checks(h.env), "docker_tcp").empty());
}

TEST_CASE("doctor: dockerd on TCP without TLS, from its command line") {
    fake_host h;
    put(h.root / "proc/700/cmdline", slurp(fixtures / "cmdline_tcp"));
    put(h.root / "proc/800/cmdline", slurp(fixtures / "cmdline_other"));
    auto found = of_check(dd::run_checks(h.env), "docker_tcp");
    REQUIRE(found.size() == 1);
    CHECK(mentions(found[0], "tcp://0.0.0.0:2375"));
    CHECK(mentions(found[0], "process 700"));

    // --host=tcp:// with --tlsverify is fine; the authorization plugin on the same line is not.
    put(h.root / "proc/700/cmdline", slurp(fixtures / "cmdline_tls_authz"));
    const auto all = dd::run_checks(h.env);
    CHECK(of_check(all, "docker_tcp").empty());
    const auto authz = of_check(all, "authz_plugin");
    REQUIRE(authz.size() == 1);
    CHECK(mentions(authz[0], "casbin"));
}

TEST_CASE("doctor: a listener on port 2375") {
    fake_host h;
    put(h.root / "proc/net/tcp6", slurp(fixtures / "net_tcp_2375"));
    const auto found = of_check(dd::run_checks(h.env), "docker_tcp");
    REQUIRE(found.size() == 1);
    CHECK(mentions(found[0], "2375"));
    CHECK(mentions(found[0], "/proc/net/tcp6"));
}

TEST_CASE("doctor: users in the docker group, but not dockpold itself") {
    fake_host h;
    put(h.root / "etc/group", slurp(fixtures / "group_members"));
    auto found = of_check(dd::run_checks(h.env), "docker_group");
    REQUIRE(found.size() == 1);
    CHECK(mentions(found[0], "alice, bob"));
    CHECK(!mentions(found[0], "dockpold,"));
    CHECK(found[0].message.find("dockpold") == std::string::npos);

    // A user whose primary group is docker counts as well.
    put(h.root / "etc/group", slurp(fixtures / "group_clean"));
    put(h.root / "etc/passwd", slurp(fixtures / "passwd_primary"));
    found = of_check(dd::run_checks(h.env), "docker_group");
    REQUIRE(found.size() == 1);
    CHECK(mentions(found[0], "carol"));
}

TEST_CASE("doctor: a world-accessible docker socket") {
    fake_host h;
    fake_dockerd d(h.socket(), no_containers());
    fs::permissions(h.socket(), fs::perms(0666));
    const auto found = of_check(dd::run_checks(h.env), "docker_socket");
    REQUIRE(found.size() == 1);
    CHECK(found[0].sev == dd::severity::error);
    CHECK(mentions(found[0], "0666"));
}

TEST_CASE("doctor: a missing socket is noted, not counted") {
    fake_host h;
    const auto found = dd::run_checks(h.env);
    CHECK(dd::all_clear(found));
    REQUIRE(of_check(found, "docker_socket").size() == 1);
    CHECK(of_check(found, "docker_socket")[0].sev == dd::severity::info);
    REQUIRE(of_check(found, "socket_mounts").size() == 1);
    CHECK(of_check(found, "socket_mounts")[0].sev == dd::severity::info);
}

TEST_CASE("doctor: dockerd authorization plugins in daemon.json") {
    fake_host h;
    put(h.root / "etc/docker/daemon.json", slurp(fixtures / "daemon_authz.json"));
    const auto found = of_check(dd::run_checks(h.env), "authz_plugin");
    REQUIRE(found.size() == 1);
    CHECK(mentions(found[0], "opa-docker-authz"));
}

TEST_CASE("doctor: dockpol's own plugin (dockpold plugin) is not a way around dockpol") {
    fake_host h;
    put(h.root / "etc/docker/daemon.json", slurp(fixtures / "daemon_authz_dockpol.json"));
    CHECK(of_check(dd::run_checks(h.env), "authz_plugin").empty());
    put(h.root / "etc/docker/daemon.json", slurp(fixtures / "daemon_authz_dockpol_and_opa.json"));
    const auto found = of_check(dd::run_checks(h.env), "authz_plugin");
    REQUIRE(found.size() == 1);
    CHECK(mentions(found[0], "plugin(s) opa-docker-authz ("));
}

TEST_CASE("doctor: running containers that bind-mount the socket") {
    fake_host h;
    fake_dockerd d(h.socket(), {{"/containers/json", slurp(fixtures / "containers.json")},
                                {"/containers/aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111/json",
                                 slurp(fixtures / "inspect_web.json")},
                                {"/containers/bbbb2222bbbb2222bbbb2222bbbb2222bbbb2222bbbb2222bbbb2222bbbb2222/json",
                                 slurp(fixtures / "inspect_portainer.json")},
                                {"/containers/cccc3333cccc3333cccc3333cccc3333cccc3333cccc3333cccc3333cccc3333/json",
                                 slurp(fixtures / "inspect_dockpold.json")}});
    fs::permissions(h.socket(), fs::perms(0660));
    const auto found = of_check(dd::run_checks(h.env), "socket_mounts");
    REQUIRE(found.size() == 1);   // portainer; dockpold's own container is labelled
    CHECK(mentions(found[0], "'portainer'"));
    CHECK(mentions(found[0], "/var/run/docker.sock"));
    CHECK(d.requests() == 4);
}

TEST_CASE("doctor: mount sources that expose the socket") {
    using dd::detail::exposes_socket;
    CHECK(exposes_socket("/var/run/docker.sock", "/var/run/docker.sock"));
    CHECK(exposes_socket("/var/run/", "/var/run/docker.sock"));
    CHECK(exposes_socket("/run", "/var/run/docker.sock"));
    CHECK(exposes_socket("/", "/var/run/docker.sock"));
    CHECK(!exposes_socket("/var/run/docker.sock.bak", "/var/run/docker.sock"));
    CHECK(!exposes_socket("/var/lib/docker", "/var/run/docker.sock"));
    CHECK(!exposes_socket("", "/var/run/docker.sock"));
}

TEST_CASE("doctor: dockpold's key readable by others") {
    fake_host h;
    fs::permissions(*h.env.tls_key, fs::perms(0644));
    const auto found = of_check(dd::run_checks(h.env), "tls_key");
    REQUIRE(found.size() == 1);
    CHECK(mentions(found[0], "0644"));
    CHECK(mentions(found[0], "every local user"));
}

TEST_CASE("doctor: expired and expiring certificates") {
    fake_host h;
    write_cert(*h.env.tls_cert, -400, -3);
    auto found = of_check(dd::run_checks(h.env), "tls_cert");
    REQUIRE(found.size() == 1);
    CHECK(found[0].sev == dd::severity::error);
    CHECK(mentions(found[0], "expired 3 day(s) ago"));

    // Half a day past 10 days, so the whole days left do not depend on when the check runs.
    write_cert(*h.env.tls_cert, -300, 10, 43200);
    found = of_check(dd::run_checks(h.env), "tls_cert");
    REQUIRE(found.size() == 1);
    CHECK(found[0].sev == dd::severity::warning);
    CHECK(mentions(found[0], "expires in 10 day(s)"));
}

TEST_CASE("doctor: bundle signature and age") {
    fake_host h;
    SECTION("signed by another key: rejected") {
        const auto other = std::get<rt::signing_key>(rt::generate_signing_key());
        write_bundle(*h.env.bundle, &other);
        const auto found = of_check(dd::run_checks(h.env), "bundle_signature");
        REQUIRE(found.size() == 1);
        CHECK(found[0].sev == dd::severity::error);
        CHECK(mentions(found[0], "rejected"));
    }
    SECTION("unsigned and no public key") {
        write_bundle(*h.env.bundle, nullptr);
        h.env.bundle_pubkeys.clear();
        const auto found = of_check(dd::run_checks(h.env), "bundle_signature");
        REQUIRE(found.size() == 1);
        CHECK(mentions(found[0], "is unsigned"));
    }
    SECTION("old") {
        const auto old = fs::file_time_type::clock::now() - std::chrono::hours(24 * 20);
        fs::last_write_time(*h.env.bundle, old);
        const auto found = of_check(dd::run_checks(h.env), "bundle_age");
        REQUIRE(found.size() == 1);
        CHECK(mentions(found[0], "20 days ago"));
    }
}

TEST_CASE("doctor: options and --config from the systemd unit") {
    const std::vector<std::string> args = {"--root", "/tmp/x/", "--format", "json", "--config",
                                           std::string(DOCKPOL_SOURCE_ROOT) + "/examples/deploy/dockpold.service"};
    auto parsed = dd::parse_options(args);
    REQUIRE(std::holds_alternative<dd::options>(parsed));
    const auto& o = std::get<dd::options>(parsed);
    CHECK(o.json);
    CHECK(o.env.root == "/tmp/x");
    CHECK(o.env.tls_cert == std::optional<std::string>("/etc/dockpol/server.pem"));
    CHECK(o.env.tls_key == std::optional<std::string>("/etc/dockpol/server-key.pem"));
    CHECK(o.env.bundle == std::optional<std::string>("/var/lib/dockpold/bundle.dpb"));
    CHECK(o.env.docker_socket == "/var/run/docker.sock");
    CHECK(o.env.bundle_pubkeys == std::vector<std::string>{"/etc/dockpol/bundle-signing.pub.pem"});

    // Compose's `--flag=value` spelling.
    auto compose = dd::parse_options(std::vector<std::string>{
        "--config", std::string(DOCKPOL_SOURCE_ROOT) + "/examples/deploy/compose.yaml"});
    REQUIRE(std::holds_alternative<dd::options>(compose));
    CHECK(std::get<dd::options>(compose).env.bundle == std::optional<std::string>("/bundle/bundle.dpb"));
    CHECK(std::get<dd::options>(compose).env.tls_key == std::optional<std::string>("/etc/dockpol/server-key.pem"));

    CHECK(std::holds_alternative<std::string>(dd::parse_options(std::vector<std::string>{"--format", "yaml"})));
    CHECK(std::holds_alternative<std::string>(dd::parse_options(std::vector<std::string>{"--docker", "tcp://x:1"})));
    CHECK(std::holds_alternative<std::string>(dd::parse_options(std::vector<std::string>{"--bogus", "1"})));
    CHECK(std::holds_alternative<std::string>(dd::parse_options(std::vector<std::string>{"--root"})));
}

TEST_CASE("doctor: exit status and JSON shape") {
    fake_host h;
    put(h.root / "etc/docker/daemon.json", slurp(fixtures / "daemon_tcp.json"));
    const std::vector<std::string> args = {"--root", h.root.string(), "--format", "json"};
    CHECK(dockpol::sidecar::run_doctor(args) == dd::exit_found);
    const auto j = nlohmann::json::parse(dd::render_json(dd::run_checks(h.env)));
    CHECK(j["ok"] == false);
    REQUIRE(j["findings"].is_array());
    for (const auto& f : j["findings"]) {
        CHECK(f.size() == 4);
        CHECK(f["check"].is_string());
        CHECK(f["fix"].is_string());
        CHECK((f["severity"] == "error" || f["severity"] == "warning" || f["severity"] == "info"));
    }
    put(h.root / "etc/docker/daemon.json", slurp(fixtures / "daemon_clean.json"));
    CHECK(dockpol::sidecar::run_doctor(args) == dd::exit_clean);
    CHECK(dockpol::sidecar::run_doctor(std::vector<std::string>{"--format"}) == dd::exit_usage);
}

} // namespace sidecar_doctor_test
