// The service provider's checks on genuine responses of the test IdP, and on the ordinary
// refusals (replay, unsolicited, wrong audience, time, scope, algorithms).
#include "identity/service_provider.hpp"

#include <catch2/catch.hpp>

#include "support/corpus.hpp"

using namespace tutelle;
using namespace tutelle::identity;
using namespace tutelle::identity::testing;

namespace {

// The refusal of `result`, which must not have been accepted.
std::string refusal(const Result<Login>& result) {
  REQUIRE_FALSE(result.ok());
  return result.error().message;
}

}  // namespace

TEST_CASE("a genuine signed response is accepted with the person's attributes") {
  auto login = submit(corpus().response("signed-response"), "signed-response");
  REQUIRE(login.ok());
  CHECK(login->person.principal == "alice@univ-test.fr");
  CHECK(login->person.mail == "alice@mail.univ-test.fr");
  CHECK(login->person.display_name == "Alice Martin");
  CHECK(login->person.given_name == "Alice");
  CHECK(login->person.surname == "Martin");
  CHECK(login->person.establishments == std::vector<std::string>{"{UAI}0751234A"});
  CHECK(login->person.affiliations == std::vector<std::string>{"member", "faculty"});
  CHECK(login->establishment == "0751234A");
  CHECK(login->idp_entity_id == kIdpEntity);
  CHECK(login->audience == "tutelle");
  CHECK_FALSE(login->encrypted);
}

TEST_CASE("a genuine response with a signed assertion is accepted") {
  CHECK(submit(corpus().response("signed-assertion"), "signed-assertion").ok());
  CHECK(submit(corpus().response("signed-both"), "signed-both").ok());
}

TEST_CASE("a signed response around an AES-GCM encrypted assertion is decrypted and accepted") {
  auto login = submit(corpus().response("encrypted"), "encrypted");
  REQUIRE(login.ok());
  CHECK(login->encrypted);
  CHECK(login->person.principal == "alice@univ-test.fr");
}

TEST_CASE("an encrypted assertion that carries its own signature is accepted") {
  auto login =
      submit(corpus().response("encrypted-signed-assertion"), "encrypted-signed-assertion");
  REQUIRE(login.ok());
  CHECK(login->encrypted);
}

TEST_CASE("an assertion encrypted with triple DES is refused") {
  CHECK_THAT(refusal(submit(corpus().response("encrypted-3des"), "encrypted-3des")),
             Catch::Contains("data encryption http://www.w3.org/2001/04/xmlenc#tripledes-cbc "
                             "is not allowed"));
}

TEST_CASE("a replayed response is refused by the replay cache") {
  auto ledger = ledger_for({"signed-response"});
  REQUIRE(submit(corpus().response("signed-response"), *ledger).ok());
  CHECK_THAT(refusal(submit(corpus().response("signed-response"), *ledger)),
             Catch::Contains("was seen before (replay)"));
}

TEST_CASE("a second answer to a request already answered is refused") {
  auto ledger = ledger_for({"signed-response"});
  REQUIRE(submit(corpus().response("signed-response"), *ledger).ok());
  CHECK_THAT(refusal(submit(corpus().response("answered-twice"), *ledger)),
             Catch::Contains("was answered already"));
}

TEST_CASE("an unsolicited response is refused") {
  CHECK_THAT(refusal(submit(corpus().response("unsolicited"), "unsolicited")),
             Catch::Contains("unsolicited response"));
}

TEST_CASE("a response to a request we never sent is refused") {
  MemoryLedger empty;
  CHECK_THAT(refusal(submit(corpus().response("signed-response"), empty)),
             Catch::Contains("is not a request we sent"));
}

TEST_CASE("a response posted by another browser than the one that asked is refused") {
  auto ledger = ledger_for({"signed-response"});
  CHECK_THAT(
      refusal(submit(corpus().response("signed-response"), *ledger, 5, nullptr, "another-browser")),
      Catch::Contains("was made by another browser"));
}

TEST_CASE("a response that comes after its request expired is refused") {
  auto ledger = ledger_for({"signed-response"});
  CHECK_THAT(refusal(submit(corpus().response("signed-response"), *ledger, 240)),
             Catch::Contains("expired"));
}

TEST_CASE("an assertion meant for another SP is refused for its audience") {
  CHECK_THAT(refusal(submit(corpus().response("other-sp"), "other-sp")),
             Catch::Contains("our entityID https://hub.tutelle.test/saml/metadata is not in the "
                             "audience (https://other-sp.example/saml/metadata)"));
}

TEST_CASE("a response addressed to another ACS is refused for its Destination") {
  ServiceProviderConfig elsewhere = corpus().sp;
  elsewhere.acs_url = "https://hub.tutelle.test/saml/other-acs";
  auto ledger = ledger_for({"signed-response"});
  CHECK_THAT(refusal(submit(corpus().response("signed-response"), *ledger, 5, &elsewhere)),
             Catch::Contains("Destination https://hub.tutelle.test/saml/acs is not our ACS"));
}

TEST_CASE("an expired assertion is refused") {
  auto ledger = ledger_for({"signed-response"});
  CHECK_THAT(refusal(submit(corpus().response("signed-response"), *ledger, 3600)),
             Catch::Contains("expired at"));
}

TEST_CASE("an assertion within the clock skew of its NotBefore is accepted, not before") {
  auto ledger = ledger_for({"signed-response"});
  CHECK_THAT(refusal(submit(corpus().response("signed-response"), *ledger, -600)),
             Catch::Contains("is not valid before"));
  CHECK(submit(corpus().response("signed-response"), *ledger, -60).ok());
}

TEST_CASE("a response from an IdP vouching for another establishment's scope is refused") {
  CHECK_THAT(refusal(submit(corpus().response("mallory"), "mallory")),
             Catch::Contains("the eduPersonPrincipalName mallory@other-univ.fr has a scope that "
                             "https://idp.univ-test.fr/idp may not assert"));
}

TEST_CASE("a response genuinely signed with SHA-1 is refused") {
  CHECK_THAT(refusal(submit(corpus().response("sha1"), "sha1")),
             Catch::Contains("signature method http://www.w3.org/2000/09/xmldsig#rsa-sha1 is not "
                             "allowed"));
}

TEST_CASE("a response of an IdP outside the federation is refused") {
  std::string xml = corpus().response("signed-response");
  std::string issuer = ">https://idp.univ-test.fr/idp<";
  xml.replace(xml.find(issuer), issuer.size(), ">https://idp.elsewhere.example/idp<");
  CHECK_THAT(refusal(submit(xml, "signed-response")),
             Catch::Contains("the issuer https://idp.elsewhere.example/idp is not an IdP of the "
                             "federation"));
}

TEST_CASE("a response that is not base64 or not XML is refused") {
  auto ledger = ledger_for({});
  auto sp = ServiceProvider::create(corpus().sp);
  REQUIRE(sp.ok());
  auto bad = sp->accept("not*base64", kBrowser, corpus().idps, *ledger, corpus().recorded_at);
  CHECK_THAT(refusal(bad), Catch::Contains("not base64"));
  CHECK_THAT(refusal(submit("<samlp:Response", "signed-response")), Catch::Contains("parse"));
}

TEST_CASE("an AuthnRequest is remembered and sent with the redirect binding") {
  MemoryLedger ledger;
  auto sp = ServiceProvider::create(corpus().sp);
  REQUIRE(sp.ok());
  const auto& idp = corpus().idps.at(kIdpEntity);
  auto redirect = sp->start_login(idp, kBrowser, "node-7", ledger, 1000);
  REQUIRE(redirect.ok());
  CHECK(redirect->url.rfind(idp.sso_redirect_url + "?SAMLRequest=", 0) == 0);
  auto pending = ledger.find_request(redirect->request_id);
  REQUIRE(pending.ok());
  REQUIRE(pending->has_value());
  CHECK((*pending)->idp_entity_id == kIdpEntity);
  CHECK((*pending)->audience == "node-7");
  CHECK((*pending)->expires == 1000 + corpus().sp.request_lifetime_seconds);
  CHECK((*pending)->browser_binding_hash == binding_hash(kBrowser));
}
