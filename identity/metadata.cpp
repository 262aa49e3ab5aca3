#include "identity/metadata.hpp"

#include <cstdio>
#include <ctime>
#include <optional>

#include "identity/credentials.hpp"
#include "identity/xml.hpp"
#include "identity/xml_security.hpp"

namespace tutelle::identity {

namespace {

constexpr std::size_t kMaxMetadataBytes = std::size_t{256} << 20;  // eduGAIN is ~100 MB
constexpr const char* kSaml2Protocol = "urn:oasis:names:tc:SAML:2.0:protocol";
constexpr const char* kRedirectBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
constexpr const char* kPostBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
constexpr const char* kSupannEtablissement = "urn:oid:1.3.6.1.4.1.7135.1.2.1.14";
constexpr std::string_view kUaiPrefix = "{UAI}";

Result<int> zone_offset(std::string_view zone) {
  if (zone == "Z") return 0;
  int hours = 0;
  int minutes = 0;
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') ||
      std::sscanf(std::string(zone.substr(1)).c_str(), "%2d:%2d", &hours, &minutes) != 2) {
    return make_error(ErrorCode::corrupt, "time zone '" + std::string(zone) + "' is not valid");
  }
  int offset = hours * 3600 + minutes * 60;
  return zone[0] == '+' ? offset : -offset;
}

// The certificates of an IDPSSODescriptor's KeyDescriptors with that use ("signing" or
// "encryption"); a KeyDescriptor without `use` serves both.
Result<std::vector<std::string>> certificates(xmlNode* descriptor, std::string_view use) {
  std::vector<std::string> out;
  for (xmlNode* key : xml::children(descriptor, xml::kMetadataNs, "KeyDescriptor")) {
    auto key_use = xml::attribute(key, "use");
    if (key_use && *key_use != use) continue;
    for (xmlNode* cert : xml::descendants(key, xml::kDsigNs, "X509Certificate")) {
      auto pem = certificate_pem_from_body(xml::trimmed_text(cert));
      if (!pem) return pem.error();
      out.push_back(pem.value());
    }
  }
  return out;
}

std::string establishment_of(xmlNode* entity) {
  for (xmlNode* extensions : xml::children(entity, xml::kMetadataNs, "Extensions")) {
    for (xmlNode* attrs : xml::children(extensions, xml::kMdattrNs, "EntityAttributes")) {
      for (xmlNode* attr : xml::children(attrs, xml::kAssertionNs, "Attribute")) {
        if (xml::attribute(attr, "Name") != kSupannEtablissement) continue;
        for (xmlNode* value : xml::children(attr, xml::kAssertionNs, "AttributeValue")) {
          std::string text = xml::trimmed_text(value);
          if (text.rfind(kUaiPrefix, 0) == 0) return text.substr(kUaiPrefix.size());
        }
      }
    }
  }
  return {};
}

std::vector<std::string> scopes_of(xmlNode* descriptor) {
  std::vector<std::string> out;
  for (xmlNode* extensions : xml::children(descriptor, xml::kMetadataNs, "Extensions")) {
    for (xmlNode* scope : xml::children(extensions, xml::kShibmdNs, "Scope")) {
      // TODO(someday): regexp scopes are ignored; Renater publishes literal ones only.
      if (xml::attribute(scope, "regexp") == "true") continue;
      out.push_back(xml::trimmed_text(scope));
    }
  }
  return out;
}

Result<std::optional<IdentityProvider>> read_identity_provider(xmlNode* entity) {
  xmlNode* descriptor = nullptr;
  for (xmlNode* candidate : xml::children(entity, xml::kMetadataNs, "IDPSSODescriptor")) {
    auto protocols = xml::attribute(candidate, "protocolSupportEnumeration").value_or("");
    if (protocols.find(kSaml2Protocol) != std::string::npos) descriptor = candidate;
  }
  if (descriptor == nullptr) return std::optional<IdentityProvider>{};

  IdentityProvider idp;
  idp.entity_id = xml::attribute(entity, "entityID").value_or("");
  if (idp.entity_id.empty()) {
    return make_error(ErrorCode::corrupt, "metadata: an EntityDescriptor has no entityID");
  }
  auto signing = certificates(descriptor, "signing");
  auto encryption = certificates(descriptor, "encryption");
  if (!signing) return signing.error().context("metadata: " + idp.entity_id);
  if (!encryption) return encryption.error().context("metadata: " + idp.entity_id);
  idp.signing_certificates = signing.value();
  idp.encryption_certificates = encryption.value();
  for (xmlNode* sso : xml::children(descriptor, xml::kMetadataNs, "SingleSignOnService")) {
    if (xml::attribute(sso, "Binding") == kRedirectBinding) {
      idp.sso_redirect_url = xml::attribute(sso, "Location").value_or("");
    }
  }
  idp.scopes = scopes_of(descriptor);
  idp.establishment = establishment_of(entity);
  return std::optional<IdentityProvider>(idp);
}

Status check_aggregate(xmlNode* root, std::string_view certificate_pem, std::int64_t now) {
  if (!xml::is(root, xml::kMetadataNs, "EntitiesDescriptor")) {
    return make_error(ErrorCode::refused, "metadata: the root is not an EntitiesDescriptor");
  }
  auto key = key_from_certificate_pem(certificate_pem, "the federation");
  if (!key) return key.error();
  auto signature = enveloped_signature(root, "metadata");
  if (!signature) return signature.error();
  if (signature.value() == nullptr) {
    return make_error(ErrorCode::refused, "metadata: the aggregate is not signed");
  }
  Status verified = verify_enveloped(root, signature.value(), {&key.value()}, "metadata");
  if (!verified) return verified;

  auto valid_until = xml::attribute(root, "validUntil");
  if (!valid_until) {
    return make_error(ErrorCode::refused, "metadata: the aggregate has no validUntil");
  }
  auto until = parse_saml_time(*valid_until);
  if (!until) return until.error().context("metadata: validUntil");
  if (until.value() <= now) {
    return make_error(ErrorCode::refused, "metadata: the aggregate expired at " + *valid_until);
  }
  return {};
}

}  // namespace

Result<std::int64_t> parse_saml_time(std::string_view text) {
  std::tm tm{};
  int consumed = 0;
  std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19) {
    return make_error(ErrorCode::corrupt, "'" + copy + "' is not an xs:dateTime");
  }
  std::string_view rest = text.substr(19);
  if (!rest.empty() && rest[0] == '.') {
    std::size_t digits = 1;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    rest = rest.substr(digits);
  }
  auto offset = zone_offset(rest);
  if (!offset) return offset.error();
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm)) - offset.value();
}

std::string format_saml_time(std::int64_t unix_seconds) {
  std::time_t time = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&time, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

Result<Federation> load_federation_metadata(std::string_view text,
                                            std::string_view federation_certificate_pem,
                                            std::int64_t now) {
  auto doc = xml::parse_untrusted(text, "metadata", kMaxMetadataBytes);
  if (!doc) return doc.error();
  Status ids = xml::register_unique_ids(doc->get());
  if (!ids) return ids.error().context("metadata");
  xmlNode* root = xmlDocGetRootElement(doc->get());
  Status checked = check_aggregate(root, federation_certificate_pem, now);
  if (!checked) return checked.error();

  // Only now, the signature verified over the root, is its content read.
  Federation federation;
  federation.name = xml::attribute(root, "Name").value_or("");
  federation.valid_until = parse_saml_time(*xml::attribute(root, "validUntil")).value();
  for (xmlNode* entity : xml::descendants(root, xml::kMetadataNs, "EntityDescriptor")) {
    auto idp = read_identity_provider(entity);
    if (!idp) return idp.error();
    if (idp->has_value()) federation.identity_providers.push_back(std::move(**idp));
  }
  return federation;
}

std::string service_provider_metadata(const ServiceProviderConfig& config) {
  std::string cert = certificate_body(config.certificate_pem);
  auto key_descriptor = [&](const char* use, const std::string& methods) {
    return std::string("  <md:KeyDescriptor use=\"") + use + "\">\n" +
           "   <ds:KeyInfo><ds:X509Data><ds:X509Certificate>" + cert +
           "</ds:X509Certificate></ds:X509Data></ds:KeyInfo>\n" + methods +
           "  </md:KeyDescriptor>\n";
  };
  std::string methods =
      "   <md:EncryptionMethod Algorithm=\"http://www.w3.org/2009/xmlenc11#aes256-gcm\"/>\n"
      "   <md:EncryptionMethod Algorithm=\"http://www.w3.org/2009/xmlenc11#aes128-gcm\"/>\n"
      "   <md:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p\"/>\n";
  return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") +
         "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"\n"
         "    xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"\n"
         "    entityID=\"" +
         xml::escape(config.entity_id) +
         "\">\n"
         " <md:SPSSODescriptor protocolSupportEnumeration=\"" +
         kSaml2Protocol +
         "\"\n     AuthnRequestsSigned=\"false\" WantAssertionsSigned=\"true\">\n" +
         key_descriptor("signing", "") + key_descriptor("encryption", methods) +
         "  <md:AssertionConsumerService Binding=\"" + kPostBinding + "\" Location=\"" +
         xml::escape(config.acs_url) +
         "\" index=\"0\" isDefault=\"true\"/>\n"
         " </md:SPSSODescriptor>\n"
         "</md:EntityDescriptor>\n";
}

}  // namespace tutelle::identity
