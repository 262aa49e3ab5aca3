// Federation metadata: the aggregate is trusted only when signed by the federation's key and
// still valid; then each IdP's keys, endpoint, scopes and establishment are read.
#include "identity/metadata.hpp"

#include <catch2/catch.hpp>

#include "support/corpus.hpp"

using namespace tutelle;
using namespace tutelle::identity;
using namespace tutelle::identity::testing;

namespace {

Result<Federation> load(const std::string& file, const std::string& cert = "federation.crt") {
  return load_federation_metadata(corpus().file(file), corpus().file(cert), corpus().recorded_at);
}

std::string refusal(const Result<Federation>& result) {
  REQUIRE_FALSE(result.ok());
  return result.error().message;
}

}  // namespace

TEST_CASE("a signed aggregate gives each IdP its keys, endpoint, scopes and establishment") {
  auto federation = load("federation.xml");
  REQUIRE(federation.ok());
  CHECK(federation->name == "urn:test:tutelle-federation");
  CHECK(federation->valid_until > corpus().recorded_at);
  REQUIRE(federation->identity_providers.size() == 2);
  const auto& idp = federation->identity_providers[0];
  CHECK(idp.entity_id == kIdpEntity);
  CHECK(idp.establishment == "0751234A");
  CHECK(idp.scopes == std::vector<std::string>{"univ-test.fr"});
  CHECK(idp.signing_certificates.size() == 1);
  CHECK(idp.encryption_certificates.empty());
  CHECK(idp.sso_redirect_url.find("/sso/redirect") != std::string::npos);
  CHECK(federation->identity_providers[1].establishment == "0759999Z");
  CHECK(federation->identity_providers[1].scopes == std::vector<std::string>{"other-univ.fr"});
}

TEST_CASE("a tampered aggregate is refused") {
  std::string xml = corpus().file("federation.xml");
  xml.replace(xml.find(">univ-test.fr<"), 14, ">other-univ.fr<");
  auto tampered =
      load_federation_metadata(xml, corpus().file("federation.crt"), corpus().recorded_at);
  CHECK_THAT(refusal(tampered), Catch::Contains("the signature does not verify"));
}

TEST_CASE("an expired aggregate is refused") {
  CHECK_THAT(refusal(load("federation-expired.xml")), Catch::Contains("the aggregate expired"));
}

TEST_CASE("an aggregate is refused once its validUntil has passed") {
  auto later =
      load_federation_metadata(corpus().file("federation.xml"), corpus().file("federation.crt"),
                               corpus().recorded_at + 2 * 86400);
  CHECK_THAT(refusal(later), Catch::Contains("the aggregate expired"));
}

TEST_CASE("an aggregate without validUntil is refused") {
  CHECK_THAT(refusal(load("federation-unbounded.xml")), Catch::Contains("has no validUntil"));
}

TEST_CASE("an aggregate signed by another key is refused") {
  CHECK_THAT(refusal(load("federation-other-key.xml")),
             Catch::Contains("the signature does not verify"));
}

TEST_CASE("an aggregate is refused when checked against another certificate") {
  CHECK_THAT(refusal(load("federation.xml", "attacker.crt")),
             Catch::Contains("the signature does not verify"));
}

TEST_CASE("an unsigned aggregate is refused") {
  std::string xml = corpus().file("federation.xml");
  auto start = xml.find("<ds:Signature");
  auto end = xml.find("</ds:Signature>") + std::string("</ds:Signature>").size();
  xml.erase(start, end - start);
  auto unsigned_ =
      load_federation_metadata(xml, corpus().file("federation.crt"), corpus().recorded_at);
  CHECK_THAT(refusal(unsigned_), Catch::Contains("the aggregate is not signed"));
}

TEST_CASE("the SP's metadata offers its certificate for signing and encryption and its ACS") {
  std::string xml = service_provider_metadata(corpus().sp);
  CHECK(xml.find("entityID=\"https://hub.tutelle.test/saml/metadata\"") != std::string::npos);
  CHECK(xml.find("use=\"encryption\"") != std::string::npos);
  CHECK(xml.find("Location=\"https://hub.tutelle.test/saml/acs\"") != std::string::npos);
  CHECK(xml.find("aes256-gcm") != std::string::npos);
}

TEST_CASE("SAML times are read as UTC with fractions and offsets") {
  CHECK(parse_saml_time("1970-01-01T00:00:00Z").value() == 0);
  CHECK(parse_saml_time("2026-12-03T08:47:27.123Z").value() == 1796287647);
  CHECK(parse_saml_time("2026-12-03T09:47:27+01:00").value() == 1796287647);
  CHECK_FALSE(parse_saml_time("2026-12-03T08:47:27").ok());
  CHECK(format_saml_time(1796287647) == "2026-12-03T08:47:27Z");
}
