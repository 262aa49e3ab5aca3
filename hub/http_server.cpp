#include "hub/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <cctype>
#include <iostream>

namespace tutelle::hub {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpsServer::State {
  State(asio::io_context& io, HttpsOptions opts)
      : options(std::move(opts)), tls(asio::ssl::context::tls_server), acceptor(io) {}

  HttpsOptions options;
  asio::ssl::context tls;
  tcp::acceptor acceptor;
};

namespace {

void log_error(const std::string& what, const beast::error_code& ec) {
  std::clog << "tutelle-hub: https: " << what << ": " << ec.message() << "\n";
}

// One connection: TLS handshake, one request, one response, shutdown.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpsServer::State> state)
      : state_(std::move(state)), stream_(std::move(socket), state_->tls) {}

  void run() {
    beast::error_code ec;
    auto endpoint = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    remote_ = ec ? "?" : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    beast::get_lowest_layer(stream_).expires_after(
        std::chrono::seconds(state_->options.timeout_seconds));
    stream_.async_handshake(
        asio::ssl::stream_base::server,
        [self = shared_from_this()](beast::error_code e) { self->on_handshake(e); });
  }

 private:
  void on_handshake(beast::error_code ec) {
    if (ec) return log_error("handshake with " + remote_, ec);
    parser_.body_limit(state_->options.body_limit);
    http::async_read(
        stream_, buffer_, parser_,
        [self = shared_from_this()](beast::error_code e, std::size_t) { self->on_read(e); });
  }

  void on_read(beast::error_code ec) {
    if (ec) return log_error("read from " + remote_, ec);
    HttpResponse reply = state_->options.handler(to_request(parser_.get()));
    response_.result(static_cast<unsigned>(reply.status));
    response_.version(11);
    response_.set(http::field::content_type, reply.content_type);
    response_.set(http::field::cache_control, "no-store");
    for (const auto& [name, value] : reply.headers) response_.insert(name, value);
    response_.body() = std::move(reply.body);
    response_.keep_alive(false);
    response_.prepare_payload();
    http::async_write(
        stream_, response_,
        [self = shared_from_this()](beast::error_code e, std::size_t) { self->on_write(e); });
  }

  void on_write(beast::error_code ec) {
    if (ec) return log_error("write to " + remote_, ec);
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }

  HttpRequest to_request(const http::request<http::string_body>& message) const {
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      request.headers[name] = std::string(field.value());
    }
    request.body = message.body();
    request.remote = remote_;
    return request;
  }

  std::shared_ptr<HttpsServer::State> state_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  http::response<http::string_body> response_;
  std::string remote_;
};

void accept_next(std::shared_ptr<HttpsServer::State> state) {
  auto& acceptor = state->acceptor;
  acceptor.async_accept([state = std::move(state)](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !state->acceptor.is_open()) return;
    if (ec) {
      log_error("accept", ec);
    } else {
      std::make_shared<Session>(std::move(socket), state)->run();
    }
    accept_next(state);
  });
}

Status configure_tls(asio::ssl::context& tls, const HttpsOptions& options) {
  beast::error_code ec;
  tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1,
                  ec);
  if (!ec) tls.use_certificate_chain(asio::buffer(options.certificate_pem), ec);
  if (!ec) tls.use_private_key(asio::buffer(options.private_key_pem), asio::ssl::context::pem, ec);
  if (ec) return make_error(ErrorCode::crypto, "https: TLS credentials: " + ec.message());
  return {};
}

}  // namespace

Result<std::unique_ptr<HttpsServer>> HttpsServer::start(asio::io_context& io,
                                                        HttpsOptions options) {
  if (!options.handler) return make_error(ErrorCode::invalid_argument, "https: no handler");
  auto state = std::make_shared<State>(io, std::move(options));
  Status tls = configure_tls(state->tls, state->options);
  if (!tls) return tls.error();

  beast::error_code ec;
  auto address = asio::ip::make_address(state->options.host, ec);
  if (ec) {
    return make_error(ErrorCode::invalid_argument,
                      "https: '" + state->options.host + "' is not an IP address");
  }
  tcp::endpoint endpoint(address, state->options.port);
  std::string where = state->options.host + ":" + std::to_string(state->options.port);
  state->acceptor.open(endpoint.protocol(), ec);
  if (!ec) state->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(endpoint, ec);
  if (!ec) state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error(ErrorCode::network, "https: listen on " + where + ": " + ec.message());

  accept_next(state);
  return std::unique_ptr<HttpsServer>(new HttpsServer(state));
}

HttpsServer::~HttpsServer() {
  stop();
}

void HttpsServer::stop() {
  beast::error_code ignored;
  state_->acceptor.close(ignored);
}

std::uint16_t HttpsServer::port() const {
  beast::error_code ec;
  auto endpoint = state_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

}  // namespace tutelle::hub
