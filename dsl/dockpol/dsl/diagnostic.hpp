// Diagnostics are values: a stable code, a severity, a span, a message and an
// optional help line. Codes are never reused or renamed (docs/language.md).
#pragma once
#include <string>
#include <vector>

#include "dockpol/dsl/diagnostic_codes.hpp"
#include "dockpol/dsl/source.hpp"

namespace dockpol::dsl {

struct diagnostic {
    diag_code code = diag_code::internal;   // printed as its name: "dp-parse", "dp-unknown-action", ...
    severity sev = severity::error;         // the code's own (diagnostics.def)
    std::string file;     // file name ("" for diagnostics not tied to a file)
    span sp;              // sp.line / sp.column are what is printed
    std::string message;
    std::string help;     // "" when there is none
};

inline bool has_errors(const std::vector<diagnostic>& ds) {
    for (const auto& d : ds)
        if (d.sev == severity::error) return true;
    return false;
}

// Whether part of the policy went unread: a statement that did not parse, or
// a limit that stopped the front end. What the policy lacks is then unknown,
// so diagnostics about something missing would only follow on from this one.
inline bool has_fatal(const std::vector<diagnostic>& ds) {
    for (const auto& d : ds)
        if (d.sev == severity::error && (d.code == diag_code::parse || d.code == diag_code::limit)) return true;
    return false;
}

} // namespace dockpol::dsl
