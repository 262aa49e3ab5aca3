#pragma once
// The two outside error sources of net/ turned into our Error: Boost.Asio's error codes and
// OpenSSL's error queue. Every failure of net/ that comes from them goes through these, so
// messages always name the operation and the peer or object.
//
// Usage:
//   if (ec) co_return network_error(ec, "read a frame from", peer);
//   if (X509_sign(cert, key, EVP_sha256()) == 0) return openssl_error("sign the certificate");

#include <string_view>

#include <boost/system/error_code.hpp>

#include "protocol/result.hpp"

namespace tutelle::net {

// Error{network, "<operation> <peer>: <what the system said>"}. A TLS failure (an alert, a
// certificate refused) is a network error too: its text is OpenSSL's reason.
Error network_error(const boost::system::error_code& ec, std::string_view operation,
                    std::string_view peer);

// Error{code, "<operation>: <reason>; <reason>…"} from every entry of this thread's OpenSSL
// error queue, oldest first; the queue is left empty. Call it right after the failing call.
Error openssl_error(std::string_view operation, ErrorCode code = ErrorCode::crypto);

// True when `ec` says the peer closed the stream: a TCP end of file, or a TLS stream that ended
// with or without close_notify.
bool is_end_of_stream(const boost::system::error_code& ec);

}  // namespace tutelle::net
