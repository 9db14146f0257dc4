// Watches --bundle F for replacement: inotify on F's directory (a file watch
// would follow the old inode after an atomic rename). A rename onto F or a
// write to F that has been closed counts; a write still open does not (half a
// bundle is never loaded). Events are debounced: the callback runs once the
// directory has been quiet for the debounce delay, so `cp` + `mv` or an editor's
// save sequence cause one reload. Symlinked F (Kubernetes ConfigMap style,
// where `..data` is swapped) reloads on any rename in the directory.
#pragma once
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

namespace dockpol::sidecar {

namespace net = boost::asio;

// Long enough to merge a write-then-rename sequence, short enough to feel immediate.
inline constexpr std::chrono::milliseconds watch_debounce{200};
// Room for many events per read; the kernel queues the rest (overflow means "something changed").
inline constexpr std::size_t watch_buffer_bytes = 16 * 1024;

class bundle_watcher : public std::enable_shared_from_this<bundle_watcher> {
public:
    using callback = std::function<void()>;

    static std::variant<std::shared_ptr<bundle_watcher>, std::string> create(net::any_io_executor ex, const std::string& path,
                                                                             callback on_change,
                                                                             std::chrono::milliseconds debounce = watch_debounce) {
        using result = std::variant<std::shared_ptr<bundle_watcher>, std::string>;
        const auto slash = path.rfind('/');
        const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
        const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
        const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd < 0) return result(std::in_place_index<1>, std::string("inotify_init1: ") + std::strerror(errno));
        const std::uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF;
        if (::inotify_add_watch(fd, dir.c_str(), mask) < 0) {
            const int saved = errno;
            ::close(fd);
            return result(std::in_place_index<1>, "cannot watch " + dir + ": " + std::strerror(saved));
        }
        struct stat st{};
        const bool symlink = ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
        auto strand = net::make_strand(ex);
        return result(std::in_place_index<0>, std::shared_ptr<bundle_watcher>(
                                                   new bundle_watcher(strand, fd, name, symlink, std::move(on_change), debounce)));
    }

    void start() {
        net::post(sd_.get_executor(), [self = shared_from_this()] { self->read(); });
    }

    void stop() {
        net::post(sd_.get_executor(), [self = shared_from_this()] {
            self->stopped_ = true;
            boost::system::error_code ignored;
            self->timer_.cancel();
            self->sd_.close(ignored);
        });
    }

private:
    bundle_watcher(net::strand<net::any_io_executor> ex, int fd, std::string name, bool symlink, callback cb,
                   std::chrono::milliseconds debounce)
        : sd_(ex, fd), timer_(ex), name_(std::move(name)), symlink_(symlink), cb_(std::move(cb)), debounce_(debounce) {}

    void read() {
        if (stopped_) return;
        sd_.async_read_some(net::buffer(buf_), [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
            if (ec) return;   // closed by stop(), or the descriptor failed: watching ends, reloads still work via SIGHUP/admin
            self->on_events(n);
            self->read();
        });
    }

    void on_events(std::size_t n) {
        bool relevant = false;
        std::size_t at = 0;
        while (at + sizeof(inotify_event) <= n) {
            inotify_event ev;
            std::memcpy(&ev, buf_.data() + at, sizeof ev);
            const char* name_ptr = buf_.data() + at + sizeof(inotify_event);
            const std::string_view name(name_ptr, ev.len ? ::strnlen(name_ptr, ev.len) : 0);
            at += sizeof(inotify_event) + ev.len;
            if (ev.mask & IN_Q_OVERFLOW) relevant = true;
            else if (name == name_) relevant = relevant || (ev.mask & (IN_CLOSE_WRITE | IN_MOVED_TO));
            else if (symlink_ && (ev.mask & (IN_MOVED_TO | IN_CREATE))) relevant = true;
        }
        if (!relevant) return;
        // Restarting the timer on every event is the debounce.
        timer_.expires_after(debounce_);
        timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec || self->stopped_) return;
            self->cb_();
        });
    }

    net::posix::stream_descriptor sd_;
    net::steady_timer timer_;
    std::string name_;
    bool symlink_;
    callback cb_;
    std::chrono::milliseconds debounce_;
    bool stopped_ = false;
    alignas(inotify_event) std::array<char, watch_buffer_bytes> buf_{};
};

} // namespace dockpol::sidecar
