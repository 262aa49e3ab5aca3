#pragma once
// SAML 2.0 metadata: the federation's signed aggregate, which names the identity providers the
// hub trusts and the only keys it trusts them with, and the hub's own service-provider metadata.
//
// Which establishment an IdP vouches for: its EntityDescriptor carries, in
// md:Extensions/mdattr:EntityAttributes, a saml:Attribute named
// urn:oid:1.3.6.1.4.1.7135.1.2.1.14 (supannEtablissement) whose value is "{UAI}" followed by the
// establishment's UAI, e.g. "{UAI}0751234A". An IdP without one is kept but vouches for nobody,
// and logins through it are refused.
//
// Which principals an IdP may assert: the shibmd:Scope elements of its IDPSSODescriptor's
// Extensions (literal scopes; regexp="true" scopes are ignored). An eduPersonPrincipalName is
// accepted only when the part after its last '@' is one of them.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/result.hpp"

namespace tutelle::identity {

struct IdentityProvider {
  std::string entity_id;
  std::string establishment;                         // UAI, empty when the metadata names none
  std::vector<std::string> signing_certificates;     // PEM
  std::vector<std::string> encryption_certificates;  // PEM
  std::string sso_redirect_url;  // SingleSignOnService with the HTTP-Redirect binding
  std::vector<std::string> scopes;
};

struct Federation {
  std::string name;
  std::int64_t valid_until = 0;  // Unix seconds
  std::vector<IdentityProvider> identity_providers;
};

// The SP's own configuration: who it is and where the IdPs must post.
struct ServiceProviderConfig {
  std::string entity_id;  // conventionally the metadata URL
  std::string acs_url;    // HTTP-POST assertion consumer service
  std::string certificate_pem;
  std::string private_key_pem;
  std::int64_t clock_skew_seconds = 180;
  std::int64_t request_lifetime_seconds = 600;
};

// Seconds since the Unix epoch of an xs:dateTime ("2026-01-31T12:00:00Z", fraction and offset
// allowed); a time without a zone is refused (SAML times are UTC).
Result<std::int64_t> parse_saml_time(std::string_view text);
std::string format_saml_time(std::int64_t unix_seconds);

// Verifies and reads a federation's metadata aggregate (an md:EntitiesDescriptor). Refuses it
// unless its enveloped signature verifies with `federation_certificate_pem` (never a key in the
// document), its validUntil is present and later than `now`, and it has no DTD or duplicate ID.
Result<Federation> load_federation_metadata(std::string_view xml,
                                            std::string_view federation_certificate_pem,
                                            std::int64_t now);

// The SP's md:EntityDescriptor: its certificate for signing and for encryption (the IdPs encrypt
// assertions to it), AES-GCM and RSA-OAEP as the encryption methods, and its ACS. Unsigned.
std::string service_provider_metadata(const ServiceProviderConfig& config);

}  // namespace tutelle::identity
