// Process signals: SIGTERM/SIGINT drain (stop accepting, let in-flight
// requests finish within --drain-timeout, then stop), SIGHUP reloads the
// bundle and the TLS certificate/key/CRL (keeping the old ones on failure),
// SIGUSR1 reopens the audit log (logrotate).
#pragma once
#include <csignal>
#include <functional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

namespace dockpol::sidecar {

namespace net = boost::asio;

struct signal_actions {
    std::function<void()> drain;     // SIGTERM, SIGINT
    std::function<void()> reload;    // SIGHUP
    std::function<void()> reopen;    // SIGUSR1
};

class signal_handler {
public:
    signal_handler(net::io_context& ioc, signal_actions actions)
        : set_(ioc, SIGTERM, SIGINT, SIGHUP), usr1_(ioc, SIGUSR1), actions_(std::move(actions)) {}

    void start() {
        wait_main();
        wait_usr1();
    }

    void cancel() {
        boost::system::error_code ec;
        set_.cancel(ec);
        usr1_.cancel(ec);
    }

private:
    void wait_main() {
        set_.async_wait([this](boost::system::error_code ec, int sig) {
            if (ec) return;
            if (sig == SIGHUP) {
                if (actions_.reload) actions_.reload();
            } else if (actions_.drain && !draining_) {
                // A second SIGTERM during the drain changes nothing: the drain deadline still applies.
                draining_ = true;
                actions_.drain();
            }
            wait_main();
        });
    }

    void wait_usr1() {
        usr1_.async_wait([this](boost::system::error_code ec, int) {
            if (ec) return;
            if (actions_.reopen) actions_.reopen();
            wait_usr1();
        });
    }

    net::signal_set set_;
    net::signal_set usr1_;
    signal_actions actions_;
    bool draining_ = false;
};

} // namespace dockpol::sidecar
