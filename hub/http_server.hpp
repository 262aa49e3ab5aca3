#pragma once
// The hub's HTTPS server (Boost.Beast over Asio and OpenSSL), for the SAML endpoints and
// whatever else the hub serves to browsers. It runs on the caller's io_context, beside the sync
// port; one request per connection (the SAML flow is two requests a login).
//
// Thread-safety: start() and stop() must run on the io_context's thread or before it runs; the
// handler is called on the io_context's thread(s) and must be safe for them.

#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "protocol/result.hpp"

namespace tutelle::hub {

struct HttpRequest {
  std::string method;                          // "GET", "POST"…
  std::string target;                          // path and query, as sent
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
  std::string remote;  // the peer's address, for logs

  std::string path() const { return target.substr(0, target.find('?')); }
  std::string query() const {
    auto q = target.find('?');
    return q == std::string::npos ? std::string() : target.substr(q + 1);
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpsOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port (see HttpsServer::port())
  std::string certificate_pem;
  std::string private_key_pem;
  HttpHandler handler;
  std::size_t body_limit = std::size_t{1} << 20;
  int timeout_seconds = 30;  // per connection, handshake to last byte
};

class HttpsServer {
 public:
  // Binds and starts accepting; refuses an address in use or bad credentials.
  static Result<std::unique_ptr<HttpsServer>> start(boost::asio::io_context& io,
                                                    HttpsOptions options);
  ~HttpsServer();
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  // Stops accepting; connections in flight finish on their own.
  void stop();
  std::uint16_t port() const;

  struct State;

 private:
  explicit HttpsServer(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace tutelle::hub
