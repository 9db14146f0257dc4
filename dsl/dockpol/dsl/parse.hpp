// Text → AST. Each file is split into statements (a statement starts at a
// column-1 line, see grammar.hpp), each statement is parsed with PEGTL into a
// parse tree shaped by a selector, and the tree becomes `ast.hpp` nodes with
// spans. Comments are kept for `fmt`. Syntax errors, bad UTF-8 and the
// parse-time limits become diagnostics; parsing goes on with the next statement.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tao/pegtl.hpp>
#include <tao/pegtl/contrib/parse_tree.hpp>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/detail/text.hpp"
#include "dockpol/dsl/diagnostic.hpp"
#include "dockpol/dsl/grammar.hpp"
#include "dockpol/dsl/grammar_errors.hpp"
#include "dockpol/dsl/limits.hpp"

namespace dockpol::dsl {

namespace detail {

namespace pt = tao::pegtl::parse_tree;
namespace g = grammar;

// The parse tree keeps only the rules the AST is built from.
template <typename Rule>
using selector = pt::selector<
    Rule,
    pt::store_content::on<g::default_stmt, g::let_stmt, g::rule_stmt, g::safe_stmt, g::owner_stmt, g::safe_kind, g::effect,
                          g::own_mark, g::let_name, g::rule_name,
                          g::string_lit, g::owner_name, g::number, g::bool_lit, g::set_lit, g::dotted, g::cmp_op, g::not_expr,
                          g::quantifier, g::quant_kind, g::loop_var, g::loop_list>,
    // `term` is selected only so the control sees it (the parse tree calls a
    // control's start/failure only for selected or leaf rules); it always folds away.
    pt::fold_one::on<g::comparison, g::and_expr, g::condition, g::term>>;

// One statement's bytes [begin, end) in its file.
struct chunk_range {
    std::size_t begin = 0;
    std::size_t end = 0;
};

// Per line: where its comment starts (npos when none), ignoring `#` inside strings.
inline std::vector<std::size_t> comment_starts(std::string_view text, const line_index& li) {
    std::vector<std::size_t> out;
    for (std::uint32_t line = 1; line <= li.line_count(); ++line) {
        std::size_t i = li.line_start(line);
        bool in_string = false;
        std::size_t found = std::string_view::npos;
        for (; i < text.size() && text[i] != '\n'; ++i) {
            const char c = text[i];
            if (in_string) {
                if (c == '\\') ++i;
                else if (c == '"') in_string = false;
            } else if (c == '"') {
                in_string = true;
            } else if (c == '#') {
                found = i;
                break;
            }
        }
        out.push_back(found);
    }
    return out;
}

// Statements begin with a keyword, so a line starting with a letter or `_` at
// column 1 starts one; any other line (indented, a comment, a closing `}` or
// `)`) continues the statement above it.
inline bool starts_statement(std::string_view text, std::size_t line_begin) {
    if (line_begin >= text.size()) return false;
    const char c = text[line_begin];
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// True when the line holds something besides blanks and a comment.
inline bool has_code(std::string_view text, std::size_t line_begin, std::size_t comment_start) {
    for (std::size_t i = line_begin; i < text.size() && text[i] != '\n' && i < comment_start; ++i)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r') return true;
    return false;
}

// Splits a file into statements; the first starts at the first line with code
// (wherever it is, so stray text before it is reported, not skipped).
inline std::vector<chunk_range> split_statements(std::string_view text, const line_index& li,
                                                 const std::vector<std::size_t>& cstarts) {
    std::vector<chunk_range> out;
    for (std::uint32_t line = 1; line <= li.line_count(); ++line) {
        const std::size_t b = li.line_start(line);
        const bool starts = out.empty() ? has_code(text, b, cstarts[line - 1]) : starts_statement(text, b);
        if (!starts) continue;
        if (!out.empty()) out.back().end = b;
        out.push_back({b, text.size()});
    }
    return out;
}

inline std::string unescape(std::string_view lit) {
    std::string out;
    for (std::size_t i = 1; i + 1 < lit.size(); ++i) {
        if (lit[i] != '\\') {
            out += lit[i];
            continue;
        }
        const char c = lit[++i];
        out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
    }
    return out;
}

// Builds AST nodes from one statement's parse tree.
struct ast_builder {
    const std::vector<source_file>& files;
    std::uint32_t file;
    const line_index& li;
    std::size_t base;   // the statement's byte offset in its file
    std::vector<diagnostic>& diags;

    span at(std::size_t b, std::size_t e) const { return li.at(file, base + b, base + e); }
    span sp(const pt::node& n) const { return at(n.m_begin.byte, n.m_end.byte); }
    // Spans of nodes whose content was folded away: from the first child to the last.
    span sp_children(const pt::node& n) const {
        return at(first_byte(n), last_byte(n));
    }
    static std::size_t first_byte(const pt::node& n) {
        return n.has_content() ? n.m_begin.byte : first_byte(*n.children.front());
    }
    static std::size_t last_byte(const pt::node& n) {
        return n.has_content() ? n.m_end.byte : last_byte(*n.children.back());
    }
    // Token rules eat their trailing whitespace; a span ends at the last significant byte.
    span tight(const pt::node& n) const {
        std::size_t b = first_byte(n), e = last_byte(n);
        std::string_view t = std::string_view(files[file].text).substr(base);
        while (e > b && (t[e - 1] == ' ' || t[e - 1] == '\t' || t[e - 1] == '\r' || t[e - 1] == '\n')) --e;
        return at(b, e);
    }

    void limit(span s, std::string msg) {
        diags.push_back(make_diag(files, diag_code::limit, s, std::move(msg)));
    }

    expr string_node(const pt::node& n) {
        expr e;
        e.kind = expr_kind::string_lit;
        e.sp = sp(n);
        e.str = unescape(n.string_view());
        if (e.str.size() > max_string_bytes)
            limit(e.sp, "string literal is " + std::to_string(e.str.size()) + " bytes; the limit is " +
                            std::to_string(max_string_bytes));
        return e;
    }

    expr build(const pt::node& n) {
        count_work();
        expr e;
        if (n.is_type<g::string_lit>() || n.is_type<g::owner_name>()) return string_node(n);
        if (n.is_type<g::number>()) {
            e.kind = expr_kind::number_lit;
            e.sp = sp(n);
            e.text = n.string();
            e.num = std::stod(e.text);
            return e;
        }
        if (n.is_type<g::bool_lit>()) {
            e.kind = expr_kind::bool_lit;
            e.sp = sp(n);
            e.boolean = n.string_view() == "true";
            return e;
        }
        if (n.is_type<g::set_lit>()) {
            e.kind = expr_kind::set_lit;
            e.sp = tight(n);
            for (const auto& c : n.children) e.items.push_back(string_node(*c));
            if (e.items.size() > max_set_elements)
                limit(e.sp, "set has " + std::to_string(e.items.size()) + " elements; the limit is " +
                                std::to_string(max_set_elements));
            return e;
        }
        if (n.is_type<g::dotted>() || n.is_type<g::loop_list>()) {
            e.sp = sp(n);
            e.text = n.string();
            e.kind = e.text.find('.') == std::string::npos ? expr_kind::name_ref : expr_kind::field;
            return e;
        }
        if (n.is_type<g::comparison>()) {
            e.kind = expr_kind::compare;
            e.sp = tight(n);
            e.op = compare_op_of(n.children[1]->string_view());
            e.items.push_back(build(*n.children[0]));
            e.items.push_back(build(*n.children[2]));
            return e;
        }
        if (n.is_type<g::and_expr>() || n.is_type<g::condition>()) {
            e.kind = n.is_type<g::and_expr>() ? expr_kind::and_ : expr_kind::or_;
            e.sp = tight(n);
            for (const auto& c : n.children) e.items.push_back(build(*c));
            return e;
        }
        if (n.is_type<g::not_expr>()) {
            e.kind = expr_kind::not_;
            e.sp = tight(n);
            e.items.push_back(build(*n.children.front()));
            return e;
        }
        if (n.is_type<g::quantifier>()) {
            e.kind = n.children[0]->string_view() == "any" ? expr_kind::any : expr_kind::all;
            e.sp = tight(n);
            e.text = n.children[1]->string();
            e.items.push_back(build(*n.children[2]));
            e.items.push_back(build(*n.children[3]));
            return e;
        }
        // Unreachable for trees the selector produces; an internal error, not a user one.
        diags.push_back(make_diag(files, diag_code::internal, sp(n),
                                  "internal error: unexpected parse node " + std::string(n.type) +
                                      " (please report this)"));
        return e;
    }

    static compare_op compare_op_of(std::string_view op) {
        struct row { std::string_view text; compare_op op; };
        static constexpr row table[] = {
            {"==", compare_op::eq}, {"!=", compare_op::ne}, {"in", compare_op::in},
            {"matches", compare_op::matches}, {"covers", compare_op::covers}, {"<", compare_op::lt},
            {"<=", compare_op::le}, {">", compare_op::gt}, {">=", compare_op::ge},
        };
        for (const auto& r : table)
            if (r.text == op) return r.op;
        return compare_op::eq;
    }

    static rt::effect effect_of(const pt::node& n) {
        return n.string_view().substr(0, 5) == "allow" ? rt::effect::allow : rt::effect::deny;
    }
};

// Parses all statements of one file into `pol`.
inline void parse_file(policy& pol, std::uint32_t file, std::vector<diagnostic>& diags) {
    const auto& files = pol.files;
    const std::string& text = files[file].text;
    parsed_file pf;
    const line_index li(text);
    auto diag = [&](diag_code code, span s, std::string msg, std::string help = {}) {
        diags.push_back(make_diag(files, code, s, std::move(msg), std::move(help)));
    };
    if (text.size() > max_file_bytes) {
        diag(diag_code::limit, li.at(file, 0, 0),
             "file is " + std::to_string(text.size()) + " bytes; the limit is " + std::to_string(max_file_bytes));
        pol.parsed[file] = std::move(pf);
        return;
    }
    if (auto bad = invalid_utf8_at(text)) {
        diag(diag_code::parse, li.at(file, *bad, *bad + 1), "invalid UTF-8 in the source");
        pol.parsed[file] = std::move(pf);
        return;
    }

    const auto cstarts = comment_starts(text, li);
    auto comment_text = [&](std::uint32_t line) {
        std::string_view t(text);
        std::size_t b = cstarts[line - 1];
        std::size_t e = t.find('\n', b);
        if (e == std::string_view::npos) e = t.size();
        while (e > b && (t[e - 1] == ' ' || t[e - 1] == '\t' || t[e - 1] == '\r')) --e;
        return std::string(t.substr(b, e - b));
    };
    // Comment lines not yet attached to a statement, in order.
    std::vector<std::string> pending;
    std::uint32_t next_comment_line = 1;
    auto take_comments_until = [&](std::uint32_t last_line) {
        for (; next_comment_line <= last_line && next_comment_line <= li.line_count(); ++next_comment_line)
            if (cstarts[next_comment_line - 1] != std::string_view::npos)
                pending.push_back(comment_text(next_comment_line));
    };

    for (const auto& ch : split_statements(text, li, cstarts)) {
        const std::string_view body = std::string_view(text).substr(ch.begin, ch.end - ch.begin);
        // The statement's code ends at its last byte outside whitespace and comments.
        std::size_t code_end = ch.begin;
        for (std::uint32_t line = li.at(file, ch.begin, ch.begin).line; line <= li.line_count(); ++line) {
            const std::size_t lb = li.line_start(line);
            if (lb >= ch.end) break;
            std::size_t le = std::min<std::size_t>(text.find('\n', lb) == std::string::npos ? text.size() : text.find('\n', lb), ch.end);
            if (cstarts[line - 1] != std::string_view::npos) le = std::min(le, cstarts[line - 1]);
            while (le > lb && (text[le - 1] == ' ' || text[le - 1] == '\t' || text[le - 1] == '\r')) --le;
            if (le > lb) code_end = le;
        }
        const std::uint32_t code_last_line = li.at(file, code_end, code_end).line;
        // Comments above the statement and inside it are kept with it (inner ones move above it).
        take_comments_until(code_last_line);
        std::vector<std::string> comments = std::move(pending);
        pending.clear();

        tao::pegtl::memory_input in(body.data(), body.size(), files[file].name);
        g::parse_state ps;
        std::unique_ptr<pt::node> root;
        try {
            root = pt::parse<g::chunk, selector, tao::pegtl::nothing, g::control>(in, ps);
        } catch (const tao::pegtl::parse_error& e) {
            std::size_t at = e.positions().empty() ? 0 : e.positions().front().byte;
            // An error at the very end points just after the last code, not at the next line.
            at = std::min(ch.begin + at, std::max(code_end, ch.begin));
            diag(diag_code::parse, li.at(file, at, at + 1), std::string(e.message()));
            continue;
        } catch (const g::nesting_too_deep& e) {
            diag(diag_code::limit, li.at(file, ch.begin + e.byte, ch.begin + e.byte + 1),
                 "condition is nested more than " + std::to_string(max_nesting_depth) +
                     " levels deep (parentheses, 'not', 'any'/'all')");
            continue;
        }
        if (!root || root->children.empty()) continue;
        const pt::node& st = *root->children.front();
        ast_builder b{files, file, li, ch.begin, diags};
        const span stmt_sp = li.at(file, ch.begin, code_end);
        statement s{stmt_kind::default_, 0, std::move(comments)};
        if (st.is_type<g::default_stmt>()) {
            default_decl d{ast_builder::effect_of(*st.children[0]), stmt_sp};
            if (pol.def) {
                const span& first = pol.def->sp;
                diag(diag_code::duplicate_default, stmt_sp, "a policy has one 'default'; this is a second one",
                     "the first is at " + files[first.file].name + ":" + std::to_string(first.line) + ":" +
                         std::to_string(first.column));
            } else {
                pol.def = d;
            }
        } else if (st.is_type<g::let_stmt>()) {
            let_decl d;
            d.name = st.children[0]->string();
            d.name_sp = b.sp(*st.children[0]);
            d.value = b.build(*st.children[1]);
            d.sp = stmt_sp;
            s.kind = stmt_kind::let;
            s.index = pol.lets.size();
            pol.lets.push_back(std::move(d));
        } else if (st.is_type<g::safe_stmt>()) {
            safe_decl d;
            d.what = st.children[0]->string_view().substr(0, 4) == "host" ? safe_list::host_paths
                                                                           : safe_list::volume_drivers;
            d.value = b.build(*st.children[1]);
            d.sp = stmt_sp;
            s.kind = stmt_kind::safe;
            s.index = pol.safes.size();
            pol.safes.push_back(std::move(d));
        } else if (st.is_type<g::owner_stmt>()) {
            owner_decl d;
            d.name = b.build(*st.children[0]);
            d.sp = stmt_sp;
            s.kind = stmt_kind::owner;
            s.index = pol.owners.size();
            pol.owners.push_back(std::move(d));
        } else {
            rule_decl r;
            r.name = st.children[0]->string();
            r.name_sp = b.sp(*st.children[0]);
            r.eff = ast_builder::effect_of(*st.children[1]);
            std::size_t next = 2;
            if (st.children.size() > next && st.children[next]->is_type<g::own_mark>()) {
                r.own_sp = b.tight(*st.children[next]);
                if (r.eff == rt::effect::allow) r.own = true;
                else diag(diag_code::parse, r.own_sp, "`own` applies to `allow` rules only", "write `deny` alone");
                ++next;
            }
            if (st.children.size() > next) r.cond = b.build(*st.children[next]);
            r.sp = stmt_sp;
            s.kind = stmt_kind::rule;
            s.index = pol.rules.size();
            if (pol.rules.size() == max_rules)
                diag(diag_code::limit, r.name_sp, "more than " + std::to_string(max_rules) + " rules in the policy");
            pol.rules.push_back(std::move(r));
        }
        pf.statements.push_back(std::move(s));
    }
    take_comments_until(li.line_count());
    pf.trailing_comments = std::move(pending);
    pol.parsed[file] = std::move(pf);
}

} // namespace detail

// Parses every file into one policy: rules in file order, then source order.
inline policy parse_policy(std::vector<source_file> files, std::vector<diagnostic>& diags) {
    policy pol;
    pol.files = std::move(files);
    pol.parsed.resize(pol.files.size());
    for (std::uint32_t f = 0; f < pol.files.size(); ++f) detail::parse_file(pol, f, diags);
    return pol;
}

} // namespace dockpol::dsl
