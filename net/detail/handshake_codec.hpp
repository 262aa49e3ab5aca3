#pragma once
// The handshake messages of protocol/wire.capnp as plain values, and their encoding. Internal
// to net/ (and its tests, which build messages a well-behaved peer would not send).
//
// Fields are kept as received: lengths and the version are checked by the handshake, in the
// order that gives the clearest refusal (a peer of another version may shape keys otherwise).

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "protocol/result.hpp"

namespace tutelle::net::detail {

struct Hello {
  std::uint16_t version = 0;
  std::uint16_t role = 0;  // a wire::Role; a newer peer may send one we do not know
  std::string node_key;    // raw bytes
};

struct Challenge {
  std::uint16_t version = 0;
  std::string nonce;
  std::string hub_key;
};

struct Auth {
  std::string signature;
};

struct Welcome {
  std::string establishment;
};

struct Refuse {
  std::string reason;
};

using HandshakeMessage = std::variant<Hello, Challenge, Auth, Welcome, Refuse>;

std::string encode(const HandshakeMessage& message);

// Decodes one frame's payload; Error corrupt when it does not decode or is not a handshake
// message. `what` names the sender in errors ("a frame from 127.0.0.1:5000").
Result<HandshakeMessage> decode_handshake_message(std::string_view payload, std::string_view what);

// "a hello", "a challenge"…, for errors.
const char* message_name(const HandshakeMessage& message);

}  // namespace tutelle::net::detail
