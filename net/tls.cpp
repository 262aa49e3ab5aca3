#include "net/tls.hpp"

#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "identity/keys.hpp"
#include "net/detail/openssl.hpp"
#include "net/errors.hpp"

namespace tutelle::net {

using detail::OpenSslPtr;
namespace ssl = boost::asio::ssl;

namespace {

// Creates `path` with `mode` and writes `bytes`; never replaces an existing file.
Status write_new_file(const std::filesystem::path& path, std::string_view bytes, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    ErrorCode code = errno == EEXIST ? ErrorCode::conflict : ErrorCode::storage;
    return make_error(code, path.string() + ": cannot create: " + std::strerror(errno));
  }

  std::size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string reason = std::strerror(errno);
      ::close(fd);
      return make_error(ErrorCode::storage, path.string() + ": cannot write: " + reason);
    }
    written += static_cast<std::size_t>(n);
  }

  if (::close(fd) != 0) {
    return make_error(ErrorCode::storage,
                      path.string() + ": cannot close: " + std::strerror(errno));
  }
  return {};
}

Result<OpenSslPtr<EVP_PKEY>> generate_p256_key() {
  OpenSslPtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return openssl_error("generate an ECDSA P-256 key");
  return key;
}

Status add_extension(X509& certificate, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, &certificate, &certificate, nullptr, nullptr, 0);
  OpenSslPtr<X509_EXTENSION> extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value));
  if (!extension || X509_add_ext(&certificate, extension.get(), -1) == 0) {
    return openssl_error(std::string("add the extension ") + OBJ_nid2sn(nid));
  }
  return {};
}

// A 159-bit random serial: positive, and unique with overwhelming odds, as RFC 5280 wants.
Status set_random_serial(X509& certificate) {
  OpenSslPtr<BIGNUM> serial(BN_new());
  if (!serial || BN_rand(serial.get(), 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 0 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(&certificate)) == nullptr) {
    return openssl_error("draw a certificate serial");
  }
  return {};
}

Status set_subject_and_validity(X509& certificate, std::string_view common_name, int valid_days) {
  X509_NAME* name = X509_get_subject_name(&certificate);
  std::string cn(common_name);
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) == 0 ||
      X509_set_issuer_name(&certificate, name) == 0) {
    return openssl_error("name the certificate '" + cn + "'");
  }

  long seconds = static_cast<long>(valid_days) * 24 * 60 * 60;
  if (X509_gmtime_adj(X509_getm_notBefore(&certificate), 0) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(&certificate), seconds) == nullptr) {
    return openssl_error("set the certificate's validity");
  }
  return {};
}

Result<OpenSslPtr<X509>> self_signed_certificate(EVP_PKEY& key, std::string_view common_name,
                                                 int valid_days) {
  OpenSslPtr<X509> certificate(X509_new());
  if (!certificate || X509_set_version(certificate.get(), X509_VERSION_3) == 0 ||
      X509_set_pubkey(certificate.get(), &key) == 0) {
    return openssl_error("create a certificate");
  }

  Status filled = set_random_serial(*certificate);
  if (filled) filled = set_subject_and_validity(*certificate, common_name, valid_days);
  if (filled) filled = add_extension(*certificate, NID_basic_constraints, "critical,CA:FALSE");
  if (filled) filled = add_extension(*certificate, NID_key_usage, "critical,digitalSignature");
  if (!filled) return filled.error();

  if (X509_sign(certificate.get(), &key, EVP_sha256()) == 0) {
    return openssl_error("sign the certificate");
  }
  return certificate;
}

// Reads what a memory BIO holds, then wipes the BIO's copy (it may hold a private key).
std::string drain(BIO& bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(&bio, &data);
  std::string bytes(data, static_cast<std::size_t>(size));
  OPENSSL_cleanse(data, static_cast<std::size_t>(size));
  return bytes;
}

Result<std::string> key_pem(EVP_PKEY& key) {
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_secmem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), &key, nullptr, nullptr, 0, nullptr, nullptr) == 0) {
    return openssl_error("encode the private key as PEM");
  }
  return drain(*bio);
}

Result<std::string> certificate_pem(X509& certificate) {
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), &certificate) == 0) {
    return openssl_error("encode the certificate as PEM");
  }
  return drain(*bio);
}

Status write_identity(const TlsIdentityFiles& files, EVP_PKEY& key, X509& certificate) {
  Result<std::string> key_text = key_pem(key);
  if (!key_text) return key_text.error();
  Result<std::string> certificate_text = certificate_pem(certificate);
  if (!certificate_text) return certificate_text.error();

  Status wrote = write_new_file(files.key, *key_text, 0600);
  OPENSSL_cleanse(key_text->data(), key_text->size());
  if (!wrote) return wrote;
  return write_new_file(files.certificate, *certificate_text, 0644);
}

// Both sides speak TLS 1.3 and nothing older: its handshake always has forward secrecy and
// encrypts the certificate, and no downgrade has to be reasoned about.
Status restrict_to_tls13(ssl::context& context) {
  SSL_CTX* native = context.native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) == 0 ||
      SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION) == 0) {
    return openssl_error("restrict the TLS context to TLS 1.3");
  }
  return {};
}

// Asio's context constructor throws when OpenSSL cannot allocate one.
Result<std::shared_ptr<ssl::context>> new_context(ssl::context::method method) {
  try {
    auto context = std::make_shared<ssl::context>(method);
    Status restricted = restrict_to_tls13(*context);
    if (!restricted) return restricted.error();
    return context;
  } catch (const boost::system::system_error& e) {
    return make_error(ErrorCode::crypto, std::string("create a TLS context: ") + e.what());
  }
}

}  // namespace

TlsIdentityFiles tls_identity_files(const std::filesystem::path& dir, std::string_view name) {
  std::string base(name);
  return {dir / (base + "-tls-key.pem"), dir / (base + "-tls-cert.pem")};
}

Result<TlsIdentityFiles> generate_tls_identity(const std::filesystem::path& dir,
                                               std::string_view name, std::string_view common_name,
                                               int valid_days) {
  TlsIdentityFiles files = tls_identity_files(dir, name);
  for (const auto& path : {files.key, files.certificate}) {
    if (std::filesystem::exists(path)) {
      return make_error(ErrorCode::conflict, path.string() + ": exists already; not overwritten");
    }
  }

  Result<OpenSslPtr<EVP_PKEY>> key = generate_p256_key();
  if (!key) return key.error();
  Result<OpenSslPtr<X509>> certificate = self_signed_certificate(**key, common_name, valid_days);
  if (!certificate) return certificate.error();

  Status wrote = write_identity(files, **key, **certificate);
  if (!wrote) return wrote.error();
  return files;
}

Result<std::string> certificate_fingerprint(const X509& certificate) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(&certificate, EVP_sha256(), digest, &size) == 0) {
    return openssl_error("compute a certificate fingerprint");
  }
  return identity::to_hex(digest, size);
}

Result<std::string> certificate_fingerprint(const std::filesystem::path& certificate_pem) {
  OpenSslPtr<BIO> file(BIO_new_file(certificate_pem.c_str(), "r"));
  OpenSslPtr<X509> certificate;
  if (file) certificate.reset(PEM_read_bio_X509(file.get(), nullptr, nullptr, nullptr));
  if (!certificate) {
    return openssl_error("read the certificate " + certificate_pem.string(), ErrorCode::storage);
  }
  return certificate_fingerprint(*certificate);
}

Result<std::string> normalise_fingerprint(std::string_view fingerprint) {
  std::string lower;
  for (char c : fingerprint) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) break;
    lower.push_back(c);
  }
  if (lower.size() != 64 || fingerprint.size() != 64) {
    return make_error(ErrorCode::invalid_argument,
                      "fingerprint: '" + std::string(fingerprint) +
                          "' is not 64 hexadecimal digits (a SHA-256 certificate fingerprint)");
  }
  return lower;
}

Result<std::shared_ptr<ssl::context>> make_server_context(const TlsIdentityFiles& files) {
  Result<std::shared_ptr<ssl::context>> context = new_context(ssl::context::tls_server);
  if (!context) return context;

  SSL_CTX* native = (*context)->native_handle();
  if (SSL_CTX_use_certificate_chain_file(native, files.certificate.c_str()) != 1) {
    return openssl_error("load the certificate " + files.certificate.string());
  }
  if (SSL_CTX_use_PrivateKey_file(native, files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return openssl_error("load the private key " + files.key.string());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return openssl_error("match " + files.key.string() + " with " + files.certificate.string());
  }
  // Nodes never resume a session (each connect() makes a fresh client context), so tickets
  // would only be bytes a node leaves unread, which turns its close into a reset.
  SSL_CTX_set_num_tickets(native, 0);
  SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
  return context;
}

bool CertificatePin::check(const X509& leaf) {
  Result<std::string> fingerprint = certificate_fingerprint(leaf);
  found_ = fingerprint ? *fingerprint
                       : std::string("(no fingerprint: ") + fingerprint.error().message + ")";
  return found_ == expected_;
}

Result<ClientTlsContext> make_client_context(std::string_view expected_fingerprint) {
  Result<std::string> expected = normalise_fingerprint(expected_fingerprint);
  if (!expected) return expected.error();
  Result<std::shared_ptr<ssl::context>> context = new_context(ssl::context::tls_client);
  if (!context) return context.error();

  auto pin = std::make_shared<CertificatePin>(*expected);
  // OpenSSL calls this once per certificate of the chain, the leaf (depth 0) last. Only the
  // leaf matters: it is pinned exactly, and the handshake proves the server holds its key.
  auto verify = [pin](bool, ssl::verify_context& verifying) {
    X509_STORE_CTX* store = verifying.native_handle();
    if (X509_STORE_CTX_get_error_depth(store) > 0) return true;
    X509* leaf = X509_STORE_CTX_get_current_cert(store);
    bool pinned = leaf != nullptr && pin->check(*leaf);
    if (pinned) X509_STORE_CTX_set_error(store, X509_V_OK);
    return pinned;
  };

  boost::system::error_code ec;
  (*context)->set_verify_mode(ssl::verify_peer, ec);
  if (!ec) (*context)->set_verify_callback(verify, ec);
  if (ec) return make_error(ErrorCode::crypto, "set the pinning verify callback: " + ec.message());
  return ClientTlsContext{*context, pin};
}

}  // namespace tutelle::net
