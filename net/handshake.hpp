#pragma once
// The handshake that opens every connection, right after TLS: the node proves it holds an
// enrolled Ed25519 key by signing the hub's fresh nonce together with the fingerprint of the
// hub's certificate on this connection. Messages, and the exact bytes signed, are described
// in protocol/wire.capnp.
//
// Usage, on the hub, first thing in the accept_loop handler:
//   Result<NodeIdentity> node = co_await hub_handshake(connection, hub_keys.public_key,
//                                                      enrolled_establishment);
//   if (!node) { co_await connection.close(); co_return; }  // refused and logged already
// On a node, right after connect():
//   Result<HubIdentity> hub = co_await node_handshake(*connection, node_keys, PeerRole::node);
//
// Both log one line with the outcome. On failure the side that refused has sent `refuse`
// with the reason (when the connection still worked); the caller closes the connection.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio/awaitable.hpp>

#include "identity/keys.hpp"
#include "net/connection.hpp"
#include "protocol/result.hpp"

namespace tutelle::net {

inline constexpr std::uint16_t kProtocolVersion = 1;

// The context string of the node's signature (see identity::sign).
inline constexpr std::string_view kAuthContext = "tutelle/auth/1";

// How long each side waits for each message of the handshake.
inline constexpr std::chrono::milliseconds kHandshakeTimeout{10'000};

// What a peer says it is. The hub takes it from the hello; it does not check it against the
// enrolment.
// TODO(security): the enrolment check sees only the key; a key enrolled for a node can
// claim the partner role and the reverse. Pass the role to the check once enrolment has one.
enum class PeerRole { node, partner };

const char* to_string(PeerRole role);

using Nonce = std::array<std::uint8_t, 32>;

// What the hub learns of a node that passed the handshake.
struct NodeIdentity {
  identity::PublicKey node_key{};
  PeerRole role = PeerRole::node;
  std::string establishment;
};

// What a node learns of the hub that welcomed it.
struct HubIdentity {
  identity::PublicKey hub_key{};
  std::string establishment;  // the one the node's key is enrolled for
};

// Gives the establishment `key` is enrolled for, or the Error to refuse it with. Its message
// is sent to the node as the reason, except for storage and internal errors, which the hub
// keeps to itself.
using EnrolmentCheck = std::function<Result<std::string>(const identity::PublicKey& key)>;

// The message the node signs under kAuthContext: the nonce's 32 bytes, then the 64 ASCII
// characters of the hub certificate's fingerprint.
std::string auth_message(const Nonce& nonce, std::string_view hub_fingerprint);

// The hub's side. `enrolled` is called once, on the connection's executor, after the node's
// signature verified.
boost::asio::awaitable<Result<NodeIdentity>> hub_handshake(
    Connection& connection, identity::PublicKey hub_key, EnrolmentCheck enrolled,
    std::chrono::milliseconds timeout = kHandshakeTimeout);

// The node's side. REQUIRES: `node_keys` outlives the handshake (it is not copied, so the
// secret key stays where the caller keeps it).
boost::asio::awaitable<Result<HubIdentity>> node_handshake(
    Connection& connection, const identity::KeyPair& node_keys, PeerRole role,
    std::chrono::milliseconds timeout = kHandshakeTimeout);

}  // namespace tutelle::net
