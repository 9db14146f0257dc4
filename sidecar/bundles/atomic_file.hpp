// Replacing a file so readers see the old bytes or the new bytes, never a mix:
// write a temporary file beside it, fsync, rename over, fsync the directory.
#pragma once
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>

namespace dockpol::sidecar {

namespace detail {
inline std::string dir_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}
} // namespace detail

// Returns why it failed, or nullopt. The temporary file never survives a failure.
inline std::optional<std::string> write_file_atomically(const std::string& path, std::span<const std::uint8_t> bytes) {
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return "cannot create " + tmp + ": " + std::strerror(errno);
    auto fail = [&](std::string what) {
        const int saved = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return std::optional<std::string>(what + ": " + std::strerror(saved));
    };
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail("cannot write " + tmp);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) return fail("cannot sync " + tmp);
    if (::close(fd) != 0) {
        const int saved = errno;
        ::unlink(tmp.c_str());
        return "cannot close " + tmp + ": " + std::strerror(saved);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int saved = errno;
        ::unlink(tmp.c_str());
        return "cannot rename " + tmp + " to " + path + ": " + std::strerror(saved);
    }
    // The rename is durable only once the directory entry is on disk; failing here loses nothing visible.
    if (const int dfd = ::open(detail::dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return std::nullopt;
}

} // namespace dockpol::sidecar
