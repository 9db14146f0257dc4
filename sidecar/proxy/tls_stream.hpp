// A TLS server stream that drives OpenSSL directly on the non-blocking TCP
// socket (records are read straight from the socket; written records are
// collected per operation and sent with one send()): fewer copies and
// syscalls than asio::ssl::stream, and the exact
// half-close control a hijacked Docker stream needs — close_notify can be
// sent while a read is pending, and a peer's close_notify or bare FIN is a
// plain EOF after which writing still works. Satisfies Asio's AsyncStream, so
// Beast's HTTP algorithms run on it. All operations of one stream must run on
// one strand (OpenSSL's SSL object is not thread-safe); a read and a write may
// be outstanding at the same time.
#pragma once
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include <sys/socket.h>

namespace dockpol::sidecar {

namespace net = boost::asio;
using error_code = boost::system::error_code;

// One TLS record carries at most 16 KiB: gathering a scattered write up to that size costs one record and one syscall.
inline constexpr std::size_t tls_gather_bytes = 16 * 1024;

class tls_stream;

namespace detail {

enum class tls_op_kind : std::uint8_t { handshake, read, write, close_notify };
enum class tls_step : std::uint8_t { done, want_read, want_write };

template <class Buffers>
struct tls_io_op {
    tls_stream* s;
    Buffers bufs;
    tls_op_kind kind;
    bool started = false;
    bool finished = false;
    bool flushing = false;   // the SSL call succeeded; its ciphertext is still being sent
    error_code result_ec{};
    std::size_t result_n = 0;

    template <class Self>
    void operator()(Self& self, error_code ec = {});
};

} // namespace detail

class tls_stream {
public:
    using executor_type = net::any_io_executor;
    using next_layer_type = net::ip::tcp::socket;

    tls_stream(net::ip::tcp::socket sock, SSL_CTX* ctx) : sock_(std::move(sock)), ssl_(SSL_new(ctx)) {
        error_code ec;
        sock_.non_blocking(true, ec);
        if (ssl_) {
            BIO* rbio = BIO_new_socket(static_cast<int>(sock_.native_handle()), BIO_NOCLOSE);
            BIO* wbio = BIO_new(out_method());
            BIO_set_data(wbio, this);
            SSL_set_bio(ssl_, rbio, wbio);
            SSL_set_accept_state(ssl_);
        }
    }
    tls_stream(const tls_stream&) = delete;
    tls_stream& operator=(const tls_stream&) = delete;
    ~tls_stream() {
        if (ssl_) SSL_free(ssl_);
    }

    bool valid() const { return ssl_ != nullptr; }
    executor_type get_executor() { return sock_.get_executor(); }
    net::ip::tcp::socket& socket() { return sock_; }
    SSL* native_handle() { return ssl_; }

    template <class Token>
    auto async_handshake(Token&& token) {
        return start<std::array<net::const_buffer, 0>>({}, detail::tls_op_kind::handshake, std::forward<Token>(token));
    }
    template <class MutableBufferSequence, class Token>
    auto async_read_some(const MutableBufferSequence& b, Token&& token) {
        return start(b, detail::tls_op_kind::read, std::forward<Token>(token));
    }
    template <class ConstBufferSequence, class Token>
    auto async_write_some(const ConstBufferSequence& b, Token&& token) {
        return start(b, detail::tls_op_kind::write, std::forward<Token>(token));
    }
    // Sends close_notify (our write side ends) without waiting for the peer's; reads keep working.
    template <class Token>
    auto async_close_notify(Token&& token) {
        return start<std::array<net::const_buffer, 0>>({}, detail::tls_op_kind::close_notify, std::forward<Token>(token));
    }

    void close() {
        error_code ec;
        sock_.shutdown(net::socket_base::shutdown_both, ec);
        sock_.close(ec);
    }

private:
    template <class Buffers>
    friend struct detail::tls_io_op;

    template <class Buffers, class Token>
    auto start(const Buffers& b, detail::tls_op_kind kind, Token&& token) {
        return net::async_compose<Token, void(error_code, std::size_t)>(detail::tls_io_op<Buffers>{this, b, kind}, token,
                                                                       sock_);
    }

    // Maps OpenSSL's result: close_notify and a bare FIN are both EOF (the context sets SSL_OP_IGNORE_UNEXPECTED_EOF).
    detail::tls_step classify(int r, error_code& ec) {
        int err = SSL_get_error(ssl_, r);
        int saved_errno = errno;
        switch (err) {
        case SSL_ERROR_WANT_READ: return detail::tls_step::want_read;
        case SSL_ERROR_WANT_WRITE: return detail::tls_step::want_write;
        case SSL_ERROR_ZERO_RETURN: ec = net::error::eof; break;
        case SSL_ERROR_SYSCALL:
            ec = saved_errno ? error_code(saved_errno, boost::system::system_category()) : error_code(net::error::eof);
            break;
        default: {
            unsigned long e = ERR_get_error();
            ec = error_code(static_cast<int>(e ? e : static_cast<unsigned long>(err)), net::error::get_ssl_category());
        }
        }
        ERR_clear_error();
        return detail::tls_step::done;
    }

    template <class Buffers>
    detail::tls_step attempt(detail::tls_op_kind kind, const Buffers& bufs, bool& flushing, error_code& ec,
                             std::size_t& n) {
        using detail::tls_op_kind;
        // Ciphertext of an earlier call goes out before anything new is encrypted, so out_ stays bounded.
        error_code fec;
        bool flushed = flush(fec);
        if (fec) {
            ec = fec;
            n = 0;
            return detail::tls_step::done;
        }
        if (!flushed) return detail::tls_step::want_write;
        if (flushing) return detail::tls_step::done;
        ERR_clear_error();
        errno = 0;
        ec = {};
        n = 0;
        std::size_t done = 0;
        int r = 0;
        switch (kind) {
        case tls_op_kind::handshake: r = SSL_do_handshake(ssl_); break;
        case tls_op_kind::close_notify:
            // 0 means "sent, the peer's has not arrived": exactly the half-close we want.
            r = SSL_shutdown(ssl_);
            if (r >= 0) r = 1;
            break;
        case tls_op_kind::read: {
            if constexpr (net::is_mutable_buffer_sequence<Buffers>::value) {
                net::mutable_buffer b;
                for (auto it = net::buffer_sequence_begin(bufs); it != net::buffer_sequence_end(bufs); ++it)
                    if (net::mutable_buffer mb(*it); mb.size()) {
                        b = mb;
                        break;
                    }
                if (b.size() == 0) return detail::tls_step::done;
                auto* p = static_cast<unsigned char*>(b.data());
                r = SSL_read_ex(ssl_, p, b.size(), &done);
                // One record is at most 16 KiB; take the records read-ahead already holds too, so one
                // operation can fill the whole buffer. A failure here is reported by the next read.
                while (r == 1 && done < b.size() && SSL_has_pending(ssl_)) {
                    std::size_t more = 0;
                    if (SSL_read_ex(ssl_, p + done, b.size() - done, &more) != 1) {
                        ERR_clear_error();
                        break;
                    }
                    done += more;
                }
            }
            break;
        }
        case tls_op_kind::write: {
            const void* p = nullptr;
            std::size_t len = 0;
            std::size_t pieces = 0;
            for (auto it = net::buffer_sequence_begin(bufs); it != net::buffer_sequence_end(bufs); ++it) {
                net::const_buffer cb(*it);
                if (cb.size() == 0) continue;
                if (pieces == 0) {
                    p = cb.data();
                    len = cb.size();
                    if (len >= tls_gather_bytes) break;
                } else {
                    // Several small pieces (a response head and its body): gather them into one record.
                    if (pieces == 1) std::memcpy(gather_.data(), p, len);
                    std::size_t take = std::min(cb.size(), gather_.size() - len);
                    std::memcpy(gather_.data() + len, cb.data(), take);
                    len += take;
                    p = gather_.data();
                    if (len == gather_.size()) break;
                }
                ++pieces;
            }
            if (len == 0) return detail::tls_step::done;
            r = SSL_write_ex(ssl_, p, len, &done);
            break;
        }
        }
        if (r == 1) {
            n = done;
            if (flush(fec)) return detail::tls_step::done;
            if (fec) {
                ec = fec;
                return detail::tls_step::done;
            }
            flushing = true;
            return detail::tls_step::want_write;
        }
        auto step = classify(r, ec);
        // Whatever the call produced (handshake messages, alerts) must reach the peer before we wait on it.
        if (step == detail::tls_step::want_read && !flush(fec))
            return fec ? (ec = fec, detail::tls_step::done) : detail::tls_step::want_write;
        if (step == detail::tls_step::done) flush(fec);
        return step;
    }

    // Sends pending ciphertext; true when all of it is in the kernel, false on EAGAIN or error (ec set).
    bool flush(error_code& ec) {
        while (out_off_ < out_.size()) {
            ssize_t k = ::send(sock_.native_handle(), out_.data() + out_off_, out_.size() - out_off_,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
            if (k < 0) {
                if (errno == EINTR) continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK) ec = error_code(errno, boost::system::system_category());
                return false;
            }
            out_off_ += static_cast<std::size_t>(k);
        }
        out_.clear();
        out_off_ = 0;
        return true;
    }

    // OpenSSL writes records into out_ through this BIO; flush() sends them with one send() per operation
    // instead of one write() per 16 KiB record, which wakes the client once instead of four times.
    static int out_write(BIO* b, const char* data, int len) {
        auto* self = static_cast<tls_stream*>(BIO_get_data(b));
        self->out_.insert(self->out_.end(), data, data + len);
        return len;
    }
    static long out_ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }
    static int out_create(BIO* b) {
        BIO_set_init(b, 1);
        return 1;
    }
    static BIO_METHOD* out_method() {
        static BIO_METHOD* m = [] {
            BIO_METHOD* bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "dockpold-out");
            BIO_meth_set_write(bm, &tls_stream::out_write);
            BIO_meth_set_ctrl(bm, &tls_stream::out_ctrl);
            BIO_meth_set_create(bm, &tls_stream::out_create);
            return bm;
        }();
        return m;
    }

    net::ip::tcp::socket sock_;
    std::vector<char> out_;     // ciphertext not yet sent: at most one operation's worth
    std::size_t out_off_ = 0;
    SSL* ssl_;
    std::array<char, tls_gather_bytes> gather_{};
};

namespace detail {

template <class Buffers>
template <class Self>
void tls_io_op<Buffers>::operator()(Self& self, error_code ec) {
    if (finished) return self.complete(result_ec, result_n);
    if (ec) return self.complete(ec, 0);
    bool first = !started;
    started = true;
    switch (s->attempt(kind, bufs, flushing, result_ec, result_n)) {
    case tls_step::want_read: return s->sock_.async_wait(net::socket_base::wait_read, std::move(self));
    case tls_step::want_write: return s->sock_.async_wait(net::socket_base::wait_write, std::move(self));
    case tls_step::done: break;
    }
    // Completing inside the initiating call would recurse through the caller's loop; post like Asio's sockets do.
    if (first) {
        finished = true;
        return net::post(s->get_executor(), std::move(self));
    }
    self.complete(result_ec, result_n);
}

} // namespace detail

} // namespace dockpol::sidecar
