// The derived facts' functions, and the table (generated from facts.def)
// that maps each fact field to the function computing it.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "dockpol/rt/detail/fact_context.hpp"
#include "dockpol/rt/detail/fact_rules.hpp"
#include "dockpol/rt/fields.hpp"
#include "dockpol/rt/image_ref.hpp"
#include "dockpol/rt/value.hpp"

namespace dockpol::rt::detail {

using fact_fn = value (*)(fact_context&, std::size_t slot);

inline value strings(const std::vector<std::string>& xs) {
    std::vector<value> items;
    items.reserve(xs.size());
    for (const auto& x : xs) items.push_back(value::string(x));
    return value::list(std::move(items));
}

inline value optional_string(const std::optional<std::string>& s) { return s ? value::string(*s) : value::absent(); }

// --- container facts: one function per CONTAINER_FACT row, for either side ----

namespace container_fns {

// c.container(sd, true): facts that need named volumes and joined containers looked up.
inline value privileged(fact_context& c, side sd, std::size_t) {
    const container_summary* s = c.container(sd, false);
    if (!s) return value::absent();
    return value::boolean(s->privileged);
}
inline value host_paths(fact_context& c, side sd, std::size_t) {
    const container_summary* s = c.container(sd, true);
    if (!s) return value::absent();
    return strings(s->host_paths);
}
inline value volumes(fact_context& c, side sd, std::size_t) {
    const container_summary* s = c.container(sd, false);
    if (!s) return value::absent();
    return strings(s->volumes);
}
inline value host_namespaces(fact_context& c, side sd, std::size_t) {
    const container_summary* s = c.container(sd, false);
    if (!s) return value::absent();
    return strings(s->host_namespaces);
}
inline value joins_container(fact_context& c, side sd, std::size_t) {
    const container_summary* s = c.container(sd, false);
    if (!s) return value::absent();
    return value::boolean(s->joins_container);
}
inline value cap_add(fact_context& c, side sd, std::size_t) {
    const container_summary* s = c.container(sd, false);
    if (!s) return value::absent();
    return strings(s->cap_add);
}
inline value devices(fact_context& c, side sd, std::size_t) {
    const container_summary* s = c.container(sd, false);
    if (!s) return value::absent();
    return strings(s->devices);
}
inline value device_cgroup_rules(fact_context& c, side sd, std::size_t) {
    const container_summary* s = c.container(sd, false);
    if (!s) return value::absent();
    return strings(s->device_cgroup_rules);
}
inline value security_opt(fact_context& c, side sd, std::size_t) {
    const container_summary* s = c.container(sd, false);
    if (!s) return value::absent();
    return strings(s->security_opt);
}
inline value seccomp(fact_context& c, side sd, std::size_t) {
    const container_summary* s = c.container(sd, false);
    if (!s) return value::absent();
    return value::string(s->sec.seccomp);
}
inline value apparmor(fact_context& c, side sd, std::size_t) {
    const container_summary* s = c.container(sd, false);
    if (!s) return value::absent();
    return value::string(s->sec.apparmor);
}
inline value selinux(fact_context& c, side sd, std::size_t) {
    const container_summary* s = c.container(sd, false);
    if (!s) return value::absent();
    return value::string(s->sec.selinux);
}
inline value systempaths_unconfined(fact_context& c, side sd, std::size_t) {
    const container_summary* s = c.container(sd, false);
    if (!s) return value::absent();
    return value::boolean(s->systempaths_unconfined);
}
inline value volume_types(fact_context& c, side sd, std::size_t) {
    const container_summary* s = c.container(sd, true);
    if (!s) return value::absent();
    return strings(s->volume_types);
}
inline value volume_drivers(fact_context& c, side sd, std::size_t) {
    const container_summary* s = c.container(sd, true);
    if (!s) return value::absent();
    return strings(s->volume_drivers);
}
inline value user(fact_context& c, side sd, std::size_t) {
    const container_summary* s = c.container(sd, false);
    if (!s) return value::absent();
    return optional_string(s->user);
}
inline value uid(fact_context& c, side sd, std::size_t) {
    const container_summary* s = c.container(sd, false);
    if (!s) return value::absent();
    const auto u = s->user ? numeric_uid(*s->user) : std::nullopt;
    return u ? value::number(*u) : value::absent();
}
inline value image(fact_context& c, side sd, std::size_t) {
    const container_summary* s = c.container(sd, false);
    if (!s) return value::absent();
    return optional_string(s->image);
}
inline value image_registry(fact_context& c, side sd, std::size_t) {
    const container_summary* s = c.container(sd, false);
    if (!s) return value::absent();
    return s->image && !s->image->empty() ? value::string(rt::image_registry(*s->image)) : value::absent();
}
inline value labels(fact_context& c, side sd, std::size_t slot) { return c.label(sd, slot); }
inline value container_host_access(fact_context& c, side sd, std::size_t) {
    const reasons* r = c.container_reasons(sd);
    return r ? value::boolean(!r->empty()) : value::absent();
}
inline value container_host_access_reasons(fact_context& c, side sd, std::size_t) {
    const reasons* r = c.container_reasons(sd);
    return r ? strings(*r) : value::absent();
}

using side_fn = value (*)(fact_context&, side, std::size_t);

template <side_fn F>
value self(fact_context& c, std::size_t slot) { return F(c, side::self, slot); }
template <side_fn F>
value target(fact_context& c, std::size_t slot) { return F(c, side::target, slot); }

} // namespace container_fns

// --- image facts (query and path) ------------------------------------------------

namespace fact_fns {

using a = action_code;

inline bool is(const fact_context& c, action_code x) { return c.action == action_id(x); }

inline std::optional<std::string> image_request_ref(const fact_context& c) {
    const request& req = c.req;
    if (is(c, a::image_push)) return join_image_ref(req.resource_id, query_get(req, "tag"));
    if (is(c, a::image_tag) || is(c, a::image_commit)) {
        const auto repo = query_get(req, "repo");
        return repo.empty() ? std::nullopt : std::optional(join_image_ref(repo, query_get(req, "tag")));
    }
    if (is(c, a::image_build)) {
        const auto t = query_get(req, "t");
        return t.empty() ? std::nullopt : std::optional(std::string(t));
    }
    if (!is(c, a::image_create)) return std::nullopt;
    // dockerd pulls when fromImage is set, else imports from fromSrc.
    if (const auto from = query_get(req, "fromImage"); !from.empty()) return join_image_ref(from, query_get(req, "tag"));
    if (query_has(req, "fromSrc"))
        if (const auto repo = query_get(req, "repo"); !repo.empty()) return join_image_ref(repo, query_get(req, "tag"));
    return std::nullopt;
}

inline value image_ref(fact_context& c, std::size_t) {
    const auto ref = image_request_ref(c);
    return ref ? value::string(*ref) : value::absent();
}

inline value image_registry(fact_context& c, std::size_t) {
    const auto ref = image_request_ref(c);
    return ref && !ref->empty() ? value::string(rt::image_registry(*ref)) : value::absent();
}

inline value image_source(fact_context& c, std::size_t) {
    struct row { action_code action; std::string_view source; };
    static constexpr row rows[] = {{a::image_load, "load"}, {a::image_build, "build"}, {a::image_commit, "commit"},
                                   {a::image_tag, "tag"}, {a::image_push, "push"}};
    for (const auto& r : rows)
        if (is(c, r.action)) return value::string(std::string(r.source));
    if (!query_get(c.req, "fromImage").empty()) return value::string("pull");
    if (query_has(c.req, "fromSrc")) return value::string("import");
    return value::absent();
}

inline value image_import_src(fact_context& c, std::size_t) {
    if (!is(c, a::image_create) || !query_get(c.req, "fromImage").empty() || !query_has(c.req, "fromSrc"))
        return value::absent();
    return value::string(std::string(query_get(c.req, "fromSrc")));
}

// --- container_exec ---------------------------------------------------------------

inline value exec_privileged(fact_context& c, std::size_t) {
    scanned_doc* d = c.body();
    if (!d) return value::absent();
    const auto v = d->rd->boolean(d->rd->get(fact_input::exec_privileged), d->rd->name(fact_input::exec_privileged));
    c.check(*d);
    return value::boolean(v.value_or(false));
}

// An empty or missing User means the container's own user: reported as "".
inline value exec_user(fact_context& c, std::size_t) {
    scanned_doc* d = c.body();
    if (!d) return value::absent();
    const std::string* u = d->rd->string(fact_input::exec_user);
    c.check(*d);
    return value::string(u ? *u : std::string());
}

inline value exec_uid(fact_context& c, std::size_t) {
    scanned_doc* d = c.body();
    if (!d) return value::absent();
    const std::string* u = d->rd->string(fact_input::exec_user);
    c.check(*d);
    const auto uid = u ? numeric_uid(*u) : std::nullopt;
    return uid ? value::number(*uid) : value::absent();
}

inline value exec_cmd(fact_context& c, std::size_t) {
    scanned_doc* d = c.body();
    if (!d) return value::absent();
    std::vector<std::string> out;
    d->rd->each_string(fact_input::exec_cmd, false, [&](std::string_view s) { out.emplace_back(s); });
    c.check(*d);
    return strings(out);
}

// --- volume_create ------------------------------------------------------------------

struct volume_view {
    std::string driver;
    container_summary local;   // host_paths / volume_types of its local options
};

inline std::optional<volume_view> volume_of(fact_context& c) {
    scanned_doc* d = c.body();
    if (!d) return std::nullopt;
    auto& rd = *d->rd;
    volume_view v;
    const std::string* drv = rd.string(fact_input::volume_driver);
    v.driver = drv && !drv->empty() ? *drv : std::string("local");
    add_unique(v.local.volume_drivers, v.driver);
    if (v.driver == "local") {
        const auto opt = [&](volume_opt o) {
            const auto k = static_cast<std::size_t>(o);
            return rd.string(rd.get_child(fact_input::volume_opts, k), rd.name(fact_input::volume_opts, k));
        };
        add_local_volume(v.local, {opt(volume_opt::o), opt(volume_opt::device), opt(volume_opt::type)});
    }
    if (c.check(*d)) return std::nullopt;
    return v;
}

inline value volume_driver(fact_context& c, std::size_t) {
    const auto v = volume_of(c);
    return v ? value::string(v->driver) : value::absent();
}

inline value volume_host_path(fact_context& c, std::size_t) {
    const auto v = volume_of(c);
    return v && !v->local.host_paths.empty() ? value::string(v->local.host_paths.front()) : value::absent();
}

inline reasons volume_reasons(fact_context& c) {
    const auto v = volume_of(c);
    return v ? container_host_access(v->local, c.safety) : reasons{};
}

inline value volume_host_access(fact_context& c, std::size_t) {
    const auto r = volume_reasons(c);
    return c.error ? value::absent() : value::boolean(!r.empty());
}

// --- plugins ------------------------------------------------------------------------

// `NAME:VALUE` per privilege value of a pull/upgrade body, or the mount
// sources and device paths a plugin_set body re-points.
inline std::optional<std::vector<std::string>> plugin_grants(fact_context& c) {
    if (!is(c, a::plugin_pull) && !is(c, a::plugin_upgrade) && !is(c, a::plugin_set)) return std::nullopt;
    scanned_doc* d = c.body();
    if (!d) return std::nullopt;
    auto& rd = *d->rd;
    std::vector<std::string> out;
    if (is(c, a::plugin_set)) {
        rd.each_string(fact_input::plugin_settings, false, [&](std::string_view kv) {
            const auto eq = kv.find('=');
            const auto key = kv.substr(0, eq);
            const auto val = eq == std::string_view::npos ? std::string_view() : kv.substr(eq + 1);
            if (key.ends_with(".source")) out.push_back("mount:" + std::string(val));
            else if (key.ends_with(".path")) out.push_back("device:" + std::string(val));
        });
    } else {
        rd.each(&rd.root(), rd.name(fact_input::plugin_grants), false, [&](const json_value& g) {
            if (rd.failed() || !rd.object(&g, rd.name(fact_input::plugin_grants))) return;
            const std::string* name = rd.string(g, fact_input::plugin_grants, 0);
            const json_value* vals = rd.get(g, fact_input::plugin_grants, 1);
            bool any = false;
            rd.each_string(vals, rd.name(fact_input::plugin_grants, 1), false, [&](std::string_view v) {
                any = true;
                out.push_back((name ? *name : std::string()) + ":" + std::string(v));
            });
            if (!any) out.push_back((name ? *name : std::string()) + ":");
        });
    }
    if (c.check(*d)) return std::nullopt;
    return out;
}

inline value plugin_privileges(fact_context& c, std::size_t) {
    const auto g = plugin_grants(c);
    return g ? strings(*g) : value::absent();
}

// --- image_build ----------------------------------------------------------------------

inline value build_network_mode(fact_context& c, std::size_t) {
    if (!query_has(c.req, "networkmode")) return value::absent();
    return value::string(std::string(query_get(c.req, "networkmode")));
}

// --- host access ----------------------------------------------------------------------

// Every way out for this request (docs/facts.md (Host access)); nullopt with c.error
// when something it depends on could not be read.
inline std::optional<reasons> request_host_access(fact_context& c) {
    reasons out;
    const auto add_target = [&]() -> bool {
        if (!host_target_actions().test(c.action)) return true;
        const reasons* t = c.container_reasons(side::target);
        if (!t) return false;
        for (const auto& r : *t) out.push_back("target:" + r);
        return true;
    };
    switch (static_cast<action_code>(c.action)) {
    case a::container_create:
    case a::service_create:
    case a::service_update: {
        const reasons* r = c.container_reasons(side::self);
        if (!r) return std::nullopt;
        out = *r;
        break;
    }
    case a::container_exec: {
        scanned_doc* d = c.body();
        if (!d) return std::nullopt;
        const auto priv =
            d->rd->boolean(d->rd->get(fact_input::exec_privileged), d->rd->name(fact_input::exec_privileged));
        if (c.check(*d)) return std::nullopt;
        if (priv.value_or(false)) out.emplace_back("exec:privileged");
        break;
    }
    case a::volume_create:
        out = volume_reasons(c);
        break;
    case a::plugin_pull:
    case a::plugin_upgrade:
    case a::plugin_set: {
        const auto g = plugin_grants(c);
        if (!g) return std::nullopt;
        // A plugin network other than the host's is its own; every other grant reaches the host.
        for (const auto& p : *g)
            if (!p.starts_with("network:") || p == "network:host") out.push_back("plugin:" + p);
        break;
    }
    case a::plugin_create: out.emplace_back("plugin:create"); break;
    case a::image_build:
        if (query_get(c.req, "networkmode") == "host") out.emplace_back("build:network:host");
        break;
    case a::swarm_init: out.emplace_back("swarm:init"); break;
    case a::swarm_join: out.emplace_back("swarm:join"); break;
    default: break;
    }
    if (!add_target() || c.error) return std::nullopt;
    return out;
}

// BuildKit's session and grpc streams are opaque: no host_access there.
inline bool host_access_known(const fact_context& c) { return !is(c, a::session) && !is(c, a::grpc); }

inline value host_access(fact_context& c, std::size_t) {
    if (!host_access_known(c)) return value::absent();
    const auto r = request_host_access(c);
    return r ? value::boolean(!r->empty()) : value::absent();
}

inline value host_access_reasons(fact_context& c, std::size_t) {
    if (!host_access_known(c)) return value::absent();
    const auto r = request_host_access(c);
    return r ? strings(*r) : value::absent();
}

} // namespace fact_fns

// One function per fact field, indexed by field id (nullptr: not a fact).
inline constexpr auto fact_functions = [] {
    std::array<fact_fn, field_count> t{};
#define FIELD(id, name, type, keyed, source)
#define FACT(id, name, type, keyed, scope, fn, doc) t[static_cast<std::size_t>(field_id::id)] = &fact_fns::fn;
#define CONTAINER_FACT(id, suffix, type, keyed, fn, doc)                                                    \
    t[static_cast<std::size_t>(field_id::container_##id)] = &container_fns::self<&container_fns::fn>;      \
    t[static_cast<std::size_t>(field_id::resource_container_##id)] = &container_fns::target<&container_fns::fn>;
#include "dockpol/rt/facts.def"
#undef CONTAINER_FACT
#undef FACT
#undef FIELD
    return t;
}();

inline fact_fn fact_function(field_id f) { return fact_functions[static_cast<std::size_t>(f)]; }

} // namespace dockpol::rt::detail
