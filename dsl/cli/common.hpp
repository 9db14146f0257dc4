// What every dockpolc subcommand shares: exit codes, input size limits,
// bounded file reading and atomic writing, and the one error line format.
#pragma once
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "dockpol/dsl/limits.hpp"
#include "dockpol/rt/limits.hpp"

namespace dockpol::dsl::cli {

// docs/cli.md: 0 ok, 1 policy errors / failed cases / fmt differences, 2 usage / I/O / malformed input.
enum exit_code : int { exit_ok = 0, exit_fail = 1, exit_usage = 2 };

// A byte cap for one kind of input file, with the name used in its error.
struct file_limit {
    std::string_view name;
    std::size_t bytes;
};

// Files the compiler or the runtime bounds are read with that bound (one value, named in the error).
inline constexpr file_limit max_policy_bytes{"max_file_bytes", dsl::max_file_bytes};
inline constexpr file_limit max_data_bytes{"max_data_bytes", dsl::max_data_bytes};
inline constexpr file_limit max_bundle_bytes{"max_bundle_bytes", rt::limits::max_bundle_bytes};
inline constexpr file_limit max_key_bytes{"max_key_file_bytes", rt::limits::max_key_file_bytes};
// Only dockpolc reads these. A request carries at most one body, and dockpold reads at most a few MiB of one.
inline constexpr file_limit max_request_bytes{"max_request_bytes", 16u << 20};
// A cases file holds many requests.
inline constexpr file_limit max_cases_bytes{"max_cases_bytes", 64u << 20};

// `--color auto|always|never` (any command): whether diagnostics on stderr are coloured.
enum class color_mode { automatic, always, never };

inline color_mode& color_setting() {
    static color_mode mode = color_mode::automatic;
    return mode;
}

// auto: a terminal that is not "dumb", and no NO_COLOR in the environment (no-color.org).
inline bool stderr_in_color() {
    switch (color_setting()) {
    case color_mode::always: return true;
    case color_mode::never: return false;
    case color_mode::automatic: break;
    }
    const char* term = std::getenv("TERM");
    return ::isatty(2) == 1 && std::getenv("NO_COLOR") == nullptr && !(term && std::string_view(term) == "dumb");
}

// Prints `dockpolc: MESSAGE` on stderr and returns `code`.
inline int fail(std::string_view message, int code = exit_usage) {
    std::cerr << "dockpolc: " << message << '\n';
    return code;
}

// Why a file could not be read: "cannot read F: REASON".
struct read_error {
    std::string message;
};

// Reads a whole file, refusing more than `limit.bytes`; the error carries the system's reason.
inline std::variant<std::string, read_error> read_file(const std::string& path, file_limit limit) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return read_error{"cannot read " + path + ": " + std::strerror(errno)};
    std::string out;
    char buf[1 << 16];
    for (;;) {
        const ::ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int e = errno;
            ::close(fd);
            return read_error{"cannot read " + path + ": " + std::strerror(e)};
        }
        if (n == 0) break;
        if (out.size() + static_cast<std::size_t>(n) > limit.bytes) {
            ::close(fd);
            return read_error{"cannot read " + path + ": larger than " + std::to_string(limit.bytes) +
                              " bytes (" + std::string(limit.name) + ")"};
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

// Writes `data` to `path` through a temporary file in the same directory and
// a rename, so a reader (dockpold watching a bundle) never sees half a file.
inline std::optional<std::string> write_file_atomic(const std::string& path, std::string_view data,
                                                    ::mode_t mode = 0644) {
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return "cannot write " + path + ": " + std::strerror(errno);
    // The umask may have narrowed `mode`; the caller's mode is the contract (0600 keys, 0644 bundles).
    ::fchmod(fd, mode);
    std::size_t off = 0;
    while (off < data.size()) {
        const ::ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            return "cannot write " + path + ": " + std::strerror(e);
        }
        off += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        return "cannot write " + path + ": " + std::strerror(e);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        return "cannot write " + path + ": " + std::strerror(e);
    }
    return std::nullopt;
}

inline bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

} // namespace dockpol::dsl::cli
