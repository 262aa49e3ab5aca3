#pragma once
// A browser's side of HTTP for the tests: plain HTTP to the test IdP, HTTPS to the hub.

#include <cstdint>
#include <map>
#include <string>

#include "protocol/result.hpp"

namespace tutelle::identity::testing {

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercase names; the last value of each
  std::string body;
};

struct Call {
  std::string method = "GET";
  std::string target;  // path and query
  std::map<std::string, std::string> headers;
  std::string body;
};

Result<Reply> http_call(const std::string& host, std::uint16_t port, const Call& call);
// Verifies the server against `trusted_certificate_pem` (the hub's self-signed TLS certificate).
Result<Reply> https_call(const std::string& host, std::uint16_t port, const Call& call,
                         const std::string& trusted_certificate_pem);

// The value of <input name="NAME" value="..."/> in an HTML form (HTML entities undone).
std::string form_value(const std::string& html, const std::string& name);

}  // namespace tutelle::identity::testing
