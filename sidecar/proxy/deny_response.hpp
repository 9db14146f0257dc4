// dockerd-shaped error bodies (docs/request-model.md): the docker CLI prints `message`
// as "Error response from daemon: MESSAGE".
#pragma once
#include <string>
#include <string_view>

#include "dockpol/rt/json_text.hpp"

namespace dockpol::sidecar {

// The message of a policy denial; `rule` is the deciding rule, "default" or "error".
inline std::string denial_message(std::string_view action, std::string_view user, std::string_view rule) {
    std::string m = "[dockpol] The command '";
    m += action;
    m += "' denied for user '";
    m += user;
    m += "' by rule '";
    m += rule;
    m += "'";
    return m;
}

// {"message":"..."} with the message JSON-escaped.
inline std::string error_body(std::string_view message) {
    std::string out = "{\"message\":";
    rt::append_json_string(out, message);
    out += "}\n";
    return out;
}

// Body of the 403 for a denied request.
inline std::string denial_body(std::string_view action, std::string_view user, std::string_view rule) {
    return error_body(denial_message(action, user, rule));
}

// The message for a malformed or ambiguous request (the proxy's 400, the plugin's denial).
inline std::string bad_request_message(std::string_view reason) { return "[dockpol] bad request: " + std::string(reason); }

// Body of the 400 for a malformed or ambiguous request.
inline std::string bad_request_body(std::string_view reason) { return error_body(bad_request_message(reason)); }

// Body of the 502 when dockerd cannot be reached or answers garbage.
inline std::string upstream_error_body(std::string_view reason) {
    return error_body("[dockpol] upstream error: " + std::string(reason));
}

} // namespace dockpol::sidecar
