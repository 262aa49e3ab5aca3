#pragma once
// Encoding of changesets and record states (protocol/tutelle.capnp), canonical for what is
// hashed and signed. Decoders take untrusted bytes: they set traversal limits and return an
// Error instead of throwing.

#include <string>
#include <string_view>

#include "protocol/model.hpp"
#include "protocol/result.hpp"

namespace tutelle {

// The context string of changeset signatures (see tutelle.capnp).
inline constexpr const char* kChangesetSignatureContext = "tutelle/changeset/1";

// The body of a changeset: its canonical encoding, packed, deflated (tutelle.capnp).
std::string encode_changeset_body(const Changeset& changeset);
Result<Changeset> decode_changeset_body(std::string_view bytes);

// BLAKE2b-256 of `bytes`.
HashBytes blake2b_256(std::string_view bytes);

// A changeset as it travels and is logged: origin, body, signature.
struct SignedChangeset {
  KeyBytes origin{};
  std::string body;
  std::array<std::uint8_t, 64> signature{};
};

std::string encode_signed(const SignedChangeset& signed_changeset);
Result<SignedChangeset> decode_signed(std::string_view bytes);

std::string encode_record(const RecordState& record);
Result<RecordState> decode_record(std::string_view bytes);

std::string hex(const std::uint8_t* bytes, std::size_t size);
template <std::size_t N>
std::string hex(const std::array<std::uint8_t, N>& bytes) {
  return hex(bytes.data(), N);
}

}  // namespace tutelle
