// Tests of net/message.hpp and of the handshake messages' encoding.

#include "net/message.hpp"

#include <capnp/message.h>

#include <catch2/catch.hpp>

#include "net/detail/handshake_codec.hpp"

namespace tutelle::net {
namespace {

std::string refusal(const std::string& reason) {
  capnp::MallocMessageBuilder builder;
  builder.initRoot<wire::Message>().initRefuse().setReason(reason);
  return encode_message(builder);
}

Result<std::string> read_reason(std::string_view payload, int times = 1) {
  return read_message(payload, "a refusal from test",
                      [times](wire::Message::Reader message) -> Result<std::string> {
                        std::string reason;
                        for (int i = 0; i < times; ++i) {
                          reason = message.getRefuse().getReason().cStr();
                        }
                        return reason;
                      });
}

TEST_CASE("an encoded message decodes to what was encoded") {
  Result<std::string> reason = read_reason(refusal("not enrolled"));
  REQUIRE(reason.ok());
  CHECK(*reason == "not enrolled");
}

TEST_CASE("bytes that are not a Cap'n Proto message are refused as corrupt") {
  for (std::string garbage : {std::string(), std::string("seven b"),
                              std::string("\xff\xff\xff\x7f"
                                          "abcd",
                                          8),
                              std::string(64, 'x')}) {
    Result<std::string> reason = read_reason(garbage);
    REQUIRE_FALSE(reason.ok());
    CHECK(reason.error().code == ErrorCode::corrupt);
    CHECK_THAT(reason.error().message, Catch::StartsWith("a refusal from test: "));
  }
}

TEST_CASE("bytes after the end of a message are refused") {
  Result<std::string> reason = read_reason(refusal("fine") + std::string(8, '\0'));
  REQUIRE_FALSE(reason.ok());
  CHECK_THAT(reason.error().message, Catch::Contains("bytes follow the end of the message"));
}

TEST_CASE("reading a message far beyond its own size hits the traversal limit") {
  std::string payload = refusal(std::string(4000, 'r'));
  CHECK(read_reason(payload, 2).ok());

  Result<std::string> reason = read_reason(payload, 50);
  REQUIRE_FALSE(reason.ok());
  CHECK(reason.error().code == ErrorCode::corrupt);
  CHECK_THAT(reason.error().message, Catch::Contains("traversal limit"));
}

TEST_CASE("the traversal limit grows with the frame and nesting stops at 16") {
  CHECK(reader_options(8000).traversalLimitInWords == 4000);
  CHECK(reader_options(0).traversalLimitInWords == 64);
  CHECK(reader_options(8000).nestingLimit == 16);
}

TEST_CASE("every handshake message survives encoding and decoding") {
  using namespace detail;
  std::string key(32, '\x01');
  for (const HandshakeMessage& sent :
       {HandshakeMessage{Hello{1, 1, key}},
        HandshakeMessage{Challenge{1, std::string(32, 'n'), key}},
        HandshakeMessage{Auth{std::string(64, 's')}}, HandshakeMessage{Welcome{"univ-exemple"}},
        HandshakeMessage{Refuse{"why not"}}}) {
    Result<HandshakeMessage> received = decode_handshake_message(encode(sent), "a test");
    REQUIRE(received.ok());
    REQUIRE(received->index() == sent.index());
    CHECK(encode(*received) == encode(sent));
  }
}

}  // namespace
}  // namespace tutelle::net
