#pragma once
// Signing changesets and verifying received ones. Verification checks the Ed25519 signature
// over the hash of the raw body bytes before anything of the body is decoded (see
// protocol/tutelle.capnp).

#include <string>
#include <string_view>

#include "identity/keys.hpp"
#include "protocol/codec.hpp"

namespace tutelle::identity {

struct VerifiedChangeset {
  Changeset changeset;
  HashBytes hash{};          // BLAKE2b-256 of the body
  std::string signed_bytes;  // the SignedChangeset as received
};

// Encodes, signs and wraps `changeset`; returns the SignedChangeset bytes and the body hash.
std::pair<std::string, HashBytes> sign_changeset(const KeyPair& keys, const Changeset& changeset);

// Decodes the envelope, checks the signature with the envelope's origin, then decodes the body
// (traversal limits set) and checks that its origin is the envelope's. Error corrupt names
// which step failed.
Result<VerifiedChangeset> verify_changeset(std::string_view signed_bytes);

}  // namespace tutelle::identity
