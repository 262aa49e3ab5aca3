#pragma once
// TLS identities and contexts of the hub and its nodes. TLS 1.3 only, and no certificate
// authority: the hub has a self-signed certificate and each node pins its SHA-256 fingerprint.
//
// Usage, on the hub (once, at set-up, then at every start):
//   auto files = generate_tls_identity(dir, "hub", "tutelle hub");
//   auto fingerprint = certificate_fingerprint(files->certificate);  // give it to the nodes
//   auto server = make_server_context(*files);
// On a node (connect() in connection.hpp does this for you):
//   auto client = make_client_context(fingerprint_from_configuration);
//   …handshake with client->context; on failure client->pin->mismatch() says why.

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/x509.h>
#include <boost/asio/ssl/context.hpp>

#include "protocol/result.hpp"

namespace tutelle::net {

// The PEM files of a TLS identity: an unencrypted PKCS#8 private key (mode 0600) and its
// self-signed X.509 certificate.
struct TlsIdentityFiles {
  std::filesystem::path key;
  std::filesystem::path certificate;
};

// The files generate_tls_identity() writes for `name`: `<dir>/<name>-tls-key.pem` and
// `<dir>/<name>-tls-cert.pem`.
TlsIdentityFiles tls_identity_files(const std::filesystem::path& dir, std::string_view name);

// Generates an ECDSA P-256 key and a self-signed certificate for it (subject and issuer
// CN=`common_name`, random serial, SHA-256 signature, valid `valid_days` from now) and writes
// both. Refuses (conflict) when either file exists already; nothing is overwritten.
Result<TlsIdentityFiles> generate_tls_identity(const std::filesystem::path& dir,
                                               std::string_view name, std::string_view common_name,
                                               int valid_days = 3650);

// The lowercase hexadecimal SHA-256 of the certificate's DER encoding, 64 characters.
Result<std::string> certificate_fingerprint(const X509& certificate);
Result<std::string> certificate_fingerprint(const std::filesystem::path& certificate_pem);

// Accepts 64 hexadecimal digits, either case, and gives them in lowercase.
Result<std::string> normalise_fingerprint(std::string_view fingerprint);

// A server context presenting `files`, TLS 1.3 only, asking no certificate of clients (nodes
// prove who they are in the handshake of handshake.hpp). One context serves any number of
// connections, from any thread; it must outlive them (Connection holds a share of it).
Result<std::shared_ptr<boost::asio::ssl::context>> make_server_context(
    const TlsIdentityFiles& files);

// What the pinning verify callback saw during one handshake.
//
// Thread-safety: written by the verify callback, read after the handshake, both on the
// connection's executor. One pin, and so one client context, serves one handshake at a time.
class CertificatePin {
 public:
  explicit CertificatePin(std::string expected) : expected_(std::move(expected)) {}

  const std::string& expected() const { return expected_; }
  // The fingerprint of the leaf certificate the server presented; empty before a handshake.
  const std::string& found() const { return found_; }
  bool mismatch() const { return !found_.empty() && found_ != expected_; }

  // The verify callback's verdict on the leaf certificate.
  bool check(const X509& leaf);

 private:
  std::string expected_;
  std::string found_;
};

struct ClientTlsContext {
  std::shared_ptr<boost::asio::ssl::context> context;
  std::shared_ptr<CertificatePin> pin;
};

// A client context, TLS 1.3 only, that accepts the server's certificate if and only if its
// fingerprint is `expected_fingerprint`. Chains, names and validity dates are not looked at:
// the pin is the whole of the trust, and the hub replaces its certificate by re-pinning.
Result<ClientTlsContext> make_client_context(std::string_view expected_fingerprint);

}  // namespace tutelle::net
