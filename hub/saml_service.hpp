#pragma once
// The hub's SAML endpoints, served by HttpsServer:
//
//   GET  /saml/metadata                 the SP's metadata
//   GET  /saml/login?idp=ENTITY_ID[&audience=A]
//        a 302 to the IdP with an AuthnRequest (HTTP-Redirect binding); the request's ID is
//        kept in the store, bound to a fresh secret cookie (tutelle_saml) set on the browser
//        and to the audience of the token to come (default "tutelle")
//   POST /saml/acs                      the IdP's Response (HTTP-POST binding); on success the
//        account is found or created (to be confirmed) and a session token is answered as
//        JSON {"token", "principal", "establishment", "status", "expires"}
//
// A refused response is logged with its reason (one line, with the peer's address) and
// answered 403 without the reason: the browser learns nothing that helps a forger.
//
// Files: `hub_dir`/hub.key (the Ed25519 key that signs tokens), `hub_dir`/identity/sp.key and
// sp.crt (SAML signing and decryption, created when absent), `hub_dir`/identity/store.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "hub/accounts.hpp"
#include "hub/http_server.hpp"
#include "hub/identity_store.hpp"
#include "identity/credentials.hpp"
#include "identity/keys.hpp"
#include "identity/service_provider.hpp"

namespace tutelle::hub {

struct SamlServiceOptions {
  std::filesystem::path hub_dir;
  std::string public_url;  // e.g. https://hub.example.fr; entityID is public_url/saml/metadata
  std::int64_t token_lifetime_seconds = 900;
  std::function<std::int64_t()> clock;  // Unix seconds; the system clock when empty
};

class SamlService {
 public:
  static Result<std::unique_ptr<SamlService>> open(SamlServiceOptions options);

  HttpResponse handle(const HttpRequest& request);

  const identity::ServiceProviderConfig& config() const { return sp_.config(); }
  IdentityStore& store() { return *store_; }
  Accounts& accounts() { return accounts_; }

 private:
  SamlService(SamlServiceOptions options, identity::ServiceProvider sp,
              std::unique_ptr<IdentityStore> store, identity::KeyPair hub_keys);
  HttpResponse login(const HttpRequest& request);
  HttpResponse consume(const HttpRequest& request);
  std::int64_t now() const;

  SamlServiceOptions options_;
  identity::ServiceProvider sp_;
  std::unique_ptr<IdentityStore> store_;
  Accounts accounts_;
  identity::KeyPair hub_keys_;
};

// The TLS credentials of the hub's HTTPS server: `hub_dir`/identity/tls.key and tls.crt,
// created (self-signed for `host`) when absent.
Result<identity::Credentials> tls_credentials(const std::filesystem::path& hub_dir,
                                              const std::string& host);

// The value of cookie `name` in a Cookie header, or "".
std::string cookie_value(const std::string& header, const std::string& name);

}  // namespace tutelle::hub
