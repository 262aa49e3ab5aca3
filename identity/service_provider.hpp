#pragma once
// The hub as a SAML 2.0 service provider for the whole federation: AuthnRequests with the
// HTTP-Redirect binding, and Responses with the HTTP-POST binding.
//
// accept() takes a Response only when every check below holds, in this order; the first that
// fails is returned as ErrorCode::refused (or corrupt) with its reason, for the caller to log:
//
//   document     base64, at most 1 MiB, well-formed, no DTD, no two equal IDs, a samlp:Response
//                root, and exactly one saml:Assertion or saml:EncryptedAssertion in the whole
//                document, as a child of the root (every XML-signature-wrapping layout needs
//                a second one somewhere).
//   issuer       the Response's Issuer is an IdP of the loaded federation, which vouches for an
//                establishment; only that IdP's metadata keys are trusted from here on.
//   signatures   an enveloped signature on the Response and/or the Assertion (at least one),
//                each a direct child of the element it signs, with one reference to that
//                element's ID, verified with the IdP's metadata keys (KeyInfo is never read),
//                algorithms as in xml_security.hpp.
//   decryption   an EncryptedAssertion is decrypted with the SP's key (AES-GCM, RSA-OAEP), its
//                IDs and assertion count are checked again, then its own signature if any.
//   protocol     Status Success; Destination equal to our ACS URL; the Assertion's Issuer equal
//                to the IdP; a bearer SubjectConfirmation whose Recipient is our ACS URL and
//                whose NotOnOrAfter is not past; InResponseTo present (unsolicited responses are
//                refused) and equal on Response and SubjectConfirmationData; Conditions with
//                NotBefore / NotOnOrAfter within the clock skew; our entityID in every
//                AudienceRestriction.
//   person       exactly one eduPersonPrincipalName, read as whole text, whose scope is one of
//                the IdP's shibmd:Scope values.
//   ledger       the assertion ID not seen before; InResponseTo a request we sent to this IdP,
//                from this browser, not expired, not answered; then, atomically, the request is
//                marked answered and the assertion ID kept until the assertion expires.
//
// Only nodes reached through the signed element are read: attributes come from the very
// xmlNode whose signature was verified (or that a verified Response signature encloses).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "identity/metadata.hpp"
#include "identity/sp_ledger.hpp"
#include "identity/xml_security.hpp"
#include "protocol/result.hpp"

namespace tutelle::identity {

// The IdPs of the loaded federation, by entityID.
using IdpDirectory = std::map<std::string, IdentityProvider, std::less<>>;

// The attributes of a person, as the assertion gave them (by their urn:oid: names).
struct Person {
  std::string principal;  // eduPersonPrincipalName, e.g. alice@univ-test.fr
  std::string mail;
  std::string display_name;
  std::string given_name;
  std::string surname;
  std::vector<std::string> establishments;  // supannEtablissement values, e.g. {UAI}0751234A
  std::vector<std::string> affiliations;    // eduPersonAffiliation values
};

// An accepted login.
struct Login {
  Person person;
  std::string idp_entity_id;
  std::string establishment;  // the UAI that the IdP vouches for, from metadata
  std::string assertion_id;
  std::string request_id;
  std::string audience;      // from the pending request: who the session token is for
  std::int64_t expires = 0;  // the assertion's NotOnOrAfter
  bool encrypted = false;
};

// A redirect to an IdP.
struct LoginRedirect {
  std::string url;
  std::string request_id;
};

class ServiceProvider {
 public:
  static Result<ServiceProvider> create(ServiceProviderConfig config);

  const ServiceProviderConfig& config() const { return config_; }
  std::string metadata() const { return service_provider_metadata(config_); }

  // A fresh AuthnRequest to `idp` (HTTP-Redirect binding), remembered in `ledger` bound to the
  // browser that holds `browser_binding` (a secret cookie value) and to the token `audience`.
  Result<LoginRedirect> start_login(const IdentityProvider& idp, std::string_view browser_binding,
                                    std::string_view audience, SpLedger& ledger,
                                    std::int64_t now) const;

  // Checks `saml_response` (the base64 SAMLResponse form field) as the header describes.
  Result<Login> accept(std::string_view saml_response, std::string_view browser_binding,
                       const IdpDirectory& idps, SpLedger& ledger, std::int64_t now) const;

 private:
  ServiceProviderConfig config_;
  std::shared_ptr<const XmlKey> decryption_key_;
};

// Hex SHA-256 of a browser binding value: what a PendingRequest keeps.
std::string binding_hash(std::string_view browser_binding);

// A random identifier: "_" followed by 32 hex digits (an xs:ID may not start with a digit).
std::string random_id();

}  // namespace tutelle::identity
