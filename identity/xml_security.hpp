#pragma once
// XML Signature and XML Encryption through libxmlsec1 (OpenSSL backend), restricted to what a
// careful SAML service provider accepts:
//
//   signatures   exclusive c14n (without comments) as canonicalisation and as the one transform
//                beside enveloped-signature; SHA-256 or SHA-512 digests; RSA or ECDSA with
//                SHA-256 or SHA-512. Exactly one Reference, to the ID of the signature's parent.
//                The key is always the caller's (from metadata): KeyInfo is never read.
//   encryption   AES-GCM (128, 192, 256) for the data, RSA-OAEP for the key.
//
// Thread-safety: call xmlsec_ready() once before any other function (it is idempotent and
// thread-safe); afterwards distinct documents may be processed on distinct threads.

#include <libxml/tree.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/result.hpp"

// xmlsec's key type, kept opaque here so that callers need not see xmlsec's headers.
struct _xmlSecKey;

namespace tutelle::identity {

Status xmlsec_ready();

// The message of xmlsec's last error on this thread, named by `operation` and `object`.
Error xmlsec_error(std::string_view operation, std::string_view object);

struct KeyFree {
  void operator()(_xmlSecKey* key) const;
};
// A key that xmlsec can use; `name` says whose it is in error messages.
struct XmlKey {
  std::unique_ptr<_xmlSecKey, KeyFree> key;
  std::string name;
};

// The public key of a PEM certificate (metadata certificates become PEM first).
Result<XmlKey> key_from_certificate_pem(std::string_view pem, std::string_view name);
// A PEM private key (PKCS#8 or traditional), for decryption.
Result<XmlKey> private_key_from_pem(std::string_view pem, std::string_view name);

// The ds:Signature children of `element`. More than one is refused; none yields nullptr.
Result<xmlNode*> enveloped_signature(xmlNode* element, std::string_view what);

// Verifies `signature`, a direct child of `element`, against the keys in `trusted` (any one
// suffices: IdPs roll keys over). REQUIRES: the document's IDs were registered with
// xml::register_unique_ids, so that "#id" names exactly one element. Each refusal names its
// reason: a foreign element in the signature, an algorithm not allowed, a reference count other
// than one, a reference to anything but `element`, or a value that does not verify.
Status verify_enveloped(xmlNode* element, xmlNode* signature,
                        const std::vector<const XmlKey*>& trusted, std::string_view what);

// Replaces the xenc:EncryptedData child of `encrypted` (a saml:EncryptedAssertion) by its
// plaintext, decrypting the session key in the one xenc:EncryptedKey (inside the data's
// KeyInfo or beside it) with `private_key`. Returns `encrypted`'s one element child that the
// plaintext put there. Refuses algorithms outside AES-GCM / RSA-OAEP.
Result<xmlNode*> decrypt_element(xmlNode* encrypted, const XmlKey& private_key);

}  // namespace tutelle::identity
