#include "identity/credentials.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "identity/encoding.hpp"

namespace tutelle::identity {

namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509* cert) const { X509_free(cert); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

std::string drain(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

Result<Cert> self_signed(EVP_PKEY* key, std::string_view common_name, int days) {
  Cert cert(X509_new());
  if (!cert) return openssl_error("create", "a certificate");
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* number = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(number, X509_get_serialNumber(cert.get()));
  BN_free(number);
  X509_set_version(cert.get(), 2);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  std::string cn(common_name);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key, EVP_sha256()) == 0) {
    return openssl_error("sign", "the certificate of " + cn);
  }
  return cert;
}

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::not_found, path.string() + ": cannot read");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Status write_file(const std::filesystem::path& path, const std::string& bytes, mode_t mode) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close();
  if (!out) return make_error(ErrorCode::storage, path.string() + ": cannot write");
  if (::chmod(path.c_str(), mode) != 0) {
    return make_error(ErrorCode::storage, path.string() + ": cannot set its mode");
  }
  return {};
}

}  // namespace

Error openssl_error(std::string_view operation, std::string_view object) {
  std::string reason;
  for (unsigned long code = ERR_get_error(); code != 0; code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    reason += reason.empty() ? text : std::string("; ") + text;
  }
  if (reason.empty()) reason = "failed";
  return make_error(ErrorCode::crypto, "openssl: " + std::string(operation) + " " +
                                           std::string(object) + ": " + reason);
}

Result<Credentials> generate_credentials(std::string_view common_name, int days) {
  Key key(EVP_RSA_gen(2048));
  if (!key) return openssl_error("generate", "an RSA key");
  auto cert = self_signed(key.get(), common_name, days);
  if (!cert) return cert.error();

  Bio key_out(BIO_new(BIO_s_mem()));
  Bio cert_out(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PrivateKey(key_out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) ||
      !PEM_write_bio_X509(cert_out.get(), cert->get())) {
    return openssl_error("write", "the credentials as PEM");
  }
  return Credentials{drain(key_out.get()), drain(cert_out.get())};
}

Result<Credentials> load_or_create_credentials(const std::filesystem::path& dir,
                                               std::string_view name,
                                               std::string_view common_name) {
  auto key_path = dir / (std::string(name) + ".key");
  auto cert_path = dir / (std::string(name) + ".crt");
  bool has_key = std::filesystem::exists(key_path);
  if (has_key != std::filesystem::exists(cert_path)) {
    return make_error(ErrorCode::conflict,
                      (dir / std::string(name)).string() + ": only one of .key and .crt exists");
  }
  if (has_key) {
    auto key = read_file(key_path);
    auto cert = read_file(cert_path);
    if (!key) return key.error();
    if (!cert) return cert.error();
    return Credentials{key.value(), cert.value()};
  }

  auto fresh = generate_credentials(common_name, 3650);
  if (!fresh) return fresh.error();
  Status wrote = write_file(key_path, fresh->private_key_pem, 0600);
  if (wrote) wrote = write_file(cert_path, fresh->certificate_pem, 0644);
  if (!wrote) return wrote.error();
  return fresh;
}

std::string certificate_body(std::string_view pem) {
  std::string body;
  std::istringstream lines{std::string(pem)};
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("-----", 0) == 0 || line.empty()) continue;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    body += line;
  }
  return body;
}

Result<std::string> certificate_pem_from_body(std::string_view body) {
  auto der = base64_decode(body);
  if (!der) return der.error().context("certificate");
  const auto* bytes = reinterpret_cast<const unsigned char*>(der->data());
  Cert cert(d2i_X509(nullptr, &bytes, static_cast<long>(der->size())));
  if (!cert) return openssl_error("read", "a metadata certificate");
  Bio out(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(out.get(), cert.get())) return openssl_error("write", "a certificate");
  return drain(out.get());
}

}  // namespace tutelle::identity
