#pragma once
// Frames on any Asio stream (a TCP socket, a TLS stream): a 4-byte big-endian payload length,
// then the payload. Both directions have a hard limit; a length above it is refused before a
// byte of its payload is read, so a peer cannot make us allocate or wait for more.
//
// Usage, inside a coroutine:
//   Result<std::string> frame = co_await read_frame(stream, peer);
//   if (!frame) …frame.error()…
//   Status sent = co_await write_frame(stream, reply, peer);
//   auto bounded = co_await with_timeout(stream, 5s, "read a frame from " + peer,
//                                        read_frame(stream, peer));
//
// Contract: at most one read_frame and one write_frame in progress per stream at a time; the
// stream, and a written payload, outlive the operation (true when it is co_awaited at once).
// Errors: a peer that closes between frames gives Error network "<peer> closed the
// connection"; one that closes inside a frame, Error network "truncated frame …"; a length
// above the limit, Error corrupt naming both. After an error the stream's framing is lost:
// close it.
// TODO(api): a clean close between frames differs from a failure only by its message; give
// it a code of its own if the sync session needs to branch on it.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "net/errors.hpp"
#include "protocol/result.hpp"

namespace tutelle::net {

inline constexpr std::size_t kFrameHeaderSize = 4;
inline constexpr std::size_t kDefaultFrameLimit = 16 * 1024 * 1024;
// The largest limit the 4-byte length can express.
inline constexpr std::size_t kMaxFrameLimit = 0xffffffff;

namespace detail {

std::array<unsigned char, kFrameHeaderSize> encode_frame_length(std::uint32_t length);
std::uint32_t decode_frame_length(const std::array<unsigned char, kFrameHeaderSize>& header);

// The Errors of read_frame and write_frame; `got` is how many bytes arrived before `ec`.
Error header_read_error(const boost::system::error_code& ec, std::size_t got,
                        std::string_view peer);
Error payload_read_error(const boost::system::error_code& ec, std::size_t got, std::size_t length,
                         std::string_view peer);
Error oversized_frame_error(std::size_t length, std::size_t limit, std::string_view peer);
Error oversized_write_error(std::size_t length, std::size_t limit, std::string_view peer);
Error timed_out_error(std::string_view what, std::chrono::milliseconds timeout);

}  // namespace detail

// Payloads up to this size go out with their length in one buffer, so in one TLS record.
inline constexpr std::size_t kCoalescedWrite = 16 * 1024;

// Appends `payload` to `out` as one frame, its length first, so that several frames go out in
// one write (write_frames). REQUIRES: `payload` is within the limit of the stream it is for.
void append_frame(std::string& out, std::string_view payload);

namespace detail {

// Reads the rest of a frame whose first `have` bytes of `header` were read already.
template <typename AsyncStream>
boost::asio::awaitable<Result<std::string>> read_frame_rest(
    AsyncStream& stream, std::string peer, std::size_t limit,
    std::array<unsigned char, kFrameHeaderSize> header, std::size_t have) {
  namespace asio = boost::asio;
  boost::system::error_code ec;
  std::size_t got =
      co_await asio::async_read(stream, asio::buffer(header.data() + have, header.size() - have),
                                asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return header_read_error(ec, have + got, peer);

  std::size_t length = decode_frame_length(header);
  if (length > limit) co_return oversized_frame_error(length, limit, peer);

  std::string payload(length, '\0');
  got = co_await asio::async_read(stream, asio::buffer(payload),
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return payload_read_error(ec, got, length, peer);
  co_return payload;
}

}  // namespace detail

// Reads one frame's payload from `stream`. `peer` names the other end in errors.
template <typename AsyncStream>
boost::asio::awaitable<Result<std::string>> read_frame(AsyncStream& stream, std::string peer,
                                                       std::size_t limit = kDefaultFrameLimit) {
  std::array<unsigned char, kFrameHeaderSize> header{};
  auto whole = detail::read_frame_rest(stream, std::move(peer), limit, header, 0);
  co_return co_await std::move(whole);
}

// Writes `payload` as one frame; refuses (invalid_argument) a payload above `limit`.
template <typename AsyncStream>
boost::asio::awaitable<Status> write_frame(AsyncStream& stream, std::string_view payload,
                                           std::string peer,
                                           std::size_t limit = kDefaultFrameLimit) {
  namespace asio = boost::asio;
  std::size_t bound = limit < kMaxFrameLimit ? limit : kMaxFrameLimit;
  if (payload.size() > bound) {
    co_return detail::oversized_write_error(payload.size(), bound, peer);
  }

  auto header = detail::encode_frame_length(static_cast<std::uint32_t>(payload.size()));
  boost::system::error_code ec;
  if (payload.size() <= kCoalescedWrite) {
    std::string joined;
    append_frame(joined, payload);
    co_await asio::async_write(stream, asio::buffer(joined),
                               asio::redirect_error(asio::use_awaitable, ec));
  } else {
    std::array<asio::const_buffer, 2> parts{asio::buffer(header), asio::buffer(payload)};
    co_await asio::async_write(stream, parts, asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec) co_return network_error(ec, "write a frame to", peer);
  co_return Status{};
}

// Writes `frames`, whole frames that append_frame() joined, in one write: the frames a peer
// has waiting go out in as few TLS records and system calls as they fit in.
template <typename AsyncStream>
boost::asio::awaitable<Status> write_frames(AsyncStream& stream, std::string_view frames,
                                            std::string peer) {
  namespace asio = boost::asio;
  boost::system::error_code ec;
  co_await asio::async_write(stream, asio::buffer(frames.data(), frames.size()),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return network_error(ec, "write frames to", peer);
  co_return Status{};
}

// Runs `operation`, an operation on `stream`; if it has not finished after `timeout`, closes
// the stream's socket (which ends the operation) and gives Error network "<what> timed out
// after N ms". The stream is unusable after a timeout.
//
// REQUIRES: the calling coroutine runs on the stream's executor, and that executor is a strand
// or a single-threaded io_context: the timer's handler and the coroutine share state unlocked.
template <typename Outcome, typename AsyncStream>
boost::asio::awaitable<Outcome> with_timeout(AsyncStream& stream, std::chrono::milliseconds timeout,
                                             std::string what,
                                             boost::asio::awaitable<Outcome> operation) {
  // `finished` keeps a timer handler that was already queued from touching a stream that
  // may be gone by the time it runs.
  struct Race {
    bool finished = false;
    bool expired = false;
  };
  struct FinishOnExit {
    std::shared_ptr<Race> race;
    ~FinishOnExit() { race->finished = true; }
  };
  auto race = std::make_shared<Race>();
  FinishOnExit finish{race};

  boost::asio::steady_timer timer(stream.get_executor(), timeout);
  timer.async_wait([race, &stream](const boost::system::error_code& ec) {
    if (ec || race->finished) return;
    race->expired = true;
    boost::system::error_code ignored;
    stream.lowest_layer().close(ignored);
  });

  Outcome outcome = co_await std::move(operation);
  race->finished = true;
  timer.cancel();
  if (race->expired) co_return detail::timed_out_error(what, timeout);
  co_return outcome;
}

// read_frame() bounded by `timeout`.
template <typename AsyncStream>
boost::asio::awaitable<Result<std::string>> read_frame_within(
    AsyncStream& stream, std::string peer, std::chrono::milliseconds timeout,
    std::size_t limit = kDefaultFrameLimit) {
  co_return co_await with_timeout(stream, timeout, "read a frame from " + peer,
                                  read_frame(stream, peer, limit));
}

// Waits as long as it takes for a frame to start (an idle peer is normal), then reads the rest
// of it within `timeout`: a peer that stalls inside a frame loses the connection.
template <typename AsyncStream>
boost::asio::awaitable<Result<std::string>> read_frame_started_within(
    AsyncStream& stream, std::string peer, std::chrono::milliseconds timeout,
    std::size_t limit = kDefaultFrameLimit) {
  namespace asio = boost::asio;
  boost::system::error_code ec;
  std::array<unsigned char, kFrameHeaderSize> header{};
  std::size_t got = co_await asio::async_read(stream, asio::buffer(header.data(), 1),
                                              asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return detail::header_read_error(ec, got, peer);
  std::string what = "read the rest of a frame from " + peer;
  auto rest = detail::read_frame_rest(stream, peer, limit, header, 1);
  co_return co_await with_timeout(stream, timeout, std::move(what), std::move(rest));
}

}  // namespace tutelle::net
