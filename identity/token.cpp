#include "identity/token.hpp"

#include <sodium.h>
#include <nlohmann/json.hpp>

#include "identity/encoding.hpp"

namespace tutelle::identity {

namespace {

constexpr std::int64_t kFutureSkewSeconds = 60;

Error corrupt(const std::string& reason) {
  return make_error(ErrorCode::corrupt, "token: " + reason);
}

Error refused(const std::string& reason) {
  return make_error(ErrorCode::refused, "token: " + reason);
}

Result<SessionClaims> decode_claims(const std::string& json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return corrupt("the claims are not a JSON object");
  try {
    SessionClaims claims;
    claims.principal = doc.at("sub").get<std::string>();
    claims.establishment = doc.at("est").get<std::string>();
    claims.habilitations = doc.at("hab").get<std::vector<std::string>>();
    claims.status = doc.at("st").get<std::string>();
    claims.audience = doc.at("aud").get<std::string>();
    claims.issued_at = doc.at("iat").get<std::int64_t>();
    claims.expires = doc.at("exp").get<std::int64_t>();
    claims.token_id = doc.at("jti").get<std::string>();
    return claims;
  } catch (const nlohmann::json::exception& error) {
    return corrupt(std::string("a claim is missing or mistyped: ") + error.what());
  }
}

Status check_claims(const SessionClaims& claims, std::string_view audience, std::int64_t now,
                    const std::set<std::string>& revoked) {
  if (claims.audience != audience) {
    return refused("meant for " + claims.audience + ", not " + std::string(audience));
  }
  if (now >= claims.expires) return refused("expired at " + std::to_string(claims.expires));
  if (claims.issued_at > now + kFutureSkewSeconds) return refused("issued in the future");
  if (revoked.count(claims.token_id) > 0)
    return refused("the token " + claims.token_id + " is revoked");
  if (revoked.count(claims.principal) > 0) {
    return refused("the account " + claims.principal + " is rejected");
  }
  return {};
}

}  // namespace

SessionClaims new_claims(std::string principal, std::string establishment,
                         std::vector<std::string> habilitations, std::string status,
                         std::string audience, std::int64_t now, std::int64_t lifetime_seconds) {
  std::uint8_t id[16];
  randombytes_buf(id, sizeof id);
  return SessionClaims{std::move(principal),   std::move(establishment), std::move(habilitations),
                       std::move(status),      std::move(audience),      now,
                       now + lifetime_seconds, to_hex(id, sizeof id)};
}

std::string issue_session_token(const KeyPair& hub, const SessionClaims& claims) {
  nlohmann::json doc = {
      {"sub", claims.principal}, {"est", claims.establishment}, {"hab", claims.habilitations},
      {"st", claims.status},     {"aud", claims.audience},      {"iat", claims.issued_at},
      {"exp", claims.expires},   {"jti", claims.token_id},
  };
  std::string signed_part = std::string(kTokenPrefix) + base64url_encode(doc.dump());
  Signature signature = sign(hub, kTokenContext, signed_part);
  std::string_view raw(reinterpret_cast<const char*>(signature.data()), signature.size());
  return signed_part + "." + base64url_encode(raw);
}

Result<SessionClaims> verify_session_token(std::string_view token, const PublicKey& hub,
                                           std::string_view audience, std::int64_t now_unix,
                                           const std::set<std::string>& revoked) {
  if (token.substr(0, kTokenPrefix.size()) != kTokenPrefix) return corrupt("not a tut1 token");
  auto dot = token.rfind('.');
  if (dot < kTokenPrefix.size()) return corrupt("no signature");
  std::string_view signed_part = token.substr(0, dot);

  // The signature first: nothing of an unverified token is decoded.
  auto raw = base64url_decode(token.substr(dot + 1));
  if (!raw || raw->size() != Signature{}.size()) return corrupt("the signature is malformed");
  Signature signature{};
  std::copy(raw->begin(), raw->end(), reinterpret_cast<char*>(signature.data()));
  if (!verify(hub, kTokenContext, signed_part, signature)) {
    return refused("the signature does not verify with the hub's key");
  }

  auto json = base64url_decode(signed_part.substr(kTokenPrefix.size()));
  if (!json) return corrupt("the claims are not base64url");
  auto claims = decode_claims(json.value());
  if (!claims) return claims.error();
  Status checked = check_claims(claims.value(), audience, now_unix, revoked);
  if (!checked) return checked.error();
  return claims;
}

}  // namespace tutelle::identity
