// Session tokens: issued by the hub, verified offline by a node.
#include "identity/token.hpp"

#include <catch2/catch.hpp>

#include "identity/encoding.hpp"

using namespace tutelle;
using namespace tutelle::identity;

namespace {

struct Hub {
  Hub() {
    REQUIRE(sodium_ready().ok());
    keys = generate_key_pair();
  }
  KeyPair keys;
};

SessionClaims alice(std::int64_t now = 1000) {
  return new_claims("alice@univ-test.fr", "0751234A", {"researcher@uai:0751234A"},
                    "to_be_confirmed", "node-1", now, 900);
}

std::string refusal(const Result<SessionClaims>& result) {
  REQUIRE_FALSE(result.ok());
  return result.error().message;
}

}  // namespace

TEST_CASE("a token issued by the hub is accepted by a node with every claim") {
  Hub hub;
  std::string token = issue_session_token(hub.keys, alice());
  auto claims = verify_session_token(token, hub.keys.public_key, "node-1", 1100, {});
  REQUIRE(claims.ok());
  CHECK(claims->principal == "alice@univ-test.fr");
  CHECK(claims->establishment == "0751234A");
  CHECK(claims->habilitations == std::vector<std::string>{"researcher@uai:0751234A"});
  CHECK(claims->status == "to_be_confirmed");
  CHECK(claims->issued_at == 1000);
  CHECK(claims->expires == 1900);
  CHECK(claims->token_id.size() == 32);
}

TEST_CASE("an expired token is refused") {
  Hub hub;
  std::string token = issue_session_token(hub.keys, alice());
  CHECK_THAT(refusal(verify_session_token(token, hub.keys.public_key, "node-1", 1900, {})),
             Catch::Contains("expired"));
}

TEST_CASE("a token for another audience is refused") {
  Hub hub;
  std::string token = issue_session_token(hub.keys, alice());
  CHECK_THAT(refusal(verify_session_token(token, hub.keys.public_key, "node-2", 1100, {})),
             Catch::Contains("meant for node-1"));
}

TEST_CASE("an altered token is refused") {
  Hub hub;
  std::string token = issue_session_token(hub.keys, alice());
  std::string claims = base64url_decode(token.substr(5, token.rfind('.') - 5)).value();
  claims.replace(claims.find("researcher"), 10, "admin12345");
  std::string altered = "tut1." + base64url_encode(claims) + token.substr(token.rfind('.'));
  CHECK_THAT(refusal(verify_session_token(altered, hub.keys.public_key, "node-1", 1100, {})),
             Catch::Contains("does not verify"));
}

TEST_CASE("a token signed by another key is refused") {
  Hub hub;
  Hub other;
  std::string token = issue_session_token(other.keys, alice());
  CHECK_THAT(refusal(verify_session_token(token, hub.keys.public_key, "node-1", 1100, {})),
             Catch::Contains("does not verify"));
}

TEST_CASE("a token of a rejected principal or a revoked token id is refused") {
  Hub hub;
  SessionClaims claims = alice();
  std::string token = issue_session_token(hub.keys, claims);
  CHECK_THAT(refusal(verify_session_token(token, hub.keys.public_key, "node-1", 1100,
                                          {"alice@univ-test.fr"})),
             Catch::Contains("is rejected"));
  CHECK_THAT(
      refusal(verify_session_token(token, hub.keys.public_key, "node-1", 1100, {claims.token_id})),
      Catch::Contains("is revoked"));
}

TEST_CASE("a token that is not one is refused as corrupt") {
  Hub hub;
  for (std::string bad : {"", "tut1.", "tut1.abc", "jwt.abc.def", "tut1.abc.!!"}) {
    auto result = verify_session_token(bad, hub.keys.public_key, "node-1", 1100, {});
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::corrupt);
  }
}

TEST_CASE("a token issued in the future is refused") {
  Hub hub;
  std::string token = issue_session_token(hub.keys, alice(5000));
  CHECK_THAT(refusal(verify_session_token(token, hub.keys.public_key, "node-1", 1100, {})),
             Catch::Contains("in the future"));
}
