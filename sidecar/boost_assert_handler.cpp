// Boost's assertions stay on in dockpol builds (BOOST_ENABLE_ASSERT_HANDLER):
// they catch misuse of Asio and Beast in tests and fuzzing, and abort like
// assert(). One is wrong: Beast 1.81's chunk parser asserts `n >= 5` when it
// re-enters a final chunk, but 4 buffered bytes are valid there ("0\r\n"
// then "\r" in separate reads, boostorg/beast#2861, fixed in Boost 1.86).
// Any client could abort dockpold with it; the code after the assertion
// handles that case, so exactly that one is let through.
#include <boost/assert.hpp>

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

bool is_beast_final_chunk_assertion(std::string_view expr, std::string_view file) {
    return expr == "n >= 5" && file.ends_with("boost/beast/http/impl/basic_parser.ipp");
}

[[noreturn]] void fail(char const* expr, char const* msg, char const* function, char const* file, long line) {
    std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed%s%s\n", file, line, function, expr, msg ? ": " : ".",
                 msg ? msg : "");
    std::abort();
}

} // namespace

namespace boost {

void assertion_failed(char const* expr, char const* function, char const* file, long line) {
    if (is_beast_final_chunk_assertion(expr, file)) return;
    fail(expr, nullptr, function, file, line);
}

void assertion_failed_msg(char const* expr, char const* msg, char const* function, char const* file, long line) {
    fail(expr, msg, function, file, line);
}

} // namespace boost
