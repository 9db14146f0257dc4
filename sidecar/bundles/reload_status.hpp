// GET /v1/status (docs/request-model.md): {"revision","loaded_at","source","last_reload","last_error"}.
// What serves comes from the policy store; what the last reload attempt did
// comes from the reloader. Times are RFC 3339 UTC; "never" is null.
#pragma once
#include <chrono>
#include <string>

#include "audit_log.hpp"
#include "bundle_reloader.hpp"
#include "dockpol/rt/json_text.hpp"
#include "policy_store.hpp"

namespace dockpol::sidecar {

inline std::string status_json(const policy_status& serving, const reload_record& last) {
    std::string out = "{";
    auto key = [&out](std::string_view k) {
        if (out.size() > 1) out.push_back(',');
        rt::append_json_string(out, k);
        out.push_back(':');
    };
    auto text_or_null = [&](std::string_view k, const std::string& v) {
        key(k);
        if (v.empty()) out += "null";
        else rt::append_json_string(out, v);
    };
    auto time_or_null = [&](std::string_view k, std::chrono::system_clock::time_point t) {
        key(k);
        if (t == std::chrono::system_clock::time_point{}) out += "null";
        else rt::append_json_string(out, rfc3339_ms(t));
    };
    text_or_null("revision", serving.revision);
    time_or_null("loaded_at", serving.loaded_at);
    text_or_null("source", serving.source);
    time_or_null("last_reload", last.last_reload);
    text_or_null("last_error", last.last_error);
    out += "}\n";
    return out;
}

} // namespace dockpol::sidecar
