// Tests of net/connection.hpp: real TLS connections between connect() and accept_loop().

#include "net/connection.hpp"

#include <atomic>
#include <vector>

#include <openssl/ssl.h>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "net/log.hpp"
#include "net_test_support.hpp"

namespace tutelle::net::test {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;

// The hub's side of most tests: sends every frame back until the peer leaves.
awaitable<void> echo(Connection connection) {
  for (;;) {
    Result<std::string> frame = co_await connection.read_frame();
    if (!frame) break;
    Status sent = co_await connection.write_frame(*frame);
    if (!sent) break;
  }
  co_await connection.close();
}

awaitable<Result<std::string>> echo_through(Connection& hub, std::string payload) {
  Status sent = co_await hub.write_frame(payload);
  if (!sent) co_return sent.error();
  co_return co_await hub.read_frame(kWait);
}

// Connects, has one frame echoed, closes.
awaitable<Result<std::string>> echo_once(std::uint16_t port, std::string payload) {
  Result<Connection> hub = co_await connect("127.0.0.1", port, hub_fingerprint());
  if (!hub) co_return hub.error();
  Result<std::string> reply = co_await echo_through(*hub, payload);
  co_await hub->close();
  co_return reply;
}

// What on_refused saw, one "<peer>: <reason>" per refused connection.
ServerOptions reporting_refusals(Mailbox<std::string>& refusals) {
  ServerOptions options;
  options.on_refused = [&refusals](const std::string& peer, const Error& reason) {
    refusals.push(peer + ": " + reason.message);
  };
  return options;
}

TEST_CASE("a node connects to the hub it pins and frames flow both ways") {
  IoThread io;
  Mailbox<std::string> hub_side;
  TestServer server(io, [&hub_side](Connection connection) -> awaitable<void> {
    hub_side.push(connection.hub_fingerprint() + " " + connection.tls_description());
    co_await echo(std::move(connection));
  });

  auto reply = start(io.executor(), echo_once(server.port(), "ping"));
  Result<std::string> echoed = wait(reply);
  REQUIRE(echoed.ok());
  CHECK(*echoed == "ping");
  CHECK_THAT(hub_side.pop(), Catch::StartsWith(hub_fingerprint() + " TLSv1.3, "));
}

awaitable<std::string> describe_client(std::uint16_t port) {
  Result<Connection> hub = co_await connect("127.0.0.1", port, hub_fingerprint());
  if (!hub) co_return hub.error().message;
  std::string description = hub->peer() + " " + hub->hub_fingerprint() + " " +
                            (hub->side() == Side::client ? "client" : "server");
  co_await hub->close();
  co_return description;
}

TEST_CASE("a connected node knows the hub's address and certificate fingerprint") {
  IoThread io;
  TestServer server(io, echo);
  auto described = start(io.executor(), describe_client(server.port()));
  CHECK(wait(described) ==
        "127.0.0.1:" + std::to_string(server.port()) + " " + hub_fingerprint() + " client");
}

TEST_CASE("a wrong pinned fingerprint fails the handshake, naming both fingerprints") {
  IoThread io;
  Mailbox<std::string> refusals;
  std::atomic<int> handled{0};
  TestServer server(
      io,
      [&handled](Connection connection) -> awaitable<void> {
        ++handled;
        co_await echo(std::move(connection));
      },
      reporting_refusals(refusals));

  std::string wrong(64, '0');
  auto connected = start(io.executor(), connect("127.0.0.1", server.port(), wrong));
  Result<Connection> hub = wait(connected);
  REQUIRE_FALSE(hub.ok());
  CHECK(hub.error().code == ErrorCode::refused);
  CHECK_THAT(hub.error().message, Catch::Contains("expected fingerprint " + wrong) &&
                                      Catch::Contains("found " + hub_fingerprint()));

  CHECK_THAT(refusals.pop(), Catch::StartsWith("127.0.0.1:"));
  CHECK(handled == 0);
}

// Either "connected" or why not.
awaitable<std::string> try_raw_client(std::uint16_t port, std::shared_ptr<ssl::context> tls) {
  try {
    auto stream = co_await raw_tls_client(port, tls);
    co_return "connected";
  } catch (const boost::system::system_error& e) {
    co_return std::string(e.what());
  }
}

std::shared_ptr<ssl::context> tls12_only_client() {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_verify_mode(ssl::verify_none);
  return context;
}

TEST_CASE("a client that speaks only TLS 1.2 is refused") {
  IoThread io;
  Mailbox<std::string> refusals;
  TestServer server(io, echo, reporting_refusals(refusals));

  auto attempt = start(io.executor(), try_raw_client(server.port(), tls12_only_client()));
  CHECK(wait(attempt) != "connected");
  CHECK_THAT(refusals.pop(), Catch::Contains("TLS handshake with 127.0.0.1:") &&
                                 Catch::Contains("unsupported protocol"));
}

// Connects over plain TCP, sends `bytes`, and waits for the hub to hang up.
awaitable<bool> send_plain(std::uint16_t port, std::string bytes) {
  tcp::socket socket(co_await asio::this_coro::executor);
  tcp::endpoint hub{asio::ip::make_address("127.0.0.1"), port};
  co_await socket.async_connect(hub, asio::use_awaitable);
  co_await asio::async_write(socket, asio::buffer(bytes), asio::use_awaitable);

  char sink[256];
  boost::system::error_code ec;
  while (!ec) {
    co_await socket.async_read_some(asio::buffer(sink),
                                    asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return true;
}

// Restores stderr when the test ends; lines go to a mailbox meanwhile.
struct LogToMailbox {
  explicit LogToMailbox(Mailbox<std::string>& lines) {
    log::set_sink([&lines](std::string_view line) { lines.push(std::string(line)); });
  }
  ~LogToMailbox() { log::set_sink({}); }
};

bool logged_a_line_with(Mailbox<std::string>& lines, const std::string& text) {
  for (int i = 0; i < 10; ++i) {
    if (lines.pop().find(text) != std::string::npos) return true;
  }
  return false;
}

TEST_CASE("garbage instead of a ClientHello is refused and the hub goes on accepting") {
  IoThread io;
  Mailbox<std::string> refusals;
  Mailbox<std::string> lines;
  TestServer server(io, echo, reporting_refusals(refusals));
  LogToMailbox logging(lines);

  auto garbage = start(io.executor(), send_plain(server.port(), "GET / HTTP/1.1\r\n\r\n"));
  CHECK(wait(garbage));
  CHECK_THAT(refusals.pop(), Catch::Contains("TLS handshake"));
  CHECK(logged_a_line_with(lines, "WARNING net: connection from 127.0.0.1:"));

  auto reply = start(io.executor(), echo_once(server.port(), "still there?"));
  Result<std::string> echoed = wait(reply);
  REQUIRE(echoed.ok());
  CHECK(*echoed == "still there?");
}

awaitable<std::string> stall(std::uint16_t port) {
  tcp::socket socket(co_await asio::this_coro::executor);
  tcp::endpoint hub{asio::ip::make_address("127.0.0.1"), port};
  co_await socket.async_connect(hub, asio::use_awaitable);
  char byte = 0;
  boost::system::error_code ec;
  co_await socket.async_read_some(asio::buffer(&byte, 1),
                                  asio::redirect_error(asio::use_awaitable, ec));
  co_return ec.message();
}

TEST_CASE("a client that stalls in the TLS handshake is refused after the timeout") {
  IoThread io;
  Mailbox<std::string> refusals;
  ServerOptions options = reporting_refusals(refusals);
  options.handshake_timeout = 100ms;
  TestServer server(io, echo, options);

  auto stalled = start(io.executor(), stall(server.port()));
  CHECK_THAT(refusals.pop(), Catch::EndsWith("timed out after 100 ms"));
  wait(stalled);
}

TEST_CASE("handshakes beyond the cap are closed at once, and the cap frees as they end") {
  IoThread io;
  Mailbox<std::string> refusals;
  ServerOptions options = reporting_refusals(refusals);
  options.handshake_timeout = 500ms;
  options.max_handshakes = 2;
  TestServer server(io, echo, options);

  auto first = start(io.executor(), stall(server.port()));
  auto second = start(io.executor(), stall(server.port()));
  auto third = start(io.executor(), stall(server.port()));
  CHECK_THAT(refusals.pop(), Catch::EndsWith("already 2 TLS handshakes in progress"));
  CHECK_THAT(refusals.pop(), Catch::EndsWith("timed out after 500 ms"));
  CHECK_THAT(refusals.pop(), Catch::EndsWith("timed out after 500 ms"));
  for (auto* stalled : {&first, &second, &third}) wait(*stalled);

  auto reply = start(io.executor(), echo_once(server.port(), "served again"));
  Result<std::string> echoed = wait(reply);
  REQUIRE(echoed.ok());
  CHECK(*echoed == "served again");
}

// Lets every client through once `expected` of them have arrived: proof that the hub holds
// that many connections open at once. Used on the I/O thread only.
struct Gate {
  Gate(asio::any_io_executor executor, std::size_t count)
      : expected(count), opened(executor, asio::steady_timer::time_point::max()) {}
  std::size_t expected;
  std::size_t arrived = 0;
  asio::steady_timer opened;
};

awaitable<void> pass(Gate& gate) {
  if (++gate.arrived == gate.expected) {
    gate.opened.cancel();
    co_return;
  }
  boost::system::error_code ignored;
  co_await gate.opened.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

awaitable<Result<std::string>> echo_after_gate(std::uint16_t port, std::string payload,
                                               Gate& gate) {
  Result<Connection> hub = co_await connect("127.0.0.1", port, hub_fingerprint());
  co_await pass(gate);
  if (!hub) co_return hub.error();
  Result<std::string> reply = co_await echo_through(*hub, payload);
  co_await hub->close();
  co_return reply;
}

TEST_CASE("the hub serves many connections at once on one io_context") {
  constexpr std::size_t kClients = 32;
  IoThread io;
  std::atomic<int> open{0};
  std::atomic<int> most_open{0};
  TestServer server(io, [&](Connection connection) -> awaitable<void> {
    int now = ++open;
    for (int seen = most_open; now > seen && !most_open.compare_exchange_weak(seen, now);) {
    }
    co_await echo(std::move(connection));
    --open;
  });

  Gate gate(io.executor(), kClients);
  std::vector<std::future<Result<std::string>>> replies;
  for (std::size_t i = 0; i < kClients; ++i) {
    replies.push_back(
        start(io.executor(), echo_after_gate(server.port(), "client " + std::to_string(i), gate)));
  }

  for (std::size_t i = 0; i < kClients; ++i) {
    Result<std::string> echoed = wait(replies[i]);
    REQUIRE(echoed.ok());
    CHECK(*echoed == "client " + std::to_string(i));
  }
  CHECK(most_open == static_cast<int>(kClients));
}

}  // namespace
}  // namespace tutelle::net::test
