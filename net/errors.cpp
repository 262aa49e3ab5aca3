#include "net/errors.hpp"

#include <openssl/err.h>

#include <string>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

namespace tutelle::net {

Error network_error(const boost::system::error_code& ec, std::string_view operation,
                    std::string_view peer) {
  std::string message(operation);
  if (!peer.empty()) message += " " + std::string(peer);
  return make_error(ErrorCode::network, message + ": " + ec.message());
}

Error openssl_error(std::string_view operation, ErrorCode code) {
  std::string reasons;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(e, text, sizeof text);
    if (!reasons.empty()) reasons += "; ";
    reasons += text;
  }
  if (reasons.empty()) reasons = "OpenSSL gave no reason";
  return make_error(code, std::string(operation) + ": " + reasons);
}

bool is_end_of_stream(const boost::system::error_code& ec) {
  return ec == boost::asio::error::eof || ec == boost::asio::ssl::error::stream_truncated;
}

}  // namespace tutelle::net
