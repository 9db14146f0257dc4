// The accept loop both servers share — the proxy's TCP listener and the
// plugin's UNIX socket: accept, hand the connection on, accept again. After
// EMFILE and the like it pauses instead of spinning on the same error;
// stop() closes the acceptor from any thread.
//
// CRTP: `Derived` (held by a shared_ptr, enable_shared_from_this) provides
//   next_executor()          where the next connection's handlers run
//   on_connection(socket)    what to do with an accepted connection
//   on_stopped()             after the acceptor closed (on its executor)
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>

#include <chrono>
#include <utility>

namespace dockpol::sidecar {

// Pause before accepting again after EMFILE and similar.
inline constexpr std::chrono::milliseconds accept_retry_delay{100};

template <class Derived, class Protocol>
class accept_loop {
public:
    void run() { do_accept(); }

    // Stops accepting; safe from any thread.
    void stop() {
        net_post([this, self = derived().shared_from_this()] {
            boost::beast::error_code ec;
            acceptor_.close(ec);
            retry_.cancel();
            derived().on_stopped();
        });
    }

protected:
    explicit accept_loop(boost::asio::io_context& ioc) : acceptor_(ioc), retry_(ioc) {}

    typename Protocol::acceptor acceptor_;

private:
    Derived& derived() { return static_cast<Derived&>(*this); }

    template <class F>
    void net_post(F&& f) {
        boost::asio::post(acceptor_.get_executor(), std::forward<F>(f));
    }

    void do_accept() {
        acceptor_.async_accept(derived().next_executor(),
                               [this, self = derived().shared_from_this()](boost::beast::error_code ec,
                                                                           typename Protocol::socket sock) {
                                   on_accept(ec, std::move(sock));
                               });
    }

    void on_accept(boost::beast::error_code ec, typename Protocol::socket sock) {
        if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (ec) {
            retry_.expires_after(accept_retry_delay);
            retry_.async_wait([this, self = derived().shared_from_this()](boost::beast::error_code e) {
                if (!e) do_accept();
            });
            return;
        }
        derived().on_connection(std::move(sock));
        do_accept();
    }

    boost::asio::steady_timer retry_;
};

} // namespace dockpol::sidecar
