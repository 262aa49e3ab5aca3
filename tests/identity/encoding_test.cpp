// The encodings of the SAML bindings and of tokens.
#include "identity/encoding.hpp"

#include <catch2/catch.hpp>

using namespace tutelle::identity;

TEST_CASE("base64 round-trips and tolerates the line breaks IdPs insert") {
  CHECK(base64_encode("hello!?") == "aGVsbG8hPw==");
  CHECK(base64_decode("aGVs\nbG8h\r\nPw==").value() == "hello!?");
  CHECK_FALSE(base64_decode("aGVs*").ok());
}

TEST_CASE("base64url has no padding and refuses plain base64's characters") {
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  CHECK(base64url_decode("-_8").value() == "\xfb\xff");
  CHECK_FALSE(base64url_decode("+/8=").ok());
}

TEST_CASE("a form with a repeated field is refused") {
  auto form = parse_form("SAMLResponse=a%2Bb&RelayState=x+y");
  REQUIRE(form.ok());
  CHECK(form->at("SAMLResponse") == "a+b");
  CHECK(form->at("RelayState") == "x y");
  CHECK_FALSE(parse_form("SAMLResponse=a&SAMLResponse=b").ok());
  CHECK_FALSE(parse_form("a=%4").ok());
}

TEST_CASE("URL encoding keeps only unreserved characters") {
  CHECK(url_encode("a b/+=~") == "a%20b%2F%2B%3D~");
}
