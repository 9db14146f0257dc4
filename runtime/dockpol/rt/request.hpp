// One Docker API request as the policy sees it, before binding to a program's
// slots. dockpold fills it from the connection and the HTTP head; dockpolc
// fills it from REQUEST.json. Identity never comes from headers.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dockpol::rt {

using string_pairs = std::vector<std::pair<std::string, std::string>>;

struct request {
    std::string user;
    std::vector<std::string> groups;
    std::string host;
    string_pairs host_labels;

    std::string method;            // GET, POST, ...
    std::string target;            // the request-target as sent (path and query): what a rewrite starts from
    std::string path;              // canonical, API version stripped, no query
    std::string api_version;       // "1.41", or "" when the path had no prefix
    string_pairs query;            // decoded, in order; `query.K` reads the first K
    std::string action;            // action name from the route table
    std::string resource_id;       // the path's target as dockerd decodes it ("" when none)

    std::optional<std::string> resource_name;   // known only after an inspect
    string_pairs resource_labels;
    std::vector<std::string> resource_names;    // images: every RepoTag
    // The target's inspect JSON as dockerd returned it (for an exec id: the
    // inspect of the exec's container); resource.container.* derive from it.
    std::optional<std::string> resource_inspect;
    // Inspect JSON of other objects the request names, keyed "KIND:NAME"
    // ("volume:data", "container:web", "network:net1"): named volumes,
    // VolumesFrom and `container:X` joins. A key missing here is an object
    // that does not exist (when objects_known) or was not looked up yet.
    string_pairs objects;
    bool objects_known = false;

    std::optional<std::string> body;            // raw JSON bytes, when read
};

} // namespace dockpol::rt
