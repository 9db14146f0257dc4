// Streams one HTTP message body from a parser on one stream to a serializer
// on another through a bounded buffer, writing each piece as soon as it is
// read: `logs -f`, `events`, pull progress and 512 MiB uploads all flow
// without buffering whole bodies. Content-Length and chunked framing are
// re-emitted by the serializer from the (already validated) header. The last
// piece (with the end of the body) is held back until `may_finish()` agrees:
// an upload whose chunked trailer is refused never ends at dockerd.
#pragma once
#include <boost/asio/coroutine.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include <cstdint>
#include <span>

namespace dockpol::sidecar {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

// Relay buffer per direction: large enough for full-speed copies, small enough that 1k connections stay under 128 MiB.
inline constexpr std::size_t relay_buffer_bytes = 64 * 1024;

// The relay stopped before the end of the body because `may_finish()` said no.
inline beast::error_code finish_refused() { return beast::errc::make_error_code(beast::errc::operation_not_permitted); }

namespace detail {

template <bool isRequest, class In, class Out, class BeforeRead, class MayFinish>
struct relay_body_op : net::coroutine {
    In& in;
    beast::flat_buffer& in_buf;
    http::parser<isRequest, http::buffer_body>& p;
    Out& out;
    http::serializer<isRequest, http::buffer_body>& sr;
    std::span<char> scratch;
    BeforeRead before_read;
    MayFinish may_finish;
    std::uint64_t bytes = 0;

    template <class Self>
    void operator()(Self& self, beast::error_code ec = {}, std::size_t = 0) {
        BOOST_ASIO_CORO_REENTER(*this) {
            for (;;) {
                if (!p.is_done()) {
                    p.get().body().data = scratch.data();
                    p.get().body().size = scratch.size();
                    before_read();
                    BOOST_ASIO_CORO_YIELD http::async_read_some(in, in_buf, p, std::move(self));
                    // need_buffer: the scratch buffer is full, which is the normal case for a big body.
                    if (ec == http::error::need_buffer) ec = {};
                    if (ec) break;
                    {
                        std::size_t filled = scratch.size() - p.get().body().size;
                        // A read that parsed only framing (a chunk header) has nothing to send; an empty
                        // piece would make the serializer emit a premature last-chunk.
                        if (filled == 0 && !p.is_done()) continue;
                        if (p.is_done() && !may_finish()) {
                            ec = finish_refused();
                            break;
                        }
                        p.get().body().data = filled ? scratch.data() : nullptr;
                        p.get().body().size = filled;
                        p.get().body().more = !p.is_done();
                        bytes += filled;
                    }
                } else {
                    p.get().body().data = nullptr;
                    p.get().body().size = 0;
                    p.get().body().more = false;
                }
                BOOST_ASIO_CORO_YIELD http::async_write(out, sr, std::move(self));
                if (ec == http::error::need_buffer) ec = {};
                if (ec) break;
                // Once the parser is done the last piece was written with more=false, so the serializer is done too.
                if (sr.is_done() || p.is_done()) break;
            }
            self.complete(ec, bytes);
        }
    }
};

} // namespace detail

// Precondition: the header was already written through `sr` (or will be: the
// serializer writes it first). Completes with (error, body bytes relayed).
// `before_read()` runs before every read (sessions arm their read deadline there);
// `may_finish()` runs once the whole body was parsed, before its last piece is written.
template <bool isRequest, class In, class Out, class BeforeRead, class MayFinish, class Token>
auto async_relay_body(In& in, beast::flat_buffer& in_buf, http::parser<isRequest, http::buffer_body>& p, Out& out,
                      http::serializer<isRequest, http::buffer_body>& sr, std::span<char> scratch, BeforeRead before_read,
                      MayFinish may_finish, Token&& token) {
    return net::async_compose<Token, void(beast::error_code, std::uint64_t)>(
        detail::relay_body_op<isRequest, In, Out, BeforeRead, MayFinish>{
            {}, in, in_buf, p, out, sr, scratch, std::move(before_read), std::move(may_finish)},
        token, in, out);
}

} // namespace dockpol::sidecar
