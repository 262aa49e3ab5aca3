#pragma once
// The hub's X.509 credentials (OpenSSL): the SAML service provider's key and certificate, which
// sign its metadata and decrypt assertions, and the TLS certificate of its HTTPS server.
//
// Files: `<name>.key` is the private key as PKCS#8 PEM, mode 0600; `<name>.crt` is the
// self-signed certificate as PEM. SAML trusts the certificate through metadata, not through a CA,
// so self-signed is the federation norm.

#include <filesystem>
#include <string>
#include <string_view>

#include "protocol/result.hpp"

namespace tutelle::identity {

struct Credentials {
  std::string private_key_pem;
  std::string certificate_pem;
};

// OpenSSL's queued errors as one Error naming `operation` and `object`; clears the queue.
Error openssl_error(std::string_view operation, std::string_view object);

// A fresh RSA-2048 key and a self-signed certificate for `common_name`, valid `days` days.
Result<Credentials> generate_credentials(std::string_view common_name, int days);

// Reads `<dir>/<name>.key` and `.crt`; when neither exists, generates and writes them. One
// without the other is refused (a half-written pair must be looked at, not replaced).
Result<Credentials> load_or_create_credentials(const std::filesystem::path& dir,
                                               std::string_view name, std::string_view common_name);

// The base64 body of a PEM certificate (what ds:X509Certificate holds), without armour or breaks.
std::string certificate_body(std::string_view pem);
// A PEM certificate from the base64 DER of ds:X509Certificate; refuses bytes that are not one.
Result<std::string> certificate_pem_from_body(std::string_view body);

}  // namespace tutelle::identity
