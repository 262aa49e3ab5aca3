#pragma once
// libxml2 for untrusted SAML documents: a parser that refuses DTDs and never reaches the network,
// ID bookkeeping that refuses duplicates, and readers that take an element's whole text.
//
// Ownership: a Doc owns its tree; every xmlNode* handed out points into a Doc and is valid while
// that Doc lives and the node is not unlinked.

#include <libxml/tree.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/result.hpp"

namespace tutelle::identity::xml {

inline constexpr const char* kProtocolNs = "urn:oasis:names:tc:SAML:2.0:protocol";
inline constexpr const char* kAssertionNs = "urn:oasis:names:tc:SAML:2.0:assertion";
inline constexpr const char* kMetadataNs = "urn:oasis:names:tc:SAML:2.0:metadata";
inline constexpr const char* kDsigNs = "http://www.w3.org/2000/09/xmldsig#";
inline constexpr const char* kXencNs = "http://www.w3.org/2001/04/xmlenc#";
inline constexpr const char* kShibmdNs = "urn:mace:shibboleth:metadata:1.0";
inline constexpr const char* kMdattrNs = "urn:oasis:names:tc:SAML:metadata:attribute";

struct DocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;

// Turns libxml2's last error (of a parser context, or the thread's) into an Error naming
// `operation` and `object`.
Error libxml2_error(const xmlError* error, std::string_view operation, std::string_view object);

// Parses bytes from outside. Refuses a document larger than `max_bytes`, any DOCTYPE (so no
// entity can be declared, expanded or fetched), and anything not well-formed. `what` names the
// document in errors.
Result<Doc> parse_untrusted(std::string_view bytes, std::string_view what, std::size_t max_bytes);

// Registers every attribute named `ID` (no namespace) as an XML ID, so that a same-document
// reference "#value" resolves to its element. Refuses two such attributes with one value
// anywhere in the document. Idempotent: may run again after a decryption added elements.
Status register_unique_ids(xmlDoc* doc);

// libxml2 spells text as unsigned char; these convert without C casts.
inline const xmlChar* to_xml(const char* text) {
  return reinterpret_cast<const xmlChar*>(text);
}
inline const char* from_xml(const xmlChar* text) {
  return reinterpret_cast<const char*>(text);
}

bool is(const xmlNode* node, const char* ns, const char* name);
// Element children of `parent` with that namespace and local name, in document order.
std::vector<xmlNode*> children(const xmlNode* parent, const char* ns, const char* name);
// Every element child of `parent`, in document order.
std::vector<xmlNode*> element_children(const xmlNode* parent);
// `root` and its element descendants with that namespace and local name, in document order.
std::vector<xmlNode*> descendants(xmlNode* root, const char* ns, const char* name);

// The attribute of that (un-namespaced) name, if present.
std::optional<std::string> attribute(const xmlNode* node, const char* name);

// The element's whole text: every text and CDATA descendant joined, comments and processing
// instructions skipped. A comment inside a value therefore cannot shorten it
// ("alice@a.fr<!---->.evil.org" reads as "alice@a.fr.evil.org").
std::string whole_text(const xmlNode* node);

// The element's text with leading and trailing XML whitespace removed.
std::string trimmed_text(const xmlNode* node);

std::string serialize(xmlDoc* doc);

// `text` escaped for an attribute value or element content (& < > " ').
std::string escape(std::string_view text);

}  // namespace tutelle::identity::xml
