#pragma once
// Session tokens: what the hub gives a person after a federation login, and what a node checks
// offline, with the hub's public key (got at `join`), before it serves them.
//
// Format: "tut1." base64url(CLAIMS) "." base64url(SIGNATURE), base64url without padding, where
//   CLAIMS is a UTF-8 JSON object with exactly these members:
//     "sub"  principal (eduPersonPrincipalName)      "est" establishment (UAI)
//     "hab"  habilitations, "profile@perimeter" strings, the perimeter a record id as in
//            habilitation records: "researcher@uai:0339901H", "unit_director@rnsr:202199101G"
//     "st"   account status: "active" or "to_be_confirmed"
//     "aud"  who the token is for (a node id, or "tutelle")
//     "iat"  issued at, Unix seconds    "exp" expires, Unix seconds (exclusive)
//     "jti"  token id, 32 hex digits
//   SIGNATURE is the 64-byte Ed25519 signature (identity::sign) with context kTokenContext over
//   the ASCII bytes "tut1." base64url(CLAIMS), exactly as they appear in the token.
// The signature is checked before the claims are decoded.

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "identity/keys.hpp"
#include "protocol/result.hpp"

namespace tutelle::identity {

inline constexpr std::string_view kTokenContext = "tutelle session token v1";
inline constexpr std::string_view kTokenPrefix = "tut1.";

struct SessionClaims {
  std::string principal;
  std::string establishment;
  std::vector<std::string> habilitations;
  std::string status = "active";  // or "to_be_confirmed"
  std::string audience;
  std::int64_t issued_at = 0;
  std::int64_t expires = 0;
  std::string token_id;
};

// Fresh claims: a random token id, issued `now`, expiring `lifetime_seconds` later.
SessionClaims new_claims(std::string principal, std::string establishment,
                         std::vector<std::string> habilitations, std::string status,
                         std::string audience, std::int64_t now, std::int64_t lifetime_seconds);

std::string issue_session_token(const KeyPair& hub, const SessionClaims& claims);

// Accepts `token` only when its signature verifies with `hub`, its audience is `audience`,
// `issued_at` at most a minute after `now_unix`, `now_unix < expires`, and neither its token id nor
// its principal is in `revoked` (the hub publishes rejected principals there; a revoked token id
// works too). Every refusal is ErrorCode::refused (or corrupt for a token that does not decode)
// with its reason.
Result<SessionClaims> verify_session_token(std::string_view token, const PublicKey& hub,
                                           std::string_view audience, std::int64_t now_unix,
                                           const std::set<std::string>& revoked);

}  // namespace tutelle::identity
