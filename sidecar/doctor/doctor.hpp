// `dockpold doctor`: runs on the host and looks for the ways around dockpol
// (dockerd on TCP without client certificates, users in the socket's group,
// a world-accessible socket, containers holding the socket, authorization
// plugins) and for weaknesses of dockpold's own set-up (key permissions,
// certificate expiry, bundle age and signature). Prints each finding with
// what to do; exit 1 if any is found, 0 when clean, 2 on usage errors.
#pragma once
#include <cstdio>
#include <span>
#include <string>
#include <variant>

#include "doctor_access.hpp"
#include "doctor_docker.hpp"
#include "doctor_dockerd.hpp"
#include "doctor_env.hpp"
#include "doctor_files.hpp"
#include "doctor_finding.hpp"

namespace dockpol::sidecar {

namespace doctor {

inline constexpr int exit_clean = 0;
inline constexpr int exit_found = 1;
inline constexpr int exit_usage = 2;

inline constexpr const char* usage =
    "usage: dockpold doctor [--docker unix:///PATH] [--format text|json] [--root DIR] [--config F]\n"
    "                       [--tls-cert F] [--tls-key F] [--bundle F] [--bundle-pubkey F]... [--account USER]\n"
    "--config F reads dockpold's flags (--tls-cert, --tls-key, --bundle, --bundle-cache, --bundle-pubkey,\n"
    "--docker) from an arguments file or the systemd unit that starts it.\n";

struct options {
    environment env;
    bool json = false;
};

// Words of a flags file or a unit's ExecStart=: whitespace-separated, `#` comments, `\` line continuations.
inline std::vector<std::string> config_words(const std::string& text) {
    std::vector<std::string> words;
    for (const auto& raw : split(text, '\n')) {
        std::string line = raw;
        if (const auto hash = line.find('#'); hash != std::string::npos && (hash == 0 || line[hash - 1] == ' '))
            line.erase(hash);
        if (starts_with(line, "ExecStart=")) line.erase(0, 10);
        std::string cur;
        for (char c : line + " ") {
            if (c == ' ' || c == '\t' || c == '\\' || c == '"' || c == '\'') {
                if (!cur.empty()) words.push_back(cur);
                cur.clear();
            } else {
                cur += c;
            }
        }
    }
    return words;
}

// Applies a dockpold flag the doctor cares about; false when `flag` is not one.
inline bool apply_flag(environment& env, const std::string& flag, const std::string& value, std::string& error) {
    if (flag == "--tls-cert") {
        env.tls_cert = value;
    } else if (flag == "--tls-key") {
        env.tls_key = value;
    } else if (flag == "--bundle" || flag == "--bundle-cache") {
        env.bundle = value;
    } else if (flag == "--bundle-pubkey") {
        env.bundle_pubkeys.push_back(value);
    } else if (flag == "--docker") {
        if (!starts_with(value, "unix://")) {
            error = "--docker must be a unix:// URL (doctor asks dockerd itself), got " + value;
            return true;
        }
        env.docker_socket = value.substr(7);
    } else {
        return false;
    }
    return true;
}

inline std::variant<options, std::string> parse_options(std::span<const std::string> args) {
    options o;
    std::string error;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (i + 1 >= args.size()) return "missing value after " + a + "\n" + usage;
        const std::string& v = args[++i];
        if (a == "--format") {
            if (v != "text" && v != "json") return "--format must be text or json, got " + v;
            o.json = v == "json";
        } else if (a == "--root") {
            o.env.root = v;
            while (!o.env.root.empty() && o.env.root.back() == '/') o.env.root.pop_back();
        } else if (a == "--account") {
            o.env.account = v;
        } else if (a == "--config") {
            auto text = read_host_file(v);
            if (!text) return "cannot read --config " + v;
            // `--flag=value` (Compose, args files) is the same as `--flag value`.
            std::vector<std::string> words;
            for (auto& w : config_words(*text)) {
                const auto eq = w.find('=');
                if (starts_with(w, "--") && eq != std::string::npos) {
                    words.push_back(w.substr(0, eq));
                    words.push_back(w.substr(eq + 1));
                } else {
                    words.push_back(w);
                }
            }
            for (std::size_t k = 0; k + 1 < words.size(); ++k)
                if (apply_flag(o.env, words[k], words[k + 1], error)) ++k;
            if (!error.empty()) return v + ": " + error;
        } else if (!apply_flag(o.env, a, v, error)) {
            return "unknown option " + a + "\n" + usage;
        }
        if (!error.empty()) return error;
    }
    return o;
}

// Every check, in the order findings are printed.
inline findings run_checks(const environment& env) {
    findings out;
    check_daemon_json(env, out);
    check_dockerd_processes(env, out);
    check_listening_ports(env, out);
    check_socket_mode(env, out);
    check_socket_groups(env, out);
    check_socket_mounts(env, out);
    check_tls_key(env, out);
    check_tls_cert(env, out);
    check_bundle(env, out);
    return out;
}

} // namespace doctor

inline int run_doctor(std::span<const std::string> args) {
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
        std::fputs(doctor::usage, stdout);
        return doctor::exit_clean;
    }
    auto parsed = doctor::parse_options(args);
    if (auto* e = std::get_if<std::string>(&parsed)) {
        std::fprintf(stderr, "dockpold doctor: %s\n", e->c_str());
        return doctor::exit_usage;
    }
    const auto& opt = std::get<doctor::options>(parsed);
    const auto found = doctor::run_checks(opt.env);
    const std::string text = opt.json ? doctor::render_json(found) : doctor::render_text(found);
    std::fputs(text.c_str(), stdout);
    return doctor::all_clear(found) ? doctor::exit_clean : doctor::exit_found;
}

} // namespace dockpol::sidecar
