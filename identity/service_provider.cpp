#include "identity/service_provider.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>

#include "identity/credentials.hpp"
#include "identity/encoding.hpp"
#include "identity/keys.hpp"
#include "identity/xml.hpp"

namespace tutelle::identity {

namespace {

constexpr std::size_t kMaxResponseBytes = std::size_t{1} << 20;
constexpr const char* kBearer = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
constexpr const char* kSuccess = "urn:oasis:names:tc:SAML:2.0:status:Success";
constexpr const char* kPostBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

constexpr const char* kEppn = "urn:oid:1.3.6.1.4.1.5923.1.1.1.6";
constexpr const char* kAffiliation = "urn:oid:1.3.6.1.4.1.5923.1.1.1.1";
constexpr const char* kMail = "urn:oid:0.9.2342.19200300.100.1.3";
constexpr const char* kDisplayName = "urn:oid:2.16.840.1.113730.3.1.241";
constexpr const char* kGivenName = "urn:oid:2.5.4.42";
constexpr const char* kSurname = "urn:oid:2.5.4.4";
constexpr const char* kSupannEtablissement = "urn:oid:1.3.6.1.4.1.7135.1.2.1.14";

Error refused(const std::string& reason) {
  return make_error(ErrorCode::refused, reason);
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// The text of the one child `name` of `parent` (namespace `ns`), or nullopt.
std::optional<std::string> only_child_text(const xmlNode* parent, const char* ns,
                                           const char* name) {
  auto found = xml::children(parent, ns, name);
  if (found.size() != 1) return std::nullopt;
  return xml::trimmed_text(found[0]);
}

// The state of one Response as the checks go.
struct Received {
  xml::Doc doc;
  xmlNode* response = nullptr;
  xmlNode* assertion = nullptr;  // the plaintext saml:Assertion, once known
  const IdentityProvider* idp = nullptr;
  std::vector<XmlKey> idp_keys;
  bool response_signed = false;
  bool assertion_signed = false;
  bool encrypted = false;
};

Status check_assertion_count(xmlDoc* doc, xmlNode* response) {
  xmlNode* root = xmlDocGetRootElement(doc);
  auto plain = xml::descendants(root, xml::kAssertionNs, "Assertion");
  auto encrypted = xml::descendants(root, xml::kAssertionNs, "EncryptedAssertion");
  std::size_t count = plain.size() + encrypted.size();
  if (count != 1) {
    return refused("the response holds " + std::to_string(count) +
                   " assertions where exactly one is allowed");
  }
  xmlNode* only = plain.empty() ? encrypted[0] : plain[0];
  bool placed =
      only->parent == response || (only->parent != nullptr && only->parent->parent == response &&
                                   xml::is(only->parent, xml::kAssertionNs, "EncryptedAssertion"));
  if (!placed) return refused("the assertion is not a child of the response");
  return {};
}

Result<Received> read_document(std::string_view saml_response) {
  auto bytes = base64_decode(saml_response);
  if (!bytes) return make_error(ErrorCode::corrupt, "the SAMLResponse is not base64");
  auto doc = xml::parse_untrusted(bytes.value(), "response", kMaxResponseBytes);
  if (!doc) return doc.error();

  Received received;
  received.doc = std::move(doc.value());
  received.response = xmlDocGetRootElement(received.doc.get());
  if (!xml::is(received.response, xml::kProtocolNs, "Response")) {
    return refused("the document is not a samlp:Response");
  }
  Status ids = xml::register_unique_ids(received.doc.get());
  if (!ids) return ids.error();
  Status count = check_assertion_count(received.doc.get(), received.response);
  if (!count) return count.error();
  return received;
}

Status find_idp(Received& received, const IdpDirectory& idps) {
  auto issuer = only_child_text(received.response, xml::kAssertionNs, "Issuer");
  if (!issuer) return refused("the response has no Issuer");
  auto idp = idps.find(*issuer);
  if (idp == idps.end())
    return refused("the issuer " + *issuer + " is not an IdP of the federation");
  if (idp->second.establishment.empty()) {
    return refused("the IdP " + *issuer + " vouches for no establishment");
  }
  received.idp = &idp->second;
  for (const auto& pem : idp->second.signing_certificates) {
    auto key = key_from_certificate_pem(pem, *issuer);
    if (!key) return key.error();
    received.idp_keys.push_back(std::move(key.value()));
  }
  return {};
}

// Verifies the signature of `element` if it has one; `is_signed` says whether it had.
Status verify_if_signed(Received& received, xmlNode* element, const char* what, bool& is_signed) {
  auto signature = enveloped_signature(element, what);
  if (!signature) return signature.error();
  is_signed = signature.value() != nullptr;
  if (!is_signed) return {};
  std::vector<const XmlKey*> trusted;
  for (const auto& key : received.idp_keys) trusted.push_back(&key);
  return verify_enveloped(element, signature.value(), trusted, what);
}

Status decrypt_assertion(Received& received, const XmlKey& key) {
  auto encrypted = xml::children(received.response, xml::kAssertionNs, "EncryptedAssertion");
  if (encrypted.empty()) {
    received.assertion = xml::children(received.response, xml::kAssertionNs, "Assertion")[0];
    return {};
  }
  received.encrypted = true;
  auto plain = decrypt_element(encrypted[0], key);
  if (!plain) return plain.error();
  if (!xml::is(plain.value(), xml::kAssertionNs, "Assertion")) {
    return refused("the encrypted element is not a saml:Assertion");
  }

  // The plaintext is new content: its IDs and assertions are checked like the rest.
  Status ids = xml::register_unique_ids(received.doc.get());
  if (!ids) return ids.error();
  auto all =
      xml::descendants(xmlDocGetRootElement(received.doc.get()), xml::kAssertionNs, "Assertion");
  if (all.size() != 1) {
    return refused("the decrypted response holds " + std::to_string(all.size()) +
                   " assertions where exactly one is allowed");
  }
  received.assertion = plain.value();
  return {};
}

Status check_signatures(Received& received, const XmlKey& decryption_key) {
  Status response =
      verify_if_signed(received, received.response, "response", received.response_signed);
  if (!response) return response;

  Status decrypted = decrypt_assertion(received, decryption_key);
  if (!decrypted) return decrypted;

  Status assertion =
      verify_if_signed(received, received.assertion, "assertion", received.assertion_signed);
  if (!assertion) return assertion;
  if (!received.response_signed && !received.assertion_signed) {
    return refused("neither the response nor the assertion is signed");
  }
  return {};
}

Status check_response_fields(const Received& received, const ServiceProviderConfig& config) {
  auto status = xml::children(received.response, xml::kProtocolNs, "Status");
  auto code = status.size() == 1 ? xml::children(status[0], xml::kProtocolNs, "StatusCode")
                                 : std::vector<xmlNode*>{};
  std::string value = code.size() == 1 ? xml::attribute(code[0], "Value").value_or("") : "";
  if (value != kSuccess) return refused("the IdP answered status '" + value + "'");

  auto destination = xml::attribute(received.response, "Destination").value_or("(none)");
  if (destination != config.acs_url) {
    return refused("the response's Destination " + destination + " is not our ACS " +
                   config.acs_url);
  }
  auto issuer = only_child_text(received.assertion, xml::kAssertionNs, "Issuer");
  if (issuer != received.idp->entity_id) {
    return refused("the assertion's issuer " + issuer.value_or("(none)") + " is not the IdP " +
                   received.idp->entity_id);
  }
  return {};
}

Result<std::int64_t> time_attribute(const xmlNode* node, const char* name, const char* what) {
  auto text = xml::attribute(node, name);
  if (!text) return refused(std::string(what) + " has no " + name);
  auto time = parse_saml_time(*text);
  if (!time) return time.error().context(std::string(what) + " " + name);
  return time.value();
}

// The bearer SubjectConfirmationData addressed to our ACS; returns its InResponseTo.
Result<std::string> check_subject(const Received& received, const ServiceProviderConfig& config,
                                  std::int64_t now) {
  auto subjects = xml::children(received.assertion, xml::kAssertionNs, "Subject");
  if (subjects.size() != 1) return refused("the assertion has no single Subject");
  xmlNode* data = nullptr;
  for (xmlNode* confirmation :
       xml::children(subjects[0], xml::kAssertionNs, "SubjectConfirmation")) {
    if (xml::attribute(confirmation, "Method") != kBearer) continue;
    auto datas = xml::children(confirmation, xml::kAssertionNs, "SubjectConfirmationData");
    if (datas.size() == 1) data = datas[0];
  }
  if (data == nullptr) return refused("the assertion has no bearer subject confirmation");

  auto recipient = xml::attribute(data, "Recipient").value_or("(none)");
  if (recipient != config.acs_url) {
    return refused("the subject confirmation's Recipient " + recipient + " is not our ACS");
  }
  auto until = time_attribute(data, "NotOnOrAfter", "the subject confirmation");
  if (!until) return until.error();
  if (now - config.clock_skew_seconds >= until.value()) {
    return refused("the subject confirmation expired at " + format_saml_time(until.value()));
  }

  auto in_response_to = xml::attribute(data, "InResponseTo");
  auto response_to = xml::attribute(received.response, "InResponseTo");
  if (!in_response_to || !response_to) {
    return refused("unsolicited response: it answers no request of ours (no InResponseTo)");
  }
  if (*in_response_to != *response_to) {
    return refused("the response and its assertion answer different requests");
  }
  return *in_response_to;
}

Status check_audience(xmlNode* conditions, const ServiceProviderConfig& config) {
  auto restrictions = xml::children(conditions, xml::kAssertionNs, "AudienceRestriction");
  if (restrictions.empty()) return refused("the assertion names no audience");
  for (xmlNode* restriction : restrictions) {
    std::string seen;
    bool ours = false;
    for (xmlNode* audience : xml::children(restriction, xml::kAssertionNs, "Audience")) {
      std::string text = xml::trimmed_text(audience);
      ours = ours || text == config.entity_id;
      seen += seen.empty() ? text : ", " + text;
    }
    if (!ours) {
      return refused("our entityID " + config.entity_id + " is not in the audience (" + seen + ")");
    }
  }
  return {};
}

// Checks the validity window and the audience; returns the assertion's NotOnOrAfter.
Result<std::int64_t> check_conditions(const Received& received, const ServiceProviderConfig& config,
                                      std::int64_t now) {
  auto conditions = xml::children(received.assertion, xml::kAssertionNs, "Conditions");
  if (conditions.size() != 1) return refused("the assertion has no single Conditions");
  auto not_before = time_attribute(conditions[0], "NotBefore", "the assertion");
  if (!not_before) return not_before.error();
  if (now + config.clock_skew_seconds < not_before.value()) {
    return refused("the assertion is not valid before " + format_saml_time(not_before.value()));
  }
  auto not_after = time_attribute(conditions[0], "NotOnOrAfter", "the assertion");
  if (!not_after) return not_after.error();
  if (now - config.clock_skew_seconds >= not_after.value()) {
    return refused("the assertion expired at " + format_saml_time(not_after.value()));
  }
  Status audience = check_audience(conditions[0], config);
  if (!audience) return audience.error();
  return not_after.value();
}

// The values of every attribute `name` in the assertion's AttributeStatements, as whole text.
std::vector<std::string> attribute_values(xmlNode* assertion, const char* name) {
  std::vector<std::string> values;
  for (xmlNode* statement : xml::children(assertion, xml::kAssertionNs, "AttributeStatement")) {
    for (xmlNode* attr : xml::children(statement, xml::kAssertionNs, "Attribute")) {
      if (xml::attribute(attr, "Name") != name) continue;
      for (xmlNode* value : xml::children(attr, xml::kAssertionNs, "AttributeValue")) {
        values.push_back(xml::trimmed_text(value));
      }
    }
  }
  return values;
}

std::string first_value(xmlNode* assertion, const char* name) {
  auto values = attribute_values(assertion, name);
  return values.empty() ? std::string() : values[0];
}

Result<Person> read_person(const Received& received) {
  auto principals = attribute_values(received.assertion, kEppn);
  if (principals.size() != 1) {
    return refused("the assertion has " + std::to_string(principals.size()) +
                   " eduPersonPrincipalName values where exactly one is needed");
  }
  Person person;
  person.principal = principals[0];
  auto at = person.principal.rfind('@');
  std::string scope = at == std::string::npos ? "" : lower(person.principal.substr(at + 1));
  const auto& scopes = received.idp->scopes;
  bool allowed = std::any_of(scopes.begin(), scopes.end(),
                             [&](const std::string& s) { return lower(s) == scope; });
  if (at == 0 || scope.empty() || !allowed) {
    return refused("the eduPersonPrincipalName " + person.principal + " has a scope that " +
                   received.idp->entity_id + " may not assert");
  }
  person.mail = first_value(received.assertion, kMail);
  person.display_name = first_value(received.assertion, kDisplayName);
  person.given_name = first_value(received.assertion, kGivenName);
  person.surname = first_value(received.assertion, kSurname);
  person.establishments = attribute_values(received.assertion, kSupannEtablissement);
  person.affiliations = attribute_values(received.assertion, kAffiliation);
  return person;
}

bool same_hash(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Everything the ledger can refuse, before it changes; returns the request.
Result<PendingRequest> check_ledger(SpLedger& ledger, const Login& login,
                                    std::string_view browser_binding, std::int64_t now) {
  auto seen = ledger.seen_assertion(login.assertion_id);
  if (!seen) return seen.error();
  if (seen.value())
    return refused("the assertion " + login.assertion_id + " was seen before (replay)");

  auto found = ledger.find_request(login.request_id);
  if (!found) return found.error();
  if (!found->has_value()) {
    return refused("InResponseTo " + login.request_id + " is not a request we sent");
  }
  const PendingRequest& request = **found;
  if (request.answered) return refused("the request " + request.id + " was answered already");
  if (request.expires <= now) return refused("the request " + request.id + " expired");
  if (request.idp_entity_id != login.idp_entity_id) {
    return refused("the request " + request.id + " was sent to " + request.idp_entity_id);
  }
  if (!same_hash(request.browser_binding_hash, binding_hash(browser_binding))) {
    return refused("the request " + request.id + " was made by another browser");
  }
  return request;
}

std::string authn_request(const ServiceProviderConfig& config, const IdentityProvider& idp,
                          const std::string& id, std::int64_t now) {
  return "<samlp:AuthnRequest xmlns:samlp=\"" + std::string(xml::kProtocolNs) + "\" xmlns:saml=\"" +
         xml::kAssertionNs + "\" ID=\"" + id + "\" Version=\"2.0\" IssueInstant=\"" +
         format_saml_time(now) + "\" Destination=\"" + xml::escape(idp.sso_redirect_url) +
         "\" AssertionConsumerServiceURL=\"" + xml::escape(config.acs_url) +
         "\" ProtocolBinding=\"" + kPostBinding + "\"><saml:Issuer>" +
         xml::escape(config.entity_id) + "</saml:Issuer></samlp:AuthnRequest>";
}

}  // namespace

std::string binding_hash(std::string_view browser_binding) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(browser_binding.data(), browser_binding.size(), digest, &size, EVP_sha256(), nullptr);
  return to_hex(digest, size);
}

std::string random_id() {
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof bytes);
  return "_" + to_hex(bytes, sizeof bytes);
}

Result<ServiceProvider> ServiceProvider::create(ServiceProviderConfig config) {
  auto key = private_key_from_pem(config.private_key_pem, "the service provider");
  if (!key) return key.error();
  ServiceProvider sp;
  sp.config_ = std::move(config);
  sp.decryption_key_ = std::make_shared<const XmlKey>(std::move(key.value()));
  return sp;
}

Result<LoginRedirect> ServiceProvider::start_login(const IdentityProvider& idp,
                                                   std::string_view browser_binding,
                                                   std::string_view audience, SpLedger& ledger,
                                                   std::int64_t now) const {
  if (idp.sso_redirect_url.empty()) {
    return make_error(ErrorCode::not_found,
                      "the IdP " + idp.entity_id + " has no HTTP-Redirect SSO endpoint");
  }
  PendingRequest request{random_id(),
                         idp.entity_id,
                         binding_hash(browser_binding),
                         std::string(audience),
                         now,
                         now + config_.request_lifetime_seconds,
                         false};
  Status remembered = ledger.remember(request);
  if (!remembered) return remembered.error();

  auto deflated = deflate_raw(authn_request(config_, idp, request.id, now));
  if (!deflated) return deflated.error();
  char separator = idp.sso_redirect_url.find('?') == std::string::npos ? '?' : '&';
  std::string url = idp.sso_redirect_url + separator +
                    "SAMLRequest=" + url_encode(base64_encode(deflated.value()));
  return LoginRedirect{url, request.id};
}

Result<Login> ServiceProvider::accept(std::string_view saml_response,
                                      std::string_view browser_binding, const IdpDirectory& idps,
                                      SpLedger& ledger, std::int64_t now) const {
  auto received = read_document(saml_response);
  if (!received) return received.error();
  Status idp = find_idp(*received, idps);
  if (!idp) return idp.error();
  Status signatures = check_signatures(*received, *decryption_key_);
  if (!signatures) return signatures.error();

  Status fields = check_response_fields(*received, config_);
  if (!fields) return fields.error();
  auto request_id = check_subject(*received, config_, now);
  if (!request_id) return request_id.error();
  auto expires = check_conditions(*received, config_, now);
  if (!expires) return expires.error();
  auto person = read_person(*received);
  if (!person) return person.error();

  Login login{person.value(),
              received->idp->entity_id,
              received->idp->establishment,
              xml::attribute(received->assertion, "ID").value_or(""),
              request_id.value(),
              "",
              expires.value(),
              received->encrypted};
  if (login.assertion_id.empty()) return refused("the assertion has no ID");
  auto request = check_ledger(ledger, login, browser_binding, now);
  if (!request) return request.error();
  login.audience = request->audience;
  Status admitted = ledger.admit(login.request_id, login.assertion_id,
                                 login.expires + config_.clock_skew_seconds, now);
  if (!admitted) return admitted.error();
  return login;
}

}  // namespace tutelle::identity
