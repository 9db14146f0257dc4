// hop_relay: the cheapest possible proxy, to measure what one extra hop costs on this machine.
//
//   hop_relay LISTEN_SOCKET UPSTREAM_SOCKET [--spin]
//
// Accepts plaintext connections on a UNIX socket and copies bytes both ways to another UNIX
// socket: no TLS, no HTTP parsing, no policy, one thread per connection. With --spin a thread
// never sleeps (non-blocking reads in a loop, yielding between tries), which removes its own
// wake-ups; without it, it blocks in poll(). proxy_bench runs the load client through it: its
// ratio to the direct socket is a ceiling for any proxy that runs as a separate process here.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <poll.h>
#include <sched.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace {

sockaddr_un unix_address(const char* path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    return a;
}

// Moves what is readable from `from` to `to`; false once either side is done.
bool pump(int from, int to, char* buf, std::size_t size) {
    ssize_t n = ::recv(from, buf, size, MSG_DONTWAIT);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    for (ssize_t off = 0; off < n;) {
        ssize_t w = ::send(to, buf + off, static_cast<std::size_t>(n - off), MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) return false;
            pollfd p{to, POLLOUT, 0};
            ::poll(&p, 1, 1000);
            continue;
        }
        off += w;
    }
    return true;
}

void relay(int client, const char* upstream_path, bool spin) {
    int up = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a = unix_address(upstream_path);
    if (up >= 0 && ::connect(up, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        static thread_local char buf[64 * 1024];
        for (;;) {
            if (!spin) {
                pollfd p[2] = {{client, POLLIN, 0}, {up, POLLIN, 0}};
                if (::poll(p, 2, 60'000) <= 0) break;
            }
            if (!pump(client, up, buf, sizeof buf) || !pump(up, client, buf, sizeof buf)) break;
            if (spin) ::sched_yield();
        }
    }
    if (up >= 0) ::close(up);
    ::close(client);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3 || argc > 4 || (argc == 4 && std::string(argv[3]) != "--spin")) {
        std::fprintf(stderr, "usage: hop_relay LISTEN_SOCKET UPSTREAM_SOCKET [--spin]\n");
        return 2;
    }
    std::signal(SIGPIPE, SIG_IGN);
    bool spin = argc == 4;
    int ls = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a = unix_address(argv[1]);
    ::unlink(argv[1]);
    if (ls < 0 || ::bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(ls, 256) != 0) {
        std::fprintf(stderr, "hop_relay: cannot listen on %s: %s\n", argv[1], std::strerror(errno));
        return 1;
    }
    for (;;) {
        int c = ::accept(ls, nullptr, nullptr);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            std::fprintf(stderr, "hop_relay: accept: %s\n", std::strerror(errno));
            return 1;
        }
        std::thread(relay, c, argv[2], spin).detach();
    }
}
