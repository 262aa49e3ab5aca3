#include "net/connection.hpp"

#include <atomic>

#include <exception>

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>

#include "net/detail/openssl.hpp"
#include "net/log.hpp"
#include "net/tls.hpp"

namespace tutelle::net {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::awaitable;
using asio::ip::tcp;

namespace {

constexpr std::string_view kComponent = "net";

// How long close() waits for the peer's close_notify before closing anyway.
constexpr std::chrono::milliseconds kCloseTimeout{2'000};

// How long accept_loop() waits after a failed accept (a full descriptor table, most often)
// before trying again, rather than spinning.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

// Small frames go out at once: the protocol is request and answer, and Nagle's delay would
// add to every round trip.
void set_no_delay(tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
}

Result<std::string> hub_fingerprint_of(TlsStream& stream, Side side) {
  SSL* ssl = stream.native_handle();
  if (side == Side::server) {
    const X509* own = SSL_get_certificate(ssl);
    if (own == nullptr) return make_error(ErrorCode::internal, "the hub has no certificate");
    return certificate_fingerprint(*own);
  }
  detail::OpenSslPtr<X509> presented(SSL_get1_peer_certificate(ssl));
  if (!presented) return make_error(ErrorCode::refused, "the hub presented no certificate");
  return certificate_fingerprint(*presented);
}

awaitable<Status> tls_handshake(TlsStream& stream, ssl::stream_base::handshake_type type,
                                std::string peer) {
  boost::system::error_code ec;
  co_await stream.async_handshake(type, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return network_error(ec, "TLS handshake with", peer);
  co_return Status{};
}

awaitable<Status> tls_shutdown(TlsStream& stream) {
  boost::system::error_code ec;
  co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return network_error(ec, "TLS shutdown", "");
  co_return Status{};
}

// A shutdown that fails or times out is not reported: the peer is gone either way.
awaitable<void> close_stream(TlsStream& stream, std::string peer) {
  if (!stream.lowest_layer().is_open()) co_return;
  Status shut = co_await with_timeout(stream, kCloseTimeout, "TLS shutdown", tls_shutdown(stream));

  boost::system::error_code ignored;
  stream.lowest_layer().close(ignored);
  log::debug(kComponent, "connection with " + peer + " closed" +
                             (shut ? "" : " (" + shut.error().message + ")"));
}

}  // namespace

std::string endpoint_text(const tcp::endpoint& endpoint) {
  asio::ip::address address = endpoint.address();
  std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

Connection::Connection(std::unique_ptr<TlsStream> stream, std::shared_ptr<ssl::context> context,
                       Side side, std::string peer, std::string hub_fingerprint,
                       std::size_t frame_limit)
    : context_(std::move(context)),
      stream_(std::move(stream)),
      side_(side),
      peer_(std::move(peer)),
      hub_fingerprint_(std::move(hub_fingerprint)),
      frame_limit_(frame_limit) {}

Result<Connection> Connection::adopt(std::unique_ptr<TlsStream> stream,
                                     std::shared_ptr<ssl::context> context, Side side,
                                     std::string peer, std::size_t frame_limit) {
  Result<std::string> fingerprint = hub_fingerprint_of(*stream, side);
  if (!fingerprint) return fingerprint.error().context("connection with " + peer);
  return Connection(std::move(stream), std::move(context), side, std::move(peer),
                    std::move(*fingerprint), frame_limit);
}

awaitable<Result<std::string>> Connection::read_frame() {
  return net::read_frame(*stream_, peer_, frame_limit_);
}

awaitable<Result<std::string>> Connection::read_frame(std::chrono::milliseconds timeout) {
  return read_frame_within(*stream_, peer_, timeout, frame_limit_);
}

awaitable<Result<std::string>> Connection::read_frame_started_within(
    std::chrono::milliseconds timeout) {
  return net::read_frame_started_within(*stream_, peer_, timeout, frame_limit_);
}

awaitable<Status> Connection::write_frame(std::string_view payload) {
  return net::write_frame(*stream_, payload, peer_, frame_limit_);
}

awaitable<Status> Connection::write_frames(std::string_view frames) {
  return net::write_frames(*stream_, frames, peer_);
}

bool Connection::input_waiting() const {
  SSL* ssl = stream_->native_handle();
  if (SSL_has_pending(ssl) == 1) return true;
  BIO* encrypted = SSL_get_rbio(ssl);
  if (encrypted != nullptr && BIO_ctrl_pending(encrypted) > 0) return true;
  boost::system::error_code ec;
  std::size_t available = stream_->lowest_layer().available(ec);
  return !ec && available > 0;
}

awaitable<void> Connection::close() {
  return close_stream(*stream_, peer_);
}

void Connection::abort() {
  boost::system::error_code ignored;
  stream_->lowest_layer().close(ignored);
}

bool Connection::is_open() const {
  return stream_ && stream_->lowest_layer().is_open();
}

std::string Connection::tls_description() const {
  SSL* ssl = stream_->native_handle();
  return std::string(SSL_get_version(ssl)) + ", " + SSL_get_cipher_name(ssl);
}

asio::any_io_executor Connection::get_executor() const {
  return stream_->get_executor();
}

namespace {

Error pin_mismatch_error(std::string_view expected, std::string_view found, std::string_view peer) {
  return make_error(ErrorCode::refused,
                    "TLS handshake with " + std::string(peer) +
                        ": the hub's certificate is not the pinned one: expected fingerprint " +
                        std::string(expected) + ", found " + std::string(found));
}

awaitable<Status> open_client(TlsStream& stream, std::string host, std::uint16_t port,
                              std::string peer, std::shared_ptr<const CertificatePin> pin) {
  // TODO(robustness): a timeout closes the socket but does not cancel a resolution in
  // progress; connect() then returns only once the resolver gives up.
  boost::system::error_code ec;
  tcp::resolver resolver(stream.get_executor());
  auto endpoints = co_await resolver.async_resolve(host, std::to_string(port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return network_error(ec, "resolve", peer);

  co_await asio::async_connect(stream.lowest_layer(), endpoints,
                               asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return network_error(ec, "connect to", peer);
  set_no_delay(stream.next_layer());

  Status shook = co_await tls_handshake(stream, ssl::stream_base::client, peer);
  if (!shook && pin->mismatch()) {
    co_return pin_mismatch_error(pin->expected(), pin->found(), peer);
  }
  co_return shook;
}

Result<Connection> adopt_client(std::unique_ptr<TlsStream> stream, ClientTlsContext tls,
                                std::string peer, std::size_t frame_limit) {
  Result<Connection> connection =
      Connection::adopt(std::move(stream), tls.context, Side::client, peer, frame_limit);
  if (!connection) return connection;

  // The verify callback already compared the fingerprints; this second look costs one hash
  // and does not depend on how OpenSSL walks the chain.
  if (connection->hub_fingerprint() != tls.pin->expected()) {
    return pin_mismatch_error(tls.pin->expected(), connection->hub_fingerprint(), peer);
  }
  return connection;
}

}  // namespace

awaitable<Result<Connection>> connect(std::string host, std::uint16_t port,
                                      std::string hub_fingerprint, ConnectOptions options) {
  std::string peer = host + ":" + std::to_string(port);
  Result<ClientTlsContext> tls = make_client_context(hub_fingerprint);
  if (!tls) co_return tls.error().context("connect to " + peer);

  auto stream = std::make_unique<TlsStream>(co_await asio::this_coro::executor, *tls->context);
  Status opened = co_await with_timeout(*stream, options.timeout, "connect to " + peer,
                                        open_client(*stream, host, port, peer, tls->pin));
  Result<Connection> connection =
      opened ? adopt_client(std::move(stream), *tls, peer, options.frame_limit)
             : Result<Connection>(opened.error());
  if (!connection) {
    log::warning(kComponent,
                 "connection to hub " + peer + " failed: " + connection.error().message);
    co_return connection;
  }

  log::info(kComponent, "connected to hub " + peer + " (" + connection->tls_description() + ")");
  co_return connection;
}

Result<tcp::acceptor> listen(const asio::any_io_executor& executor, const tcp::endpoint& endpoint) {
  std::string where = endpoint_text(endpoint);
  tcp::acceptor acceptor(executor);
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return network_error(ec, "listen on", where);
  return acceptor;
}

namespace {

// What every connection of one accept_loop shares; immutable once the loop has started.
struct Serving {
  std::shared_ptr<ssl::context> tls;
  ConnectionHandler handler;
  ServerOptions options;
};

void refuse(const std::string& peer, const Error& reason, const Serving& serving) {
  log::warning(kComponent, "connection from " + peer + " refused: " + reason.message);
  if (serving.options.on_refused) serving.options.on_refused(peer, reason);
}

std::string remote_text(const tcp::socket& socket) {
  boost::system::error_code ec;
  tcp::endpoint remote = socket.remote_endpoint(ec);
  return ec ? std::string("(an unknown peer)") : endpoint_text(remote);
}

// The handler's exceptions stop here: one connection's bug must not end the accept loop.
awaitable<void> run_handler(Connection connection, std::shared_ptr<const Serving> serving) {
  std::string peer = connection.peer();
  try {
    co_await serving->handler(std::move(connection));
  } catch (const std::exception& e) {
    log::error(kComponent, "handler for " + peer + " threw: " + e.what());
  }
}

// Counts a handshake in progress for as long as it lives.
class HandshakeSlot {
 public:
  explicit HandshakeSlot(std::shared_ptr<std::atomic<std::size_t>> count)
      : count_(std::move(count)) {
    ++*count_;
  }
  HandshakeSlot(const HandshakeSlot&) = delete;
  HandshakeSlot& operator=(const HandshakeSlot&) = delete;
  ~HandshakeSlot() { release(); }
  void release() {
    if (count_) --*count_;
    count_.reset();
  }

 private:
  std::shared_ptr<std::atomic<std::size_t>> count_;
};

awaitable<void> serve(tcp::socket socket, std::shared_ptr<const Serving> serving,
                      std::shared_ptr<HandshakeSlot> slot) {
  std::string peer = remote_text(socket);
  set_no_delay(socket);
  auto stream = std::make_unique<TlsStream>(std::move(socket), *serving->tls);

  Status shook = co_await with_timeout(*stream, serving->options.handshake_timeout,
                                       "TLS handshake with " + peer,
                                       tls_handshake(*stream, ssl::stream_base::server, peer));
  slot->release();
  Result<Connection> connection =
      shook ? Connection::adopt(std::move(stream), serving->tls, Side::server, peer,
                                serving->options.frame_limit)
            : Result<Connection>(shook.error());
  if (!connection) {
    refuse(peer, connection.error(), *serving);
    co_return;
  }

  log::info(kComponent,
            "connection from " + peer + " accepted (" + connection->tls_description() + ")");
  co_await run_handler(std::move(*connection), serving);
}

awaitable<void> pause(const asio::any_io_executor& executor, std::chrono::milliseconds delay) {
  asio::steady_timer timer(executor, delay);
  boost::system::error_code ignored;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

}  // namespace

awaitable<Status> accept_loop(tcp::acceptor& acceptor, std::shared_ptr<ssl::context> tls,
                              ConnectionHandler handler, ServerOptions options) {
  auto serving = std::make_shared<const Serving>(
      Serving{std::move(tls), std::move(handler), std::move(options)});
  auto handshakes = std::make_shared<std::atomic<std::size_t>>(0);
  boost::system::error_code ec;
  std::string local = endpoint_text(acceptor.local_endpoint(ec));
  log::info(kComponent, "accepting connections on " + local);

  for (;;) {
    tcp::socket socket(asio::make_strand(acceptor.get_executor()));
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (!acceptor.is_open()) break;
    if (ec) {
      log::warning(kComponent, network_error(ec, "accept on", local).message);
      co_await pause(acceptor.get_executor(), kAcceptRetryDelay);
      continue;
    }

    if (handshakes->load() >= serving->options.max_handshakes) {
      std::string max = std::to_string(serving->options.max_handshakes);
      refuse(remote_text(socket),
             make_error(ErrorCode::refused, "already " + max + " TLS handshakes in progress"),
             *serving);
      socket.close(ec);
      continue;
    }
    auto slot = std::make_shared<HandshakeSlot>(handshakes);
    auto executor = socket.get_executor();
    asio::co_spawn(executor, serve(std::move(socket), serving, std::move(slot)), asio::detached);
  }

  log::info(kComponent, "stopped accepting connections on " + local);
  co_return Status{};
}

}  // namespace tutelle::net
