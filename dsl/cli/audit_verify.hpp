// `dockpolc audit-verify LOG... [--pubkey PUB.pem]... [--open] [--format text|json]`:
// checks dockpold's tamper-evident audit chain (docs/request-model.md#tamper-evident-chain).
// The files, oldest first, are one chain: each line's `prev` must be the hash
// of the line before it, checkpoints must agree with the lines before them
// and, with --pubkey, be signed by one of the keys, and the log must end
// with a final checkpoint (unless --open). The first broken or missing line
// is reported as FILE:LINE. Exit 0 clean, 1 tampering or truncation, 2 an
// unreadable file, a bad key or bad arguments.
#pragma once
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/args.hpp"
#include "cli/command.hpp"
#include "cli/common.hpp"
#include "cli/keys.hpp"
#include "dockpol/rt/audit_chain.hpp"
#include "dockpol/rt/limits.hpp"
#include "dockpol/rt/signature.hpp"

namespace dockpol::dsl::cli {

namespace detail::audit {

namespace chain = rt::audit_chain;

// A place in the log and what was found there.
struct finding {
    std::string file;
    std::uint64_t line = 0;
    std::string message;
};

struct verify_report {
    std::optional<finding> error;   // the first break; none when the chain is intact
    std::vector<finding> notes;     // drops, restarts, unsealed lines: shown, not failures
    std::uint64_t audit_lines = 0;
    std::uint64_t checkpoints = 0;
    std::uint64_t dropped = 0;      // lines the writer's queue dropped, summed over the checkpoints
    std::uint64_t unsealed = 0;     // --open: audit lines after the last checkpoint
    bool signatures_checked = false;
};

// What the verifier needs from a checkpoint line.
struct checkpoint_fields {
    chain::checkpoint_kind kind{};
    std::uint64_t seq = 0, lines = 0, dropped = 0;
    std::string key_id;
};

inline std::optional<std::uint64_t> count_of(const nlohmann::json& o, const char* key) {
    auto it = o.find(key);
    if (it == o.end() || !it->is_number_unsigned()) return std::nullopt;
    return it->get<std::uint64_t>();
}

// The checkpoint's fields, or why they are malformed.
inline std::variant<checkpoint_fields, std::string> checkpoint_of(const nlohmann::json& cp) {
    if (!cp.is_object()) return std::string("`checkpoint` is not an object");
    checkpoint_fields f;
    auto kind = cp.find("kind");
    if (kind == cp.end() || !kind->is_string()) return std::string("checkpoint without a `kind`");
    auto k = chain::kind_of(kind->get<std::string>());
    if (!k) return "unknown checkpoint kind \"" + kind->get<std::string>() + "\"";
    f.kind = *k;
    auto seq = count_of(cp, "seq"), lines = count_of(cp, "lines"), dropped = count_of(cp, "dropped");
    if (!seq || !lines || !dropped) return std::string("checkpoint without `seq`, `lines` and `dropped` counts");
    f.seq = *seq;
    f.lines = *lines;
    f.dropped = *dropped;
    if (auto id = cp.find("key_id"); id != cp.end()) {
        if (!id->is_string()) return std::string("checkpoint `key_id` is not a string");
        f.key_id = id->get<std::string>();
    }
    return f;
}

// Fed the lines of the files in order; stops at the first break.
class chain_verifier {
public:
    chain_verifier(std::span<const rt::public_key> keys, bool open_log) : keys_(keys), open_(open_log) {
        report_.signatures_checked = !keys.empty();
    }

    bool failed() const { return report_.error.has_value(); }

    // One whole line (without its newline), `n` counting from 1 in `file`.
    void line(const std::string& file, std::uint64_t n, std::string_view text) {
        if (failed()) return;
        const bool file_start = n == 1;
        auto j = nlohmann::json::parse(text, nullptr, false);
        if (j.is_discarded() || !j.is_object())
            return fail(file, n, "not a JSON object: the line was altered or cut");
        auto prev_it = j.find(chain::prev_key);
        if (prev_it == j.end() || !prev_it->is_string() || !chain::is_hash_text(prev_it->get<std::string>()))
            return fail(file, n, "no `prev` hash: not a line of a chained audit log, or altered");
        const std::string prev = prev_it->get<std::string>();
        std::optional<checkpoint_fields> cp;
        if (auto c = j.find(chain::checkpoint_key); c != j.end()) {
            auto f = checkpoint_of(*c);
            if (auto* e = std::get_if<std::string>(&f)) return fail(file, n, *e);
            cp = std::get<checkpoint_fields>(f);
        }
        if (!anchored_) {
            // The first line given must be where the writer began: a start, or the rotate that opens a file.
            if (!cp || (cp->kind != chain::checkpoint_kind::start && cp->kind != chain::checkpoint_kind::rotate))
                return fail(file, n, "the log does not begin with a start or rotate checkpoint: its beginning is missing");
            if (prev != chain::genesis_prev)
                note(file, n, "the chain continues from a line before this one that was not given (prev " +
                                  prev.substr(0, 16) + "…)");
        } else if (prev != last_hash_) {
            return fail(file, n, "`prev` is not the hash of " + last_where_ +
                                     ": that line was altered, or lines were removed, inserted or reordered here" +
                                     (file_start ? " (or the files are not given oldest first)" : ""));
        }
        // Nothing follows a stop but dockpold's next start; a close is its file's last line.
        if (anchored_ && last_was_checkpoint_ && last_kind_ == chain::checkpoint_kind::stop &&
            !(cp && cp->kind == chain::checkpoint_kind::start))
            return fail(file, n, "a line after the stop checkpoint that ended the log (only a start may follow)");
        if (anchored_ && last_was_checkpoint_ && last_kind_ == chain::checkpoint_kind::close && !file_start)
            return fail(file, n, "a line after the close checkpoint that ended this file");
        if (cp) {
            if (!checkpoint(file, n, text, *cp)) return;
        } else {
            if (closed_file_)
                return fail(file, n, "a file after a closed one must begin with its rotate checkpoint");
            ++report_.audit_lines;
            ++lines_;
            ++unsealed_;
            last_was_checkpoint_ = false;
        }
        anchored_ = true;
        last_hash_ = chain::line_hash(text);
        last_where_ = file + ":" + std::to_string(n);
        last_file_ = file;
        last_line_ = n;
    }

    // The file's last bytes have no newline: a line cut in the middle.
    void cut_line(const std::string& file, std::uint64_t n, bool last_file) {
        if (failed()) return;
        if (last_file && open_) {
            note(file, n, "a line still being written (no newline yet); not checked");
            return;
        }
        fail(file, n, "the file ends in the middle of a line (cut)");
    }

    void too_long(const std::string& file, std::uint64_t n) {
        fail(file, n, "line longer than " + std::to_string(rt::limits::max_audit_line_bytes) +
                          " bytes (max_audit_line_bytes): not a line dockpold wrote");
    }

    // A file ended after `lines` whole lines.
    void end_file(const std::string& file, std::uint64_t lines) {
        if (failed()) return;
        if (lines == 0) {
            if (!open_) fail(file, 1, "missing: the file is empty (no start or rotate checkpoint)");
            return;
        }
        // A close seals its file; the next file must open with the rotate that names it.
        closed_file_ = last_was_checkpoint_ && last_kind_ == chain::checkpoint_kind::close;
    }

    verify_report finish() {
        if (!failed() && anchored_ && !sealed()) {
            if (open_) {
                report_.unsealed = unsealed_;
                if (unsealed_ > 0)
                    note(last_file_, last_line_, std::to_string(unsealed_) +
                                                     " audit lines after the last checkpoint are not sealed yet (--open)");
            } else {
                fail(last_file_, last_line_ + 1,
                     "missing: the log ends after line " + std::to_string(last_line_) +
                         " without a final checkpoint (truncated; use --open for a log dockpold is still writing)");
            }
        }
        return report_;
    }

private:
    void fail(const std::string& file, std::uint64_t n, std::string message) {
        if (!failed()) report_.error = finding{file, n, std::move(message)};
    }
    void note(const std::string& file, std::uint64_t n, std::string message) {
        report_.notes.push_back(finding{file, n, std::move(message)});
    }

    // The lines so far end with a stop or a close checkpoint.
    bool sealed() const {
        return last_was_checkpoint_ &&
               (last_kind_ == chain::checkpoint_kind::stop || last_kind_ == chain::checkpoint_kind::close);
    }

    bool checkpoint(const std::string& file, std::uint64_t n, std::string_view text, const checkpoint_fields& cp) {
        using k = chain::checkpoint_kind;
        const std::string where = "checkpoint (" + std::string(chain::kind_name(cp.kind)) + ")";
        if (!signature_ok(file, n, text, cp)) return false;
        if (cp.kind == k::rotate && n != 1) {
            fail(file, n, where + " inside a file: a rotate checkpoint is always a file's first line");
            return false;
        }
        if (anchored_ && cp.kind == k::rotate && !closed_file_) {
            fail(file, n, where + ": the file before it does not end with its close checkpoint");
            return false;
        }
        if (anchored_ && closed_file_ && n == 1 && cp.kind != k::rotate && cp.kind != k::start) {
            fail(file, n, where + ": a file after a closed one must begin with its rotate checkpoint");
            return false;
        }
        if (cp.kind == k::start) {
            if (cp.seq != 0 || cp.lines != 0) {
                fail(file, n, where + ": a start checkpoint has seq 0 and lines 0");
                return false;
            }
            if (anchored_ && !sealed())
                note(file, n, "dockpold restarted here; the " + std::to_string(unsealed_) +
                                  " audit lines before it were never sealed by a final checkpoint (a crash?)");
            lines_ = 0;
            dropped_ = 0;
        } else if (!anchored_) {
            // A rotate opening the first file given: its counts are where the chain picks up.
            lines_ = cp.lines;
            dropped_ = 0;
        } else {
            if (cp.seq != seq_ + 1) {
                fail(file, n, where + ": seq " + std::to_string(cp.seq) + " after " + std::to_string(seq_) +
                                  " (a checkpoint was removed or reordered)");
                return false;
            }
            if (cp.lines != lines_) {
                fail(file, n, where + " counts " + std::to_string(cp.lines) + " audit lines, the log has " +
                                  std::to_string(lines_) + " (lines were removed or inserted)");
                return false;
            }
            if (cp.dropped < dropped_) {
                fail(file, n, where + ": dropped went down from " + std::to_string(dropped_) + " to " +
                                  std::to_string(cp.dropped));
                return false;
            }
        }
        if (cp.dropped > dropped_) {
            note(file, n, std::to_string(cp.dropped - dropped_) +
                              " audit lines were dropped by dockpold's full queue before this checkpoint (never written)");
            report_.dropped += cp.dropped - dropped_;
        }
        seq_ = cp.seq;
        dropped_ = cp.dropped;
        ++report_.checkpoints;
        unsealed_ = 0;
        last_kind_ = cp.kind;
        last_was_checkpoint_ = true;
        closed_file_ = false;
        return true;
    }

    bool signature_ok(const std::string& file, std::uint64_t n, std::string_view text, const checkpoint_fields& cp) {
        if (keys_.empty()) return true;
        const auto parts = chain::split_signature(text);
        if (parts.sig_base64.empty()) {
            fail(file, n, "checkpoint is not signed (dockpold ran without --audit-key, or the signature was removed)");
            return false;
        }
        for (const auto& k : keys_)
            if ((cp.key_id.empty() || cp.key_id == k.key_id) && chain::signed_by(parts, k)) return true;
        fail(file, n, "checkpoint signature does not verify with any --pubkey" +
                          (cp.key_id.empty() ? std::string() : " (signed by key " + cp.key_id + ")") +
                          ": the checkpoint was altered or signed by another key");
        return false;
    }

    std::span<const rt::public_key> keys_;
    bool open_;
    verify_report report_;
    bool anchored_ = false;
    std::string last_hash_;
    std::string last_where_;
    std::string last_file_;
    std::uint64_t last_line_ = 0;
    bool last_was_checkpoint_ = false;
    chain::checkpoint_kind last_kind_ = chain::checkpoint_kind::periodic;
    bool closed_file_ = false;   // the previous file ended with its close checkpoint
    std::uint64_t seq_ = 0;
    std::uint64_t lines_ = 0;    // audit lines since the writer's start
    std::uint64_t dropped_ = 0;
    std::uint64_t unsealed_ = 0;
};

// Feeds one file to the verifier a line at a time (logs can be large; memory stays one line).
inline void verify_file(chain_verifier& v, const std::string& path, std::FILE* f, bool last_file) {
    std::string line;
    std::uint64_t n = 0;
    bool overlong = false;
    char buf[1 << 16];
    for (std::size_t got; (got = std::fread(buf, 1, sizeof buf, f)) > 0;) {
        std::string_view chunk(buf, got);
        while (!chunk.empty() && !v.failed()) {
            const auto nl = chunk.find('\n');
            const auto part = chunk.substr(0, nl);
            if (line.size() + part.size() > rt::limits::max_audit_line_bytes) overlong = true;
            else line += part;
            if (nl == std::string_view::npos) break;
            chunk.remove_prefix(nl + 1);
            ++n;
            if (overlong) return v.too_long(path, n);
            v.line(path, n, line);
            line.clear();
        }
        if (v.failed()) return;
    }
    if (overlong) return v.too_long(path, n + 1);
    if (!line.empty()) return v.cut_line(path, n + 1, last_file);
    v.end_file(path, n);
}

inline nlohmann::ordered_json finding_json(const finding& f) {
    return {{"file", f.file}, {"line", f.line}, {"message", f.message}};
}

} // namespace detail::audit

inline constexpr option_spec audit_verify_options[] = {
    {"--pubkey", arg_kind::repeated, "PUB.pem", "every checkpoint must be signed by one of these keys (repeatable)"},
    {"--open", arg_kind::flag, "", "the log is still being written: lines after the last checkpoint are counted, not an error"},
    {"--format", arg_kind::single, "text|json", "output format"},
};

inline int run_audit_verify(std::span<const std::string> args) {
    namespace au = detail::audit;
    auto pa = parse_args(args, audit_verify_options);
    if (auto* e = std::get_if<std::string>(&pa)) return fail("audit-verify: " + *e);
    const auto& a = std::get<parsed_args>(pa);
    auto fmt = format_of(a);
    if (auto* e = std::get_if<std::string>(&fmt)) return fail("audit-verify: " + *e);
    const bool json_out = std::get<output_format>(fmt) == output_format::json;
    if (a.positional.empty()) return fail("audit-verify: give the audit log files, oldest first");
    auto key_list = load_public_keys("audit-verify", a.all("--pubkey"));
    if (auto* code = std::get_if<int>(&key_list)) return *code;
    const auto& keys = std::get<std::vector<rt::public_key>>(key_list);

    // Every file is opened first: an unreadable one is exit 2, whatever the others hold.
    struct closer {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };
    std::vector<std::unique_ptr<std::FILE, closer>> files;
    for (const auto& p : a.positional) {
        std::FILE* f = std::fopen(p.c_str(), "rb");
        if (!f) return fail("audit-verify: cannot read " + p + ": " + std::strerror(errno));
        files.emplace_back(f);
    }
    au::chain_verifier v(keys, a.has("--open"));
    for (std::size_t i = 0; i < files.size() && !v.failed(); ++i) {
        au::verify_file(v, a.positional[i], files[i].get(), i + 1 == files.size());
        if (std::ferror(files[i].get())) return fail("audit-verify: cannot read " + a.positional[i]);
    }
    const auto r = v.finish();

    if (json_out) {
        nlohmann::ordered_json out;
        out["ok"] = !r.error;
        out["error"] = r.error ? au::finding_json(*r.error) : nlohmann::ordered_json(nullptr);
        out["notes"] = nlohmann::ordered_json::array();
        for (const auto& n : r.notes) out["notes"].push_back(au::finding_json(n));
        out["files"] = a.positional;
        out["audit_lines"] = r.audit_lines;
        out["checkpoints"] = r.checkpoints;
        out["dropped"] = r.dropped;
        out["unsealed"] = r.unsealed;
        out["signatures"] = r.signatures_checked ? "checked" : "not checked";
        std::cout << out.dump(2) << '\n';
    } else {
        for (const auto& n : r.notes) std::cout << n.file << ':' << n.line << ": note: " << n.message << '\n';
        if (r.error) std::cout << r.error->file << ':' << r.error->line << ": error: " << r.error->message << '\n';
        std::cout << (r.error ? "FAILED: " : "ok: ") << r.audit_lines << " audit lines, " << r.checkpoints
                  << " checkpoints" << (r.error ? " before the error" : ", chain intact") << "; "
                  << (r.signatures_checked ? "signatures checked" : "signatures not checked (no --pubkey)");
        if (r.dropped) std::cout << "; " << r.dropped << " lines dropped by the queue";
        if (r.unsealed) std::cout << "; " << r.unsealed << " unsealed";
        std::cout << '\n';
    }
    return r.error ? exit_fail : exit_ok;
}

inline constexpr command_info audit_verify_command{
    "audit-verify", "LOG... [--pubkey PUB.pem]... [--open] [--format text|json]",
    "check dockpold's audit log chain and signed checkpoints; reports the first altered, missing or extra line",
    audit_verify_options, false,
    "dockpolc audit-verify /var/log/dockpold/audit.log.1 /var/log/dockpold/audit.log --pubkey audit.pub\n"
    "dockpolc audit-verify /var/log/dockpold/audit.log --open",
    run_audit_verify};

} // namespace dockpol::dsl::cli
