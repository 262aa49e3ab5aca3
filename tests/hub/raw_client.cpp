#include "tests/hub/raw_client.hpp"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <exception>
#include <memory>
#include <optional>

#include "net/errors.hpp"
#include "net/handshake.hpp"
#include "net/tls.hpp"
#include "tests/hub/federation.hpp"

namespace tutelle::testing {

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr const char* kHub = "the hub";

tcp::endpoint hub_endpoint(std::uint16_t port) {
  return tcp::endpoint(asio::ip::address_v4::loopback(), port);
}

asio::awaitable<Status> connect_tls(net::TlsStream& stream, std::uint16_t port) {
  boost::system::error_code ec;
  co_await stream.lowest_layer().async_connect(hub_endpoint(port),
                                               asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return net::network_error(ec, "connect to", kHub);
  co_await stream.async_handshake(asio::ssl::stream_base::client,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return net::network_error(ec, "TLS handshake with", kHub);
  co_return Status{};
}

asio::awaitable<Status> write_raw(net::TlsStream& stream, const std::string& bytes) {
  boost::system::error_code ec;
  co_await asio::async_write(stream, asio::buffer(bytes),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return net::network_error(ec, "write raw bytes to", kHub);
  co_return Status{};
}

// Connects, writes `bytes`, then reads until the peer ends the connection.
asio::awaitable<Result<std::string>> exchange(tcp::socket& socket, std::uint16_t port,
                                              const std::string& bytes) {
  boost::system::error_code ec;
  co_await socket.async_connect(hub_endpoint(port), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return net::network_error(ec, "connect to", kHub);
  co_await asio::async_write(socket, asio::buffer(bytes),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return net::network_error(ec, "write to", kHub);
  std::string received;
  std::array<char, 4096> buffer{};
  for (;;) {
    std::size_t got = co_await socket.async_read_some(
        asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    received.append(buffer.data(), got);
    if (ec == asio::error::eof || ec == asio::error::connection_reset) co_return received;
    if (ec) co_return net::network_error(ec, "read from", kHub);
  }
}

asio::awaitable<bool> close_cleanly(net::Connection& connection) {
  co_await connection.close();
  co_return true;
}

template <typename T>
asio::awaitable<void> keep_outcome(std::optional<T>& outcome, asio::awaitable<T> operation) {
  outcome.emplace(co_await std::move(operation));
}

// Runs `operation` on `io` until it ends; fails the test when it has not after kPatience.
// An exception it throws comes out of here.
template <typename T>
T finish(asio::io_context& io, asio::awaitable<T> operation) {
  std::optional<T> outcome;
  auto rethrow = [](const std::exception_ptr& thrown) {
    if (thrown) std::rethrow_exception(thrown);
  };
  asio::co_spawn(io, keep_outcome(outcome, std::move(operation)), rethrow);
  auto until = std::chrono::steady_clock::now() + kPatience;
  io.restart();
  while (!outcome && io.run_one_until(until) > 0) {
  }
  REQUIRE(outcome.has_value());
  return std::move(*outcome);
}

}  // namespace

Status RawClient::open(std::uint16_t port, const std::string& fingerprint) {
  auto tls = net::make_client_context(fingerprint);
  if (!tls) return tls.error();
  auto stream = std::make_unique<net::TlsStream>(io_.get_executor(), *tls->context);
  Status connected = finish(io_, connect_tls(*stream, port));
  if (!connected) return connected;
  net::TlsStream* raw = stream.get();
  auto connection =
      net::Connection::adopt(std::move(stream), tls->context, net::Side::client, kHub);
  if (!connection) return connection.error();
  connection_.emplace(std::move(connection.value()));
  stream_ = raw;
  return {};
}

Result<std::uint64_t> RawClient::authenticate(const identity::KeyPair& keys) {
  auto hub = finish(io_, net::node_handshake(*connection_, keys, net::PeerRole::node));
  if (!hub) return hub.error();
  auto head = receive();
  if (!head) return head.error();
  if (head->kind != net::SyncMessage::Kind::head) {
    return make_error(ErrorCode::corrupt, "the hub did not send its head first");
  }
  return head->seq;
}

Status RawClient::send_frame(const std::string& payload) {
  return finish(io_, connection_->write_frame(payload));
}

Result<net::SyncMessage> RawClient::receive() {
  auto frame = finish(io_, connection_->read_frame(kReadTimeout));
  if (!frame) return frame.error();
  return net::read_sync_message(frame.value(), "a frame from the hub");
}

Result<net::SyncMessage> RawClient::push(const std::string& changeset) {
  Status sent = send_frame(net::push_message(changeset));
  if (!sent) return sent.error();
  return receive();
}

Status RawClient::send_raw(const std::string& bytes) {
  return finish(io_, write_raw(*stream_, bytes));
}

void RawClient::close() {
  finish(io_, close_cleanly(*connection_));
}

Status RawClient::expect_closed_by_hub() {
  auto frame = finish(io_, connection_->read_frame(kReadTimeout));
  if (frame) return make_error(ErrorCode::conflict, "the hub sent a frame instead of closing");
  bool timed_out = frame.error().message.find("timed out") != std::string::npos;
  if (frame.error().code != ErrorCode::network || timed_out) return frame.error();
  return {};
}

Result<std::string> send_over_tcp(std::uint16_t port, const std::string& bytes) {
  asio::io_context io;
  tcp::socket socket(io);
  return finish(io, exchange(socket, port, bytes));
}

}  // namespace tutelle::testing
