#include "identity/changeset_signature.hpp"

namespace tutelle::identity {

namespace {

std::string_view as_view(const HashBytes& hash) {
  return {reinterpret_cast<const char*>(hash.data()), hash.size()};
}

}  // namespace

std::pair<std::string, HashBytes> sign_changeset(const KeyPair& keys, const Changeset& changeset) {
  SignedChangeset envelope{changeset.origin, encode_changeset_body(changeset), {}};
  HashBytes hash = blake2b_256(envelope.body);
  envelope.signature = sign(keys, kChangesetSignatureContext, as_view(hash));
  return {encode_signed(envelope), hash};
}

Result<VerifiedChangeset> verify_changeset(std::string_view signed_bytes) {
  auto envelope = decode_signed(signed_bytes);
  if (!envelope) return envelope.error();
  HashBytes hash = blake2b_256(envelope->body);
  if (!verify(envelope->origin, kChangesetSignatureContext, as_view(hash), envelope->signature)) {
    return make_error(ErrorCode::corrupt,
                      "changeset signature does not verify with origin " + hex(envelope->origin));
  }
  auto body = decode_changeset_body(envelope->body);
  if (!body) return body.error();
  if (body->origin != envelope->origin) {
    return make_error(ErrorCode::corrupt, "changeset body names origin " + hex(body->origin) +
                                              " but was signed by " + hex(envelope->origin));
  }
  return VerifiedChangeset{std::move(body.value()), hash, std::string(signed_bytes)};
}

}  // namespace tutelle::identity
