#include "support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <cctype>

namespace tutelle::identity::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

http::request<http::string_body> make_request(const std::string& host, const Call& call) {
  http::request<http::string_body> request(http::string_to_verb(call.method), call.target, 11);
  request.set(http::field::host, host);
  for (const auto& [name, value] : call.headers) request.set(name, value);
  request.body() = call.body;
  request.prepare_payload();
  return request;
}

template <typename Stream>
Reply exchange(Stream& stream, const std::string& host, const Call& call) {
  http::write(stream, make_request(host, call));
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  Reply reply;
  reply.status = static_cast<int>(response.result_int());
  for (const auto& field : response) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    reply.headers[name] = std::string(field.value());
  }
  reply.body = response.body();
  return reply;
}

}  // namespace

Result<Reply> http_call(const std::string& host, std::uint16_t port, const Call& call) {
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    asio::ip::tcp::resolver resolver(io);
    stream.connect(resolver.resolve(host, std::to_string(port)));
    return exchange(stream, host, call);
  } catch (const std::exception& error) {
    return make_error(ErrorCode::network, "http " + host + ": " + error.what());
  }
}

Result<Reply> https_call(const std::string& host, std::uint16_t port, const Call& call,
                         const std::string& trusted_certificate_pem) {
  try {
    asio::io_context io;
    asio::ssl::context tls(asio::ssl::context::tls_client);
    tls.add_certificate_authority(asio::buffer(trusted_certificate_pem));
    tls.set_verify_mode(asio::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(io, tls);
    asio::ip::tcp::resolver resolver(io);
    beast::get_lowest_layer(stream).connect(resolver.resolve(host, std::to_string(port)));
    stream.handshake(asio::ssl::stream_base::client);
    Reply reply = exchange(stream, host, call);
    beast::error_code ignored;
    stream.shutdown(ignored);
    return reply;
  } catch (const std::exception& error) {
    return make_error(ErrorCode::network, "https " + host + ": " + error.what());
  }
}

std::string form_value(const std::string& html, const std::string& name) {
  auto at = html.find("name=\"" + name + "\"");
  if (at == std::string::npos) return {};
  auto start = html.find("value=\"", at);
  if (start == std::string::npos) return {};
  start += 7;
  std::string value = html.substr(start, html.find('"', start) - start);
  for (auto [entity, plain] :
       {std::pair{"&quot;", "\""}, {"&#x27;", "'"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}}) {
    for (auto pos = value.find(entity); pos != std::string::npos; pos = value.find(entity)) {
      value.replace(pos, std::string_view(entity).size(), plain);
    }
  }
  return value;
}

}  // namespace tutelle::identity::testing
