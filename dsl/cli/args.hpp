// Command-line parsing for dockpolc: each subcommand declares its options as
// a table; the parser returns positional arguments and option values, or a
// usage error. `--opt value` and `--opt=value` are both accepted; `--` ends options.
#pragma once
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dockpol::dsl::cli {

enum class arg_kind {
    flag,      // no value: `--werror`
    single,    // exactly one value, at most once: `-o BUNDLE`
    repeated,  // one value each time, any number of times: `--data F.json`
    list,      // one or more values up to the next option: `--cases A.json B.json`
};

struct option_spec {
    std::string_view name;   // with its dashes: "--data", "-o"
    arg_kind kind;
    std::string_view value;  // what the value is, for --help: "FILE", "BUNDLE" ("" for flags)
    std::string_view help;   // one line for --help
};

struct parsed_args {
    std::vector<std::string> positional;
    std::map<std::string, std::vector<std::string>, std::less<>> values;  // flags map to {}

    bool has(std::string_view name) const { return values.find(name) != values.end(); }
    std::optional<std::string> one(std::string_view name) const {
        auto it = values.find(name);
        if (it == values.end() || it->second.empty()) return std::nullopt;
        return it->second.front();
    }
    std::vector<std::string> all(std::string_view name) const {
        auto it = values.find(name);
        return it == values.end() ? std::vector<std::string>{} : it->second;
    }
};

namespace detail {
inline bool looks_like_option(std::string_view a) { return a.size() > 1 && a.front() == '-'; }
} // namespace detail

// Parses `args` (the words after the subcommand) against `specs`.
inline std::variant<parsed_args, std::string> parse_args(std::span<const std::string> args,
                                                        std::span<const option_spec> specs) {
    parsed_args out;
    bool options_done = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (options_done || !detail::looks_like_option(a)) {
            out.positional.push_back(a);
            continue;
        }
        if (a == "--") {
            options_done = true;
            continue;
        }
        std::string_view name = a;
        std::optional<std::string> inline_value;
        if (auto eq = name.find('='); eq != std::string_view::npos && name.starts_with("--")) {
            inline_value = std::string(name.substr(eq + 1));
            name = name.substr(0, eq);
        }
        const option_spec* spec = nullptr;
        for (const auto& s : specs)
            if (s.name == name) spec = &s;
        if (!spec) return "unknown option " + std::string(name);
        auto& slot = out.values[std::string(name)];
        switch (spec->kind) {
        case arg_kind::flag:
            if (inline_value) return "option " + std::string(name) + " takes no value";
            break;
        case arg_kind::single:
            if (!slot.empty()) return "option " + std::string(name) + " given twice";
            [[fallthrough]];
        case arg_kind::repeated:
            if (inline_value) {
                slot.push_back(*inline_value);
            } else {
                if (i + 1 >= args.size()) return "option " + std::string(name) + " needs a value";
                slot.push_back(args[++i]);
            }
            break;
        case arg_kind::list:
            if (inline_value) slot.push_back(*inline_value);
            // The values run to the next option, so POLICY files go before `--cases`.
            while (i + 1 < args.size() && !detail::looks_like_option(args[i + 1])) slot.push_back(args[++i]);
            if (slot.empty()) return "option " + std::string(name) + " needs at least one value";
            break;
        }
    }
    return out;
}

enum class output_format { text, json };

// `--format text|json`, text by default.
inline std::variant<output_format, std::string> format_of(const parsed_args& a) {
    const auto f = a.one("--format");
    if (!f || *f == "text") return output_format::text;
    if (*f == "json") return output_format::json;
    return "unknown --format \"" + *f + "\" (expected text or json)";
}

// Reference listings (`actions`, `facts`) also print a Markdown page (docs/*.md).
enum class doc_format { text, json, markdown };

// `--format text|json|markdown`, text by default.
inline std::variant<doc_format, std::string> doc_format_of(const parsed_args& a) {
    struct row { std::string_view name; doc_format f; };
    static constexpr row table[] = {{"text", doc_format::text}, {"json", doc_format::json}, {"markdown", doc_format::markdown}};
    const auto f = a.one("--format");
    if (!f) return doc_format::text;
    for (const auto& r : table)
        if (r.name == *f) return r.f;
    return "unknown --format \"" + *f + "\" (expected text, json or markdown)";
}

// The whole command line of a reference listing (actions, diagnostics, facts, limits):
// `--format` and no other word.
inline std::variant<doc_format, std::string> parse_doc_args(std::span<const std::string> args,
                                                            std::span<const option_spec> specs) {
    auto pa = parse_args(args, specs);
    if (auto* e = std::get_if<std::string>(&pa)) return *e;
    const auto& a = std::get<parsed_args>(pa);
    if (!a.positional.empty()) return "unexpected argument " + a.positional.front();
    return doc_format_of(a);
}

// The options shared by build, check, test and eval (docs/cli.md).
inline constexpr option_spec common_options[] = {
    {"--data", arg_kind::repeated, "F.json", "merge JSON constants (e.g. group lists) into the policy; repeatable"},
    {"--werror", arg_kind::flag, "", "treat warnings as errors"},
    {"--format", arg_kind::single, "text|json", "output format (json: diagnostics and results on stdout)"},
};

// Concatenates option tables (the common ones plus a subcommand's own).
inline std::vector<option_spec> with_common(std::span<const option_spec> own) {
    std::vector<option_spec> v(std::begin(common_options), std::end(common_options));
    v.insert(v.end(), own.begin(), own.end());
    return v;
}

} // namespace dockpol::dsl::cli
