#include "identity/xml.hpp"

#include <libxml/parser.h>
#include <libxml/valid.h>

#include <cstring>

namespace tutelle::identity::xml {

namespace {

struct ParserFree {
  void operator()(xmlParserCtxt* ctxt) const { xmlFreeParserCtxt(ctxt); }
};

const char* as_chars(const xmlChar* text) {
  return reinterpret_cast<const char*>(text);
}

bool has_name(const xmlNode* node, const char* ns, const char* name) {
  if (node == nullptr || node->type != XML_ELEMENT_NODE) return false;
  if (std::strcmp(as_chars(node->name), name) != 0) return false;
  if (ns == nullptr) return node->ns == nullptr;
  return node->ns != nullptr && std::strcmp(as_chars(node->ns->href), ns) == 0;
}

void collect(xmlNode* node, const char* ns, const char* name, std::vector<xmlNode*>& out) {
  for (; node != nullptr; node = node->next) {
    if (node->type != XML_ELEMENT_NODE) continue;
    if (has_name(node, ns, name)) out.push_back(node);
    collect(node->children, ns, name, out);
  }
}

void append_text(const xmlNode* node, std::string& out) {
  for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
    if (child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE) {
      if (child->content != nullptr) out += as_chars(child->content);
    } else if (child->type == XML_ELEMENT_NODE) {
      append_text(child, out);
    }
  }
}

Status register_ids_under(xmlDoc* doc, xmlNode* node) {
  for (; node != nullptr; node = node->next) {
    if (node->type != XML_ELEMENT_NODE) continue;
    xmlAttr* attr = xmlHasNsProp(node, to_xml("ID"), nullptr);
    if (attr != nullptr) {
      xmlChar* value = xmlNodeListGetString(doc, attr->children, 1);
      std::string id = value != nullptr ? as_chars(value) : "";
      xmlFree(value);
      xmlAttr* known = xmlGetID(doc, to_xml(id.c_str()));
      if (known != nullptr && known != attr) {
        return make_error(ErrorCode::refused, "the ID '" + id + "' is used twice");
      }
      if (known == nullptr && xmlAddID(nullptr, doc, to_xml(id.c_str()), attr) == nullptr) {
        return make_error(ErrorCode::refused, "the ID '" + id + "' cannot be registered");
      }
    }
    Status below = register_ids_under(doc, node->children);
    if (!below) return below;
  }
  return {};
}

}  // namespace

Error libxml2_error(const xmlError* error, std::string_view operation, std::string_view object) {
  std::string where = std::string(operation) + " " + std::string(object);
  if (error == nullptr || error->message == nullptr) {
    return make_error(ErrorCode::corrupt, where + ": libxml2 failed");
  }
  std::string message = error->message;
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return make_error(ErrorCode::corrupt,
                    where + ": line " + std::to_string(error->line) + ": " + message);
}

Result<Doc> parse_untrusted(std::string_view bytes, std::string_view what, std::size_t max_bytes) {
  if (bytes.size() > max_bytes) {
    return make_error(ErrorCode::refused,
                      std::string(what) + ": larger than " + std::to_string(max_bytes) + " bytes");
  }

  // A DOCTYPE is refused before parsing: SAML has no use for one, and entities are the
  // doorway to expansion bombs and external fetches.
  if (std::string_view(bytes).find("<!DOCTYPE") != std::string_view::npos) {
    return make_error(ErrorCode::refused, std::string(what) + ": the document has a DTD");
  }

  std::unique_ptr<xmlParserCtxt, ParserFree> ctxt(xmlNewParserCtxt());
  if (!ctxt) return make_error(ErrorCode::internal, "libxml2: cannot create a parser");
  int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  Doc doc(xmlCtxtReadMemory(ctxt.get(), bytes.data(), static_cast<int>(bytes.size()),
                            "untrusted.xml", nullptr, options));
  if (!doc) return libxml2_error(xmlCtxtGetLastError(ctxt.get()), "parse", what);

  // Defence in depth, should the text check above ever be bypassed by an encoding trick.
  if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
    return make_error(ErrorCode::refused, std::string(what) + ": the document has a DTD");
  }
  if (xmlDocGetRootElement(doc.get()) == nullptr) {
    return make_error(ErrorCode::corrupt, std::string(what) + ": the document is empty");
  }
  return doc;
}

Status register_unique_ids(xmlDoc* doc) {
  return register_ids_under(doc, xmlDocGetRootElement(doc));
}

bool is(const xmlNode* node, const char* ns, const char* name) {
  return has_name(node, ns, name);
}

std::vector<xmlNode*> children(const xmlNode* parent, const char* ns, const char* name) {
  std::vector<xmlNode*> out;
  for (xmlNode* child = parent->children; child != nullptr; child = child->next) {
    if (has_name(child, ns, name)) out.push_back(child);
  }
  return out;
}

std::vector<xmlNode*> element_children(const xmlNode* parent) {
  std::vector<xmlNode*> out;
  for (xmlNode* child = parent->children; child != nullptr; child = child->next) {
    if (child->type == XML_ELEMENT_NODE) out.push_back(child);
  }
  return out;
}

std::vector<xmlNode*> descendants(xmlNode* root, const char* ns, const char* name) {
  std::vector<xmlNode*> out;
  if (has_name(root, ns, name)) out.push_back(root);
  collect(root->children, ns, name, out);
  return out;
}

std::optional<std::string> attribute(const xmlNode* node, const char* name) {
  xmlChar* value = xmlGetNoNsProp(node, to_xml(name));
  if (value == nullptr) return std::nullopt;
  std::string out = as_chars(value);
  xmlFree(value);
  return out;
}

std::string whole_text(const xmlNode* node) {
  std::string out;
  append_text(node, out);
  return out;
}

std::string trimmed_text(const xmlNode* node) {
  std::string text = whole_text(node);
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::string serialize(xmlDoc* doc) {
  xmlChar* bytes = nullptr;
  int size = 0;
  xmlDocDumpMemory(doc, &bytes, &size);
  std::string out(as_chars(bytes), static_cast<std::size_t>(size));
  xmlFree(bytes);
  return out;
}

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace tutelle::identity::xml
