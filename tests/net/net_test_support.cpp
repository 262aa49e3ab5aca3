#include "net_test_support.hpp"

#include <random>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace tutelle::net::test {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;

TempDir::TempDir() {
  std::random_device random;
  auto name = "tutelle-net-test-" + std::to_string(random()) + std::to_string(random());
  path_ = std::filesystem::temp_directory_path() / name;
  std::filesystem::create_directory(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

const TlsIdentityFiles& hub_tls_files() {
  static TempDir dir;
  static TlsIdentityFiles files = [] {
    Result<TlsIdentityFiles> generated = generate_tls_identity(dir.path(), "hub", "test hub");
    if (!generated) throw std::runtime_error(generated.error().message);
    return *generated;
  }();
  return files;
}

const std::string& hub_fingerprint() {
  static std::string fingerprint = [] {
    Result<std::string> computed = certificate_fingerprint(hub_tls_files().certificate);
    if (!computed) throw std::runtime_error(computed.error().message);
    return *computed;
  }();
  return fingerprint;
}

std::shared_ptr<ssl::context> hub_server_context() {
  Result<std::shared_ptr<ssl::context>> context = make_server_context(hub_tls_files());
  if (!context) throw std::runtime_error(context.error().message);
  return *context;
}

IoThread::IoThread() : work_(io_.get_executor()), thread_([this] { io_.run(); }) {}

IoThread::~IoThread() {
  work_.reset();
  io_.stop();
  thread_.join();
}

TestServer::TestServer(IoThread& io, ConnectionHandler handler, ServerOptions options)
    : io_(io), acceptor_(io.executor()) {
  auto listening = listen(io.executor(), {asio::ip::make_address("127.0.0.1"), 0});
  REQUIRE(listening.ok());
  acceptor_ = std::move(*listening);
  port_ = acceptor_.local_endpoint().port();
  stopped_ = start(io.executor(), accept_loop(acceptor_, hub_server_context(), std::move(handler),
                                              std::move(options)));
}

TestServer::~TestServer() {
  asio::post(io_.executor(), [this] { acceptor_.close(); });
  stopped_.wait_for(kWait);
}

asio::awaitable<std::unique_ptr<TlsStream>> raw_tls_client(std::uint16_t port,
                                                           std::shared_ptr<ssl::context> context) {
  auto stream = std::make_unique<TlsStream>(co_await asio::this_coro::executor, *context);
  tcp::endpoint hub{asio::ip::make_address("127.0.0.1"), port};
  co_await stream->lowest_layer().async_connect(hub, asio::use_awaitable);
  co_await stream->async_handshake(ssl::stream_base::client, asio::use_awaitable);
  co_return stream;
}

namespace {

asio::awaitable<std::unique_ptr<TlsStream>> raw_tls_server(tcp::acceptor& acceptor,
                                                           ssl::context& context) {
  tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
  auto stream = std::make_unique<TlsStream>(std::move(socket), context);
  co_await stream->async_handshake(ssl::stream_base::server, asio::use_awaitable);
  co_return stream;
}

}  // namespace

TlsPair make_tls_pair(IoThread& io) {
  auto listening = listen(io.executor(), {asio::ip::make_address("127.0.0.1"), 0});
  REQUIRE(listening.ok());
  tcp::acceptor& acceptor = *listening;

  TlsPair pair;
  pair.server_context = hub_server_context();
  Result<ClientTlsContext> client = make_client_context(hub_fingerprint());
  REQUIRE(client.ok());
  pair.client_context = *client;

  auto server = start(io.executor(), raw_tls_server(acceptor, *pair.server_context));
  auto connected = start(
      io.executor(), raw_tls_client(acceptor.local_endpoint().port(), pair.client_context.context));
  pair.server = wait(server);
  pair.client = wait(connected);
  return pair;
}

}  // namespace tutelle::net::test
