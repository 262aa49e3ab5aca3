// Tests of net/frame.hpp, on bare TLS streams over 127.0.0.1.

#include "net/frame.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "net_test_support.hpp"

namespace tutelle::net::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

asio::awaitable<std::size_t> send_raw(TlsStream& stream, std::string bytes) {
  co_return co_await asio::async_write(stream, asio::buffer(bytes), asio::use_awaitable);
}

asio::awaitable<std::string> receive_raw(TlsStream& stream, std::size_t size) {
  std::string bytes(size, '\0');
  co_await asio::async_read(stream, asio::buffer(bytes), asio::use_awaitable);
  co_return bytes;
}

// Ends the connection without a TLS close_notify, as a peer that crashed would: a TCP FIN.
asio::awaitable<bool> drop(TlsStream& stream) {
  stream.lowest_layer().shutdown(asio::ip::tcp::socket::shutdown_send);
  co_return true;
}

// Sends a TLS close_notify. Only started: the shutdown then waits for the other side's.
void start_tls_shutdown(IoThread& io, TlsStream& stream) {
  asio::co_spawn(io.executor(), stream.async_shutdown(asio::use_awaitable), asio::detached);
}

std::string length_bytes(std::uint32_t length) {
  auto header = detail::encode_frame_length(length);
  return std::string(header.begin(), header.end());
}

TEST_CASE("frames written are read back whole and in order over TLS") {
  IoThread io;
  TlsPair pair = make_tls_pair(io);
  std::string large(300 * 1024, 'x');
  large[12345] = 'y';

  for (const std::string& payload : {std::string("hello"), std::string(), large}) {
    auto sent = start(io.executor(), write_frame(*pair.client, payload, "hub"));
    auto received = start(io.executor(), read_frame(*pair.server, "node"));
    REQUIRE(wait(sent).ok());
    Result<std::string> frame = wait(received);
    REQUIRE(frame.ok());
    CHECK(*frame == payload);
  }
}

TEST_CASE("an oversized frame length is refused before any of its payload is read") {
  IoThread io;
  TlsPair pair = make_tls_pair(io);
  auto sent = start(io.executor(), send_raw(*pair.client, length_bytes(1025) + "XYZ"));
  wait(sent);

  auto received = start(io.executor(), read_frame(*pair.server, "node", 1024));
  Result<std::string> frame = wait(received);
  REQUIRE_FALSE(frame.ok());
  CHECK(frame.error().code == ErrorCode::corrupt);
  CHECK_THAT(frame.error().message, Catch::Contains("1025") && Catch::Contains("1024"));

  // The three bytes after the length are still there: nothing of the payload was consumed.
  auto rest = start(io.executor(), receive_raw(*pair.server, 3));
  CHECK(wait(rest) == "XYZ");
}

TEST_CASE("the default frame limit is 16 MiB") {
  IoThread io;
  TlsPair pair = make_tls_pair(io);
  auto sent = start(io.executor(), send_raw(*pair.client, length_bytes(16 * 1024 * 1024 + 1)));
  wait(sent);

  auto received = start(io.executor(), read_frame(*pair.server, "node"));
  Result<std::string> frame = wait(received);
  REQUIRE_FALSE(frame.ok());
  CHECK_THAT(frame.error().message,
             Catch::Contains("16777217") && Catch::Contains("limit of 16777216"));
}

TEST_CASE("a connection closed inside a payload is reported as a truncated frame") {
  IoThread io;
  TlsPair pair = make_tls_pair(io);
  auto sent = start(io.executor(), send_raw(*pair.client, length_bytes(100) + "0123456789"));
  wait(sent);
  start_tls_shutdown(io, *pair.client);

  auto received = start(io.executor(), read_frame(*pair.server, "node"));
  Result<std::string> frame = wait(received);
  REQUIRE_FALSE(frame.ok());
  CHECK(frame.error().code == ErrorCode::network);
  CHECK_THAT(frame.error().message,
             Catch::StartsWith("truncated frame from node") &&
                 Catch::Contains("closed after 10 of its 100 payload bytes"));
}

TEST_CASE("a connection closed inside a length is reported as a truncated frame") {
  IoThread io;
  TlsPair pair = make_tls_pair(io);
  auto sent = start(io.executor(), send_raw(*pair.client, length_bytes(100).substr(0, 2)));
  wait(sent);
  auto dropped = start(io.executor(), drop(*pair.client));
  wait(dropped);

  auto received = start(io.executor(), read_frame(*pair.server, "node"));
  Result<std::string> frame = wait(received);
  REQUIRE_FALSE(frame.ok());
  CHECK_THAT(frame.error().message,
             Catch::StartsWith("truncated frame") && Catch::Contains("2 of the 4 bytes"));
}

TEST_CASE("a peer that closes between frames is reported as gone, not as a truncated frame") {
  IoThread io;
  TlsPair pair = make_tls_pair(io);
  auto dropped = start(io.executor(), drop(*pair.client));
  wait(dropped);

  auto received = start(io.executor(), read_frame(*pair.server, "node"));
  Result<std::string> frame = wait(received);
  REQUIRE_FALSE(frame.ok());
  CHECK(frame.error().message == "node closed the connection");
}

TEST_CASE("a payload above the limit is not sent") {
  IoThread io;
  TlsPair pair = make_tls_pair(io);
  auto sent = start(io.executor(), write_frame(*pair.client, std::string(2000, 'x'), "hub", 1024));
  Status status = wait(sent);
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().code == ErrorCode::invalid_argument);
  CHECK_THAT(status.error().message, Catch::Contains("2000") && Catch::Contains("1024"));
}

TEST_CASE("a read that outlasts its timeout fails, says so, and closes the stream") {
  IoThread io;
  TlsPair pair = make_tls_pair(io);

  auto received = start(io.executor(), read_frame_within(*pair.server, "node", 50ms));
  Result<std::string> frame = wait(received);
  REQUIRE_FALSE(frame.ok());
  CHECK(frame.error().message == "read a frame from node timed out after 50 ms");
  CHECK_FALSE(pair.server->lowest_layer().is_open());
}

TEST_CASE("a read that finishes in time is not disturbed by its timeout") {
  IoThread io;
  TlsPair pair = make_tls_pair(io);
  auto sent = start(io.executor(), write_frame(*pair.client, "on time", "hub"));
  REQUIRE(wait(sent).ok());

  auto received = start(io.executor(), read_frame_within(*pair.server, "node", 10s));
  Result<std::string> frame = wait(received);
  REQUIRE(frame.ok());
  CHECK(*frame == "on time");
  CHECK(pair.server->lowest_layer().is_open());
}

}  // namespace
}  // namespace tutelle::net::test
