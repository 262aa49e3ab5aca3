// Tests of net/tls.hpp.

#include "net/tls.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <cstdio>
#include <vector>

#include "identity/keys.hpp"
#include "net_test_support.hpp"

namespace tutelle::net::test {
namespace {

mode_t permissions(const std::filesystem::path& path) {
  struct stat status {};
  REQUIRE(::stat(path.c_str(), &status) == 0);
  return status.st_mode & 0777;
}

// The SHA-256 of the certificate's DER, computed apart from the code under test.
std::string independent_fingerprint(const std::filesystem::path& pem) {
  std::FILE* file = std::fopen(pem.c_str(), "r");
  REQUIRE(file != nullptr);
  X509* certificate = PEM_read_X509(file, nullptr, nullptr, nullptr);
  std::fclose(file);
  REQUIRE(certificate != nullptr);

  int size = i2d_X509(certificate, nullptr);
  std::vector<unsigned char> der(static_cast<std::size_t>(size));
  unsigned char* out = der.data();
  i2d_X509(certificate, &out);
  X509_free(certificate);

  unsigned char digest[32];
  unsigned int digest_size = 0;
  REQUIRE(EVP_Digest(der.data(), der.size(), digest, &digest_size, EVP_sha256(), nullptr) == 1);
  return identity::to_hex(digest, digest_size);
}

TEST_CASE("a generated TLS identity keeps its private key at mode 0600") {
  TempDir dir;
  Result<TlsIdentityFiles> files = generate_tls_identity(dir.path(), "hub", "test hub");
  REQUIRE(files.ok());
  CHECK(files->key == dir.path() / "hub-tls-key.pem");
  CHECK(files->certificate == dir.path() / "hub-tls-cert.pem");
  CHECK(permissions(files->key) == 0600);
  CHECK((permissions(files->certificate) & 0077) != 0077);
}

TEST_CASE("a certificate's fingerprint is the lowercase hex SHA-256 of its DER") {
  Result<std::string> fingerprint = certificate_fingerprint(hub_tls_files().certificate);
  REQUIRE(fingerprint.ok());
  CHECK(fingerprint->size() == 64);
  CHECK(fingerprint->find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(*fingerprint == independent_fingerprint(hub_tls_files().certificate));
}

TEST_CASE("two generated identities have different fingerprints") {
  TempDir dir;
  auto first = generate_tls_identity(dir.path(), "one", "test hub");
  auto second = generate_tls_identity(dir.path(), "two", "test hub");
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(*certificate_fingerprint(first->certificate) !=
        *certificate_fingerprint(second->certificate));
}

TEST_CASE("generating a TLS identity never overwrites an existing one") {
  TempDir dir;
  REQUIRE(generate_tls_identity(dir.path(), "hub", "test hub").ok());
  auto before = certificate_fingerprint(tls_identity_files(dir.path(), "hub").certificate);

  Result<TlsIdentityFiles> again = generate_tls_identity(dir.path(), "hub", "test hub");
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::conflict);
  CHECK(*certificate_fingerprint(tls_identity_files(dir.path(), "hub").certificate) == *before);
}

TEST_CASE("a missing certificate file is reported with its path") {
  Result<std::string> fingerprint = certificate_fingerprint("/nonexistent/hub-tls-cert.pem");
  REQUIRE_FALSE(fingerprint.ok());
  CHECK_THAT(fingerprint.error().message, Catch::Contains("/nonexistent/hub-tls-cert.pem"));
}

TEST_CASE("a pinned fingerprint may be given in upper case but not shortened") {
  std::string upper = hub_fingerprint();
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  Result<std::string> normalised = normalise_fingerprint(upper);
  REQUIRE(normalised.ok());
  CHECK(*normalised == hub_fingerprint());

  Result<ClientTlsContext> shortened = make_client_context(hub_fingerprint().substr(1));
  REQUIRE_FALSE(shortened.ok());
  CHECK(shortened.error().code == ErrorCode::invalid_argument);
  CHECK_FALSE(normalise_fingerprint(std::string(64, 'g')).ok());
}

TEST_CASE("server and client contexts allow TLS 1.3 and nothing else") {
  auto server = make_server_context(hub_tls_files());
  auto client = make_client_context(hub_fingerprint());
  REQUIRE(server.ok());
  REQUIRE(client.ok());
  for (SSL_CTX* native : {(*server)->native_handle(), client->context->native_handle()}) {
    CHECK(SSL_CTX_get_min_proto_version(native) == TLS1_3_VERSION);
    CHECK(SSL_CTX_get_max_proto_version(native) == TLS1_3_VERSION);
  }
}

TEST_CASE("a server context refuses a key that does not match its certificate") {
  TempDir dir;
  auto one = generate_tls_identity(dir.path(), "one", "test hub");
  auto two = generate_tls_identity(dir.path(), "two", "test hub");
  REQUIRE(one.ok());
  REQUIRE(two.ok());

  auto context = make_server_context({two->key, one->certificate});
  REQUIRE_FALSE(context.ok());
  CHECK_THAT(context.error().message, Catch::Contains("two-tls-key.pem"));
}

}  // namespace
}  // namespace tutelle::net::test
