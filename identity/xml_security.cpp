#include "identity/xml_security.hpp"

#include <libxml/parser.h>
#include <libxml/valid.h>
#include <openssl/crypto.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/keys.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlenc.h>
#include <xmlsec/xmlsec.h>

#include <algorithm>
#include <mutex>

#include "identity/xml.hpp"

namespace tutelle::identity {

namespace {

constexpr std::string_view kExcC14n = "http://www.w3.org/2001/10/xml-exc-c14n#";
constexpr std::string_view kEnveloped = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
constexpr std::string_view kDigests[] = {
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/04/xmlenc#sha512",
};
constexpr std::string_view kSignatureMethods[] = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
};
constexpr std::string_view kDataEncryptions[] = {
    "http://www.w3.org/2009/xmlenc11#aes128-gcm",
    "http://www.w3.org/2009/xmlenc11#aes192-gcm",
    "http://www.w3.org/2009/xmlenc11#aes256-gcm",
};
constexpr std::string_view kKeyTransports[] = {
    "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
    "http://www.w3.org/2009/xmlenc11#rsa-oaep",
};
constexpr std::string_view kElementType = "http://www.w3.org/2001/04/xmlenc#Element";

// xmlsec reports errors through a callback; the last one of this thread is kept for
// xmlsec_error().
thread_local std::string last_xmlsec_error;

void capture_xmlsec_error(const char* /*file*/, int /*line*/, const char* func,
                          const char* /*object*/, const char* subject, int reason,
                          const char* message) {
  std::string text = func != nullptr ? func : "xmlsec";
  if (subject != nullptr) text += std::string(" (") + subject + ")";
  const char* reason_text = xmlSecErrorsGetMsg(static_cast<xmlSecSize>(reason));
  if (reason_text != nullptr) text += std::string(": ") + reason_text;
  if (message != nullptr && *message != '\0') text += std::string(": ") + message;
  last_xmlsec_error = text;
}

template <std::size_t N>
bool allowed(const std::string_view (&list)[N], const std::string& value) {
  return std::find(std::begin(list), std::end(list), value) != std::end(list);
}

std::string algorithm_of(const xmlNode* node) {
  return xml::attribute(node, "Algorithm").value_or("(none)");
}

void* as_list_item(xmlSecTransformId id) {
  return const_cast<void*>(static_cast<const void*>(id));
}

Error refused(std::string_view what, const std::string& reason) {
  return make_error(ErrorCode::refused, std::string(what) + ": " + reason);
}

Status check_children(xmlNode* signature, std::string_view what) {
  auto elements = xml::element_children(signature);
  std::size_t i = 0;
  const char* expected[] = {"SignedInfo", "SignatureValue", "KeyInfo"};
  for (const char* name : expected) {
    if (i < elements.size() && xml::is(elements[i], xml::kDsigNs, name)) ++i;
  }
  if (i == elements.size() && i >= 2) return {};
  std::string found =
      i < elements.size() ? reinterpret_cast<const char*>(elements[i]->name) : "nothing";
  return refused(what, "the signature holds <" + found +
                           "> where only SignedInfo, SignatureValue and KeyInfo are allowed");
}

Status check_signed_info(xmlNode* signed_info, std::string_view what) {
  auto c14n = xml::children(signed_info, xml::kDsigNs, "CanonicalizationMethod");
  if (c14n.size() != 1 || algorithm_of(c14n[0]) != kExcC14n) {
    std::string found = c14n.empty() ? "(none)" : algorithm_of(c14n[0]);
    return refused(what, "canonicalisation " + found + " is not allowed");
  }
  auto method = xml::children(signed_info, xml::kDsigNs, "SignatureMethod");
  if (method.size() != 1 || !allowed(kSignatureMethods, algorithm_of(method[0]))) {
    std::string found = method.empty() ? "(none)" : algorithm_of(method[0]);
    return refused(what, "signature method " + found + " is not allowed");
  }
  return {};
}

Status check_reference(xmlNode* element, xmlNode* reference, std::string_view what) {
  auto id = xml::attribute(element, "ID").value_or("");
  auto uri = xml::attribute(reference, "URI").value_or("(none)");
  if (id.empty()) return refused(what, "the signed element has no ID");
  if (uri != "#" + id) {
    return refused(what, "the signature's reference " + uri + " is not its parent's ID " + id);
  }
  xmlAttr* target = xmlGetID(element->doc, xml::to_xml(id.c_str()));
  if (target == nullptr || target->parent != element) {
    return refused(what, "the ID " + id + " does not name the signature's parent");
  }

  auto transforms = xml::children(reference, xml::kDsigNs, "Transforms");
  bool enveloped = false;
  for (xmlNode* transform :
       transforms.empty() ? std::vector<xmlNode*>{} : xml::element_children(transforms[0])) {
    std::string algorithm = algorithm_of(transform);
    if (algorithm == kEnveloped) {
      enveloped = true;
    } else if (algorithm != kExcC14n) {
      return refused(what, "transform " + algorithm + " is not allowed");
    }
  }
  if (!enveloped) return refused(what, "the signature is not an enveloped signature");

  auto digest = xml::children(reference, xml::kDsigNs, "DigestMethod");
  if (digest.size() != 1 || !allowed(kDigests, algorithm_of(digest[0]))) {
    std::string found = digest.empty() ? "(none)" : algorithm_of(digest[0]);
    return refused(what, "digest method " + found + " is not allowed");
  }
  return {};
}

// Checks everything about the signature that needs no cryptography.
Status check_shape(xmlNode* element, xmlNode* signature, std::string_view what) {
  Status children = check_children(signature, what);
  if (!children) return children;

  xmlNode* signed_info = xml::element_children(signature)[0];
  Status info = check_signed_info(signed_info, what);
  if (!info) return info;

  auto references = xml::children(signed_info, xml::kDsigNs, "Reference");
  if (references.size() != 1) {
    return refused(what, "the signature has " + std::to_string(references.size()) +
                             " references where exactly one is allowed");
  }
  return check_reference(element, references[0], what);
}

void enable_signature_algorithms(xmlSecDSigCtxPtr ctx) {
  for (auto id : {xmlSecTransformExclC14NId, xmlSecTransformEnvelopedId, xmlSecTransformSha256Id,
                  xmlSecTransformSha512Id}) {
    xmlSecDSigCtxEnableReferenceTransform(ctx, id);
  }
  for (auto id : {xmlSecTransformExclC14NId, xmlSecTransformRsaSha256Id, xmlSecTransformRsaSha512Id,
                  xmlSecTransformEcdsaSha256Id, xmlSecTransformEcdsaSha512Id}) {
    xmlSecDSigCtxEnableSignatureTransform(ctx, id);
  }
  ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
}

// True when `key` verifies `signature`; otherwise false with xmlsec's reason in `reason`.
bool verifies_with(xmlNode* signature, const XmlKey& key, std::string& reason) {
  xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(nullptr);
  if (ctx == nullptr) {
    reason = "cannot create a signature context";
    return false;
  }
  // A preset signKey makes xmlsec skip KeyInfo: a key carried in the message is never used.
  ctx->signKey = xmlSecKeyDuplicate(key.key.get());
  enable_signature_algorithms(ctx);
  last_xmlsec_error.clear();
  int rc = ctx->signKey == nullptr ? -1 : xmlSecDSigCtxVerify(ctx, signature);
  bool ok = rc == 0 && ctx->status == xmlSecDSigStatusSucceeded &&
            xmlSecPtrListGetSize(&ctx->signedInfoReferences) == 1;
  if (!ok) {
    reason = rc != 0 ? xmlsec_error("verify", key.name).message
                     : "the signature value does not match (with the key of " + key.name + ")";
  }
  xmlSecDSigCtxDestroy(ctx);
  return ok;
}

Result<xmlNode*> only_encrypted_key(xmlNode* encrypted, xmlNode* data) {
  std::vector<xmlNode*> keys = xml::children(encrypted, xml::kXencNs, "EncryptedKey");
  for (xmlNode* info : xml::children(data, xml::kDsigNs, "KeyInfo")) {
    for (xmlNode* key : xml::children(info, xml::kXencNs, "EncryptedKey")) keys.push_back(key);
  }
  if (keys.size() != 1) {
    return make_error(ErrorCode::refused, "the encrypted assertion has " +
                                              std::to_string(keys.size()) +
                                              " encrypted keys where exactly one is allowed");
  }
  return keys[0];
}

Status check_encryption_method(xmlNode* node, bool data) {
  auto methods = xml::children(node, xml::kXencNs, "EncryptionMethod");
  std::string algorithm = methods.size() == 1 ? algorithm_of(methods[0]) : "(none)";
  if (data && !allowed(kDataEncryptions, algorithm)) {
    return make_error(ErrorCode::refused,
                      "data encryption " + algorithm + " is not allowed (AES-GCM only)");
  }
  if (!data && !allowed(kKeyTransports, algorithm)) {
    return make_error(ErrorCode::refused,
                      "key transport " + algorithm + " is not allowed (RSA-OAEP only)");
  }
  return {};
}

void enable(xmlSecEncCtxPtr ctx, std::initializer_list<xmlSecTransformId> ids) {
  for (auto id : ids) xmlSecPtrListAdd(&ctx->transformCtx.enabledTransforms, as_list_item(id));
}

// The session key that `encrypted_key` carries, decrypted with the SP's private key.
Result<std::string> decrypt_session_key(xmlNode* encrypted_key, const XmlKey& private_key) {
  xmlSecEncCtxPtr ctx = xmlSecEncCtxCreate(nullptr);
  if (ctx == nullptr) return xmlsec_error("create a decryption context for", "the key");
  ctx->encKey = xmlSecKeyDuplicate(private_key.key.get());
  ctx->mode = xmlEncCtxModeEncryptedKey;
  enable(ctx, {xmlSecTransformRsaOaepId, xmlSecTransformBase64Id, xmlSecTransformSha1Id,
               xmlSecTransformSha256Id});
  last_xmlsec_error.clear();
  xmlSecBufferPtr plain = xmlSecEncCtxDecryptToBuffer(ctx, encrypted_key);
  Result<std::string> out = make_error(ErrorCode::refused, "");
  if (plain == nullptr) {
    out = xmlsec_error("decrypt the session key with", private_key.name);
  } else {
    out = std::string(reinterpret_cast<const char*>(xmlSecBufferGetData(plain)),
                      xmlSecBufferGetSize(plain));
  }
  xmlSecEncCtxDestroy(ctx);
  return out;
}

Status decrypt_data(xmlNode* data, const std::string& session_key) {
  xmlSecKeyPtr aes = xmlSecKeyReadMemory(xmlSecKeyDataAesId,
                                         reinterpret_cast<const xmlSecByte*>(session_key.data()),
                                         static_cast<xmlSecSize>(session_key.size()));
  if (aes == nullptr) return xmlsec_error("read the session key", "as AES");
  xmlSecEncCtxPtr ctx = xmlSecEncCtxCreate(nullptr);
  if (ctx == nullptr) {
    xmlSecKeyDestroy(aes);
    return xmlsec_error("create a decryption context for", "the assertion");
  }
  ctx->encKey = aes;
  ctx->mode = xmlEncCtxModeEncryptedData;
  enable(ctx, {xmlSecTransformAes128GcmId, xmlSecTransformAes192GcmId, xmlSecTransformAes256GcmId,
               xmlSecTransformBase64Id});
  last_xmlsec_error.clear();
  int rc = xmlSecEncCtxDecrypt(ctx, data);
  bool replaced = rc == 0 && ctx->resultReplaced != 0;
  Status status;
  if (!replaced) status = xmlsec_error("decrypt", "the assertion");
  xmlSecEncCtxDestroy(ctx);
  return status;
}

}  // namespace

void KeyFree::operator()(_xmlSecKey* key) const {
  xmlSecKeyDestroy(key);
}

Status xmlsec_ready() {
  static std::once_flag once;
  static Status status;
  std::call_once(once, [] {
    xmlInitParser();
    if (xmlSecInit() < 0 || xmlSecCheckVersion() != 1) {
      status = make_error(ErrorCode::crypto, "xmlsec: cannot initialise the library");
    } else if (xmlSecCryptoAppInit(nullptr) < 0 || xmlSecCryptoInit() < 0) {
      status = make_error(ErrorCode::crypto, "xmlsec: cannot initialise its OpenSSL backend");
    }
    // After xmlSecInit, which installs its own printing callback.
    xmlSecErrorsSetCallback(capture_xmlsec_error);
  });
  return status;
}

Error xmlsec_error(std::string_view operation, std::string_view object) {
  std::string reason = last_xmlsec_error.empty() ? "failed" : last_xmlsec_error;
  return make_error(ErrorCode::crypto, "xmlsec: " + std::string(operation) + " " +
                                           std::string(object) + ": " + reason);
}

namespace {

Result<XmlKey> load_key(std::string_view pem, xmlSecKeyDataFormat format, std::string_view name) {
  Status ready = xmlsec_ready();
  if (!ready) return ready.error();
  last_xmlsec_error.clear();
  xmlSecKeyPtr key = xmlSecCryptoAppKeyLoadMemory(reinterpret_cast<const xmlSecByte*>(pem.data()),
                                                  static_cast<xmlSecSize>(pem.size()), format,
                                                  nullptr, nullptr, nullptr);
  if (key == nullptr) return xmlsec_error("load the key of", name);
  return XmlKey{std::unique_ptr<_xmlSecKey, KeyFree>(key), std::string(name)};
}

}  // namespace

Result<XmlKey> key_from_certificate_pem(std::string_view pem, std::string_view name) {
  return load_key(pem, xmlSecKeyDataFormatCertPem, name);
}

Result<XmlKey> private_key_from_pem(std::string_view pem, std::string_view name) {
  return load_key(pem, xmlSecKeyDataFormatPem, name);
}

Result<xmlNode*> enveloped_signature(xmlNode* element, std::string_view what) {
  auto signatures = xml::children(element, xml::kDsigNs, "Signature");
  if (signatures.size() > 1) return refused(what, "more than one signature");
  return signatures.empty() ? nullptr : signatures[0];
}

Status verify_enveloped(xmlNode* element, xmlNode* signature,
                        const std::vector<const XmlKey*>& trusted, std::string_view what) {
  Status shape = check_shape(element, signature, what);
  if (!shape) return shape;
  if (trusted.empty()) return refused(what, "no key is trusted to verify the signature");

  std::string reason;
  for (const XmlKey* key : trusted) {
    if (verifies_with(signature, *key, reason)) return {};
  }
  return refused(what, "the signature does not verify: " + reason);
}

Result<xmlNode*> decrypt_element(xmlNode* encrypted, const XmlKey& private_key) {
  auto datas = xml::children(encrypted, xml::kXencNs, "EncryptedData");
  if (datas.size() != 1) {
    return make_error(ErrorCode::refused, "the encrypted assertion holds " +
                                              std::to_string(datas.size()) +
                                              " EncryptedData where exactly one is allowed");
  }
  xmlNode* data = datas[0];
  auto type = xml::attribute(data, "Type");
  if (type && *type != kElementType) {
    return make_error(ErrorCode::refused, "encrypted data of type " + *type + " is not allowed");
  }
  Status data_method = check_encryption_method(data, true);
  if (!data_method) return data_method.error();

  auto key_node = only_encrypted_key(encrypted, data);
  if (!key_node) return key_node.error();
  Status key_method = check_encryption_method(key_node.value(), false);
  if (!key_method) return key_method.error();

  auto session_key = decrypt_session_key(key_node.value(), private_key);
  if (!session_key) return session_key.error();
  Status decrypted = decrypt_data(data, session_key.value());
  OPENSSL_cleanse(session_key->data(), session_key->size());
  if (!decrypted) return decrypted.error();

  std::vector<xmlNode*> plain;
  for (xmlNode* child : xml::element_children(encrypted)) {
    if (!xml::is(child, xml::kXencNs, "EncryptedKey")) plain.push_back(child);
  }
  if (plain.size() != 1) {
    return make_error(ErrorCode::refused, "the decrypted assertion holds " +
                                              std::to_string(plain.size()) + " elements");
  }
  return plain[0];
}

}  // namespace tutelle::identity
