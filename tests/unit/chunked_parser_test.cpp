// Beast's parser as dockpold feeds it (the whole unconsumed buffer again
// after each read): an empty chunked body that arrives in small reads must
// parse, and Boost assertions other than the one known-wrong Beast one must
// still abort (sidecar/boost_assert_handler.cpp).
#include <catch2/catch.hpp>

#include <boost/assert.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <csignal>
#include <initializer_list>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <unistd.h>

// Each test file is its own namespace: the test executables are unity builds.
namespace chunked_parser_test {

namespace http = boost::beast::http;
namespace net = boost::asio;

namespace {

// Appends each read to a buffer and presents all unconsumed bytes, as
// http::async_read_some over a flat_buffer does.
template <bool isRequest>
struct feeder {
    http::parser<isRequest, http::buffer_body> p;
    std::string buffered;
    char scratch[64];

    // Returns the error of the last put (need_more while the message is incomplete).
    boost::beast::error_code read(std::initializer_list<std::string_view> reads) {
        boost::beast::error_code ec;
        for (auto r : reads) {
            buffered += r;
            p.get().body().data = scratch;
            p.get().body().size = sizeof scratch;
            ec = {};
            buffered.erase(0, p.put(net::buffer(buffered), ec));
            if (ec == http::error::need_buffer) ec = {};
            if (ec && ec != http::error::need_more) return ec;
        }
        return ec;
    }
};

constexpr std::string_view chunked_post = "POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\nTransfer-Encoding: chunked\r\n\r\n";

} // namespace

TEST_CASE("an empty chunked request body read as 0 CRLF, CR, LF completes") {
    feeder<true> f;
    const auto ec = f.read({chunked_post, "0\r\n", "\r", "\n"});
    CHECK_FALSE(ec);
    CHECK(f.p.is_done());
}

TEST_CASE("an empty chunked body with a trailer read a byte at a time completes") {
    feeder<true> f;
    f.read({chunked_post});
    for (char c : std::string_view("0\r\nX-Trailer: 1\r\n\r\n")) {
        REQUIRE_FALSE(f.p.is_done());
        const auto ec = f.read({std::string_view(&c, 1)});
        REQUIRE((!ec || ec == http::error::need_more));
    }
    CHECK(f.p.is_done());
}

TEST_CASE("a response whose final chunk follows a data chunk in small reads completes") {
    feeder<false> f;
    const auto ec = f.read({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "2\r\nhi\r\n", "0\r\n", "\r", "\n"});
    CHECK_FALSE(ec);
    CHECK(f.p.is_done());
}

TEST_CASE("every other Boost assertion still aborts") {
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // The parent only needs the signal: no report, and not Catch's handler.
        std::signal(SIGABRT, SIG_DFL);
        std::freopen("/dev/null", "w", stdout);
        std::freopen("/dev/null", "w", stderr);
        [[maybe_unused]] const int n = 4;
        BOOST_ASSERT(n >= 5);  // same text, but not in Beast's parser
        _exit(0);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == SIGABRT);
}

} // namespace chunked_parser_test
