#pragma once
// What an attacker does to a genuine response: move, copy and rewrite its elements, and sign
// with a key of their own.

#include <string>

#include "identity/xml.hpp"

namespace tutelle::identity::testing {

// Parses a document the way an attacker's tools would (no checks). Throws on malformed input.
xml::Doc parse(const std::string& text);
std::string text_of(xmlDoc* doc);

// The first element with that name at or below `root`; throws when there is none.
xmlNode* first(xmlNode* root, const char* ns, const char* name);
xmlNode* root_of(const xml::Doc& doc);
// The AttributeValue of eduPersonPrincipalName at or below `root`.
xmlNode* eppn_value(xmlNode* root);

void set_text(xmlNode* node, const std::string& text);
void set_attribute(xmlNode* node, const char* name, const std::string& value);
xmlNode* deep_copy(xmlNode* node);
// Unlinks `node` from its tree and frees it.
void remove(xmlNode* node);

// Signs `element` anew through its existing enveloped `signature`, with the attacker's PEM key,
// and puts the attacker's certificate in the signature's KeyInfo.
void resign(xmlNode* element, xmlNode* signature, const std::string& key_pem,
            const std::string& certificate_pem);

}  // namespace tutelle::identity::testing
