#include "support/forge.hpp"

#include <libxml/parser.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>

#include <stdexcept>

#include "identity/credentials.hpp"
#include "identity/xml_security.hpp"

namespace tutelle::identity::testing {

xml::Doc parse(const std::string& text) {
  xml::Doc doc(xmlReadMemory(text.data(), static_cast<int>(text.size()), "forged.xml", nullptr,
                             XML_PARSE_NONET));
  if (!doc) throw std::runtime_error("forge: the document does not parse");
  return doc;
}

std::string text_of(xmlDoc* doc) {
  return xml::serialize(doc);
}

xmlNode* first(xmlNode* root, const char* ns, const char* name) {
  auto found = xml::descendants(root, ns, name);
  if (found.empty()) throw std::runtime_error(std::string("forge: no ") + name);
  return found[0];
}

xmlNode* root_of(const xml::Doc& doc) {
  return xmlDocGetRootElement(doc.get());
}

xmlNode* eppn_value(xmlNode* root) {
  for (xmlNode* attr : xml::descendants(root, xml::kAssertionNs, "Attribute")) {
    if (xml::attribute(attr, "Name") == "urn:oid:1.3.6.1.4.1.5923.1.1.1.6") {
      return first(attr, xml::kAssertionNs, "AttributeValue");
    }
  }
  throw std::runtime_error("forge: no eduPersonPrincipalName");
}

void set_text(xmlNode* node, const std::string& text) {
  xmlNodeSetContent(node, nullptr);
  xmlNodeAddContent(node, xml::to_xml(text.c_str()));
}

void set_attribute(xmlNode* node, const char* name, const std::string& value) {
  xmlSetProp(node, xml::to_xml(name), xml::to_xml(value.c_str()));
}

xmlNode* deep_copy(xmlNode* node) {
  return xmlDocCopyNode(node, node->doc, 1);
}

void remove(xmlNode* node) {
  xmlUnlinkNode(node);
  xmlFreeNode(node);
}

void resign(xmlNode* element, xmlNode* signature, const std::string& key_pem,
            const std::string& certificate_pem) {
  for (xmlNode* info : xml::children(signature, xml::kDsigNs, "KeyInfo")) remove(info);
  if (!xml::register_unique_ids(element->doc)) throw std::runtime_error("forge: IDs");
  auto key = private_key_from_pem(key_pem, "the attacker");
  if (!key) throw std::runtime_error(key.error().message);

  xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(nullptr);
  ctx->signKey = xmlSecKeyDuplicate(key->key.get());
  int rc = xmlSecDSigCtxSign(ctx, signature);
  xmlSecDSigCtxDestroy(ctx);
  if (rc != 0) throw std::runtime_error("forge: the attacker's signing failed");

  // KeyInfo is outside SignedInfo: adding it after signing keeps the signature valid.
  xmlNode* info = xmlNewChild(signature, signature->ns, xml::to_xml("KeyInfo"), nullptr);
  xmlNode* data = xmlNewChild(info, signature->ns, xml::to_xml("X509Data"), nullptr);
  std::string body = certificate_body(certificate_pem);
  xmlNewTextChild(data, signature->ns, xml::to_xml("X509Certificate"), xml::to_xml(body.c_str()));
}

}  // namespace tutelle::identity::testing
