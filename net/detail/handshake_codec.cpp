#include "net/detail/handshake_codec.hpp"

#include <capnp/message.h>

#include "net/message.hpp"

namespace tutelle::net::detail {

namespace {

capnp::Data::Reader as_data(std::string_view bytes) {
  return {reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size()};
}

std::string from_data(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}

std::string from_text(capnp::Text::Reader text) {
  return std::string(text.begin(), text.size());
}

void build(wire::Message::Builder root, const Hello& hello) {
  auto out = root.initHello();
  out.setVersion(hello.version);
  out.setRole(static_cast<wire::Role>(hello.role));
  out.setNodeKey(as_data(hello.node_key));
}

void build(wire::Message::Builder root, const Challenge& challenge) {
  auto out = root.initChallenge();
  out.setVersion(challenge.version);
  out.setNonce(as_data(challenge.nonce));
  out.setHubKey(as_data(challenge.hub_key));
}

void build(wire::Message::Builder root, const Auth& auth) {
  root.initAuth().setSignature(as_data(auth.signature));
}

void build(wire::Message::Builder root, const Welcome& welcome) {
  root.initWelcome().setEstablishment(welcome.establishment);
}

void build(wire::Message::Builder root, const Refuse& refuse) {
  root.initRefuse().setReason(refuse.reason);
}

// Runs inside read_message(): may throw kj::Exception, which becomes Error corrupt there.
Result<HandshakeMessage> extract(wire::Message::Reader message, std::string_view what) {
  switch (message.which()) {
    case wire::Message::HELLO: {
      auto in = message.getHello();
      return HandshakeMessage{Hello{in.getVersion(), static_cast<std::uint16_t>(in.getRole()),
                                    from_data(in.getNodeKey())}};
    }
    case wire::Message::CHALLENGE: {
      auto in = message.getChallenge();
      return HandshakeMessage{
          Challenge{in.getVersion(), from_data(in.getNonce()), from_data(in.getHubKey())}};
    }
    case wire::Message::AUTH:
      return HandshakeMessage{Auth{from_data(message.getAuth().getSignature())}};
    case wire::Message::WELCOME:
      return HandshakeMessage{Welcome{from_text(message.getWelcome().getEstablishment())}};
    case wire::Message::REFUSE:
      return HandshakeMessage{Refuse{from_text(message.getRefuse().getReason())}};
    default:  // a sync message, or a member of a newer protocol
      break;
  }
  return make_error(ErrorCode::corrupt,
                    std::string(what) + ": not a handshake message (union member " +
                        std::to_string(static_cast<unsigned>(message.which())) + ")");
}

}  // namespace

std::string encode(const HandshakeMessage& message) {
  capnp::MallocMessageBuilder builder;
  auto root = builder.initRoot<wire::Message>();
  std::visit([&](const auto& body) { build(root, body); }, message);
  return encode_message(builder);
}

Result<HandshakeMessage> decode_handshake_message(std::string_view payload, std::string_view what) {
  return read_message(payload, what,
                      [what](wire::Message::Reader message) { return extract(message, what); });
}

const char* message_name(const HandshakeMessage& message) {
  static const char* const names[] = {"a hello", "a challenge", "an auth", "a welcome",
                                      "a refusal"};
  return names[message.index()];
}

}  // namespace tutelle::net::detail
