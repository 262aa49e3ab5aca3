// Known attacks on SAML service providers, each built from a genuine response of the test IdP:
// the XML signature wrapping variants of Somorovsky et al. ("On Breaking SAML", 2012), key
// substitution, comment truncation, entity declarations and weak algorithms.
#include <catch2/catch.hpp>

#include "identity/credentials.hpp"
#include "identity/service_provider.hpp"
#include "support/corpus.hpp"
#include "support/forge.hpp"

using namespace tutelle;
using namespace tutelle::identity;
using namespace tutelle::identity::testing;

namespace {

constexpr const char* kEvil = "admin@univ-test.fr";

std::string refusal(const Result<Login>& result) {
  REQUIRE_FALSE(result.ok());
  return result.error().message;
}

// A genuine response, parsed for forging.
struct Genuine {
  explicit Genuine(const std::string& recorded)
      : name(recorded), doc(parse(corpus().response(recorded))), response(root_of(doc)) {}

  xmlNode* assertion() const { return first(response, xml::kAssertionNs, "Assertion"); }
  xmlNode* signature_of(xmlNode* element) const {
    return xml::children(element, xml::kDsigNs, "Signature").at(0);
  }
  std::string submit_forged() const { return refusal(submit(text_of(doc.get()), name)); }

  std::string name;
  xml::Doc doc;
  xmlNode* response;
};

// An evil copy of `assertion`: another person, another ID, no signature.
xmlNode* evil_copy(xmlNode* assertion) {
  xmlNode* evil = deep_copy(assertion);
  set_attribute(evil, "ID", "_evil");
  set_text(eppn_value(evil), kEvil);
  for (xmlNode* signature : xml::children(evil, xml::kDsigNs, "Signature")) remove(signature);
  return evil;
}

}  // namespace

TEST_CASE(
    "XSW1: the signed response copied into its own signature under an evil response is "
    "refused") {
  Genuine g("signed-response");
  xmlNode* original = deep_copy(g.response);
  set_attribute(g.response, "ID", "_evil-response");
  set_attribute(g.assertion(), "ID", "_evil-assertion");
  set_text(eppn_value(g.assertion()), kEvil);
  xmlAddChild(g.signature_of(g.response), original);
  CHECK_THAT(g.submit_forged(), Catch::Contains("the response holds 2 assertions"));
}

TEST_CASE(
    "XSW2: the signed response detached beside the signature of an evil response is "
    "refused") {
  Genuine g("signed-response");
  xmlNode* original = deep_copy(g.response);
  set_attribute(g.response, "ID", "_evil-response");
  set_attribute(g.assertion(), "ID", "_evil-assertion");
  set_text(eppn_value(g.assertion()), kEvil);
  xmlAddPrevSibling(g.signature_of(g.response), original);
  CHECK_THAT(g.submit_forged(), Catch::Contains("the response holds 2 assertions"));
}

TEST_CASE("XSW3: an evil assertion placed before the signed one is refused") {
  Genuine g("signed-assertion");
  xmlAddPrevSibling(g.assertion(), evil_copy(g.assertion()));
  CHECK_THAT(g.submit_forged(), Catch::Contains("the response holds 2 assertions"));
}

TEST_CASE("XSW3 with a shared ID: an evil assertion with the signed one's ID is refused") {
  Genuine g("signed-assertion");
  xmlNode* evil = evil_copy(g.assertion());
  set_attribute(evil, "ID", xml::attribute(g.assertion(), "ID").value());
  xmlAddPrevSibling(g.assertion(), evil);
  CHECK_THAT(g.submit_forged(), Catch::Contains("is used twice"));
}

TEST_CASE("XSW4: the signed assertion moved inside an evil assertion is refused") {
  Genuine g("signed-assertion");
  xmlNode* original = g.assertion();
  xmlNode* evil = evil_copy(original);
  xmlAddPrevSibling(original, evil);
  xmlUnlinkNode(original);
  xmlAddChild(evil, original);
  CHECK_THAT(g.submit_forged(), Catch::Contains("the response holds 2 assertions"));
}

TEST_CASE(
    "XSW5: the signature moved to an evil assertion, the signed one appended after, is "
    "refused") {
  Genuine g("signed-assertion");
  xmlNode* original = g.assertion();
  xmlNode* evil = evil_copy(original);
  xmlNode* signature = g.signature_of(original);
  xmlUnlinkNode(signature);
  xmlAddChild(evil, signature);
  xmlAddPrevSibling(original, evil);
  xmlUnlinkNode(original);
  xmlAddChild(g.response, original);
  CHECK_THAT(g.submit_forged(), Catch::Contains("the response holds 2 assertions"));
}

TEST_CASE(
    "XSW6: the signed assertion hidden inside the signature of an evil assertion is "
    "refused") {
  Genuine g("signed-assertion");
  xmlNode* original = g.assertion();
  xmlNode* evil = evil_copy(original);
  xmlNode* signature = deep_copy(g.signature_of(original));
  xmlAddChild(evil, signature);
  xmlAddPrevSibling(original, evil);
  xmlUnlinkNode(original);
  xmlAddChild(signature, original);
  CHECK_THAT(g.submit_forged(), Catch::Contains("the response holds 2 assertions"));
}

TEST_CASE(
    "XSW7: the signed assertion hidden in an Extensions element beside an evil one is "
    "refused") {
  Genuine g("signed-assertion");
  xmlNode* original = g.assertion();
  xmlNode* extensions = xmlNewNode(g.response->ns, xml::to_xml("Extensions"));
  xmlAddPrevSibling(original, evil_copy(original));
  xmlAddPrevSibling(original, extensions);
  xmlUnlinkNode(original);
  xmlAddChild(extensions, original);
  CHECK_THAT(g.submit_forged(), Catch::Contains("the response holds 2 assertions"));
}

TEST_CASE(
    "XSW8: the signed assertion, unsigned, in an Object of the evil assertion's signature "
    "is refused") {
  Genuine g("signed-assertion");
  xmlNode* original = g.assertion();
  xmlNode* evil = evil_copy(original);
  xmlNode* signature = g.signature_of(original);
  xmlUnlinkNode(signature);
  xmlAddChild(evil, signature);
  xmlNode* object = xmlNewChild(signature, signature->ns, xml::to_xml("Object"), nullptr);
  xmlAddPrevSibling(original, evil);
  xmlUnlinkNode(original);
  xmlAddChild(object, original);
  CHECK_THAT(g.submit_forged(), Catch::Contains("the response holds 2 assertions"));
}

TEST_CASE("a signature moved under a forged assertion that keeps the signed ID is refused") {
  Genuine g("signed-assertion");
  xmlNode* original = g.assertion();
  xmlNode* forged = evil_copy(original);
  set_attribute(forged, "ID", xml::attribute(original, "ID").value());
  xmlNode* signature = g.signature_of(original);
  xmlUnlinkNode(signature);
  xmlAddPrevSibling(first(forged, xml::kAssertionNs, "Subject"), signature);
  remove(original);
  xmlAddChild(g.response, forged);
  CHECK_THAT(g.submit_forged(), Catch::Contains("the signature does not verify"));
}

TEST_CASE("a signature moved under a forged assertion with an ID of its own is refused") {
  Genuine g("signed-assertion");
  xmlNode* original = g.assertion();
  xmlNode* forged = evil_copy(original);
  xmlNode* signature = g.signature_of(original);
  xmlUnlinkNode(signature);
  xmlAddChild(forged, signature);
  remove(original);
  xmlAddChild(g.response, forged);
  CHECK_THAT(g.submit_forged(), Catch::Contains("is not its parent's ID _evil"));
}

TEST_CASE("a response whose signature was removed is refused") {
  Genuine g("signed-response");
  remove(g.signature_of(g.response));
  CHECK_THAT(g.submit_forged(),
             Catch::Contains("neither the response nor the assertion is signed"));
}

TEST_CASE("an encrypted assertion whose response signature was removed is refused") {
  Genuine g("encrypted");
  remove(g.signature_of(g.response));
  CHECK_THAT(g.submit_forged(),
             Catch::Contains("neither the response nor the assertion is signed"));
}

TEST_CASE("a response re-signed with the attacker's key and certificate in KeyInfo is refused") {
  Genuine g("signed-response");
  set_text(eppn_value(g.assertion()), kEvil);
  resign(g.response, g.signature_of(g.response), corpus().file("attacker.key"),
         corpus().file("attacker.crt"));
  CHECK_THAT(g.submit_forged(), Catch::Contains("the signature does not verify"));
}

TEST_CASE("a comment inside the eduPersonPrincipalName cannot shorten it") {
  // eve is registered at the IdP as alice@univ-test.fr.evil.org; the comment keeps the
  // signature valid (exclusive c14n drops comments) and would truncate a naive reader's value.
  Genuine g("eve");
  xmlNode* value = eppn_value(g.assertion());
  set_text(value, "alice@univ-test.fr");
  xmlAddChild(value, xmlNewComment(xml::to_xml("")));
  xmlAddChild(value, xmlNewText(xml::to_xml(".evil.org")));
  CHECK_THAT(g.submit_forged(),
             Catch::Contains("the eduPersonPrincipalName alice@univ-test.fr.evil.org has a scope"));
}

TEST_CASE("a DOCTYPE declaring entities is refused before parsing") {
  std::string xml = corpus().response("signed-response");
  std::string doctype = "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>";
  xml.insert(xml.find("<ns0:Response"), doctype);
  CHECK_THAT(refusal(submit(xml, "signed-response")), Catch::Contains("the document has a DTD"));
}

TEST_CASE("an HMAC signature is refused") {
  Genuine g("signed-response");
  xmlNode* method = first(g.signature_of(g.response), xml::kDsigNs, "SignatureMethod");
  set_attribute(method, "Algorithm", "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256");
  CHECK_THAT(g.submit_forged(),
             Catch::Contains("signature method http://www.w3.org/2001/04/xmldsig-more#hmac-sha256 "
                             "is not allowed"));
}

TEST_CASE("a signature with an inclusive canonicalisation or an XPath transform is refused") {
  Genuine g("signed-response");
  xmlNode* transform = first(g.signature_of(g.response), xml::kDsigNs, "Transform");
  set_attribute(transform, "Algorithm", "http://www.w3.org/TR/1999/REC-xpath-19991116");
  CHECK_THAT(g.submit_forged(), Catch::Contains("transform http://www.w3.org/TR/1999/"
                                                "REC-xpath-19991116 is not allowed"));
}

TEST_CASE("a signature with two references is refused") {
  Genuine g("signed-response");
  xmlNode* reference = first(g.signature_of(g.response), xml::kDsigNs, "Reference");
  xmlAddNextSibling(reference, deep_copy(reference));
  CHECK_THAT(g.submit_forged(), Catch::Contains("the signature has 2 references"));
}

TEST_CASE("an altered attribute under a genuine signature is refused") {
  Genuine g("signed-response");
  set_text(eppn_value(g.assertion()), kEvil);
  CHECK_THAT(g.submit_forged(), Catch::Contains("the signature does not verify"));
}
