#include "net/handshake.hpp"

#include <sodium.h>

#include <cstring>
#include <optional>
#include <utility>

#include "net/detail/handshake_codec.hpp"
#include "net/log.hpp"
#include "protocol/wire.capnp.h"

namespace tutelle::net {

namespace asio = boost::asio;
using asio::awaitable;
using namespace detail;

// Messages are encoded into named locals before they are written. GCC 12 destroys twice a
// braced temporary (`Hello{…}`), or a lambda owning non-trivial captures, passed as an
// argument inside a co_await expression; a named local is destroyed once.

namespace {

constexpr std::string_view kComponent = "net";

// A peer's refusal reason is shown to our operator; past this many bytes it is cut.
constexpr std::size_t kShownReasonBytes = 500;

template <std::size_t N>
Result<std::array<std::uint8_t, N>> fixed_bytes(const std::string& bytes, std::string_view what) {
  std::array<std::uint8_t, N> out{};
  if (bytes.size() != N) {
    return make_error(ErrorCode::corrupt, std::string(what) + " is " +
                                              std::to_string(bytes.size()) + " bytes, not " +
                                              std::to_string(N));
  }
  std::memcpy(out.data(), bytes.data(), N);
  return out;
}

std::string as_bytes(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

std::optional<PeerRole> role_from_wire(std::uint16_t role) {
  switch (static_cast<wire::Role>(role)) {
    case wire::Role::NODE: return PeerRole::node;
    case wire::Role::PARTNER: return PeerRole::partner;
  }
  return std::nullopt;
}

wire::Role role_to_wire(PeerRole role) {
  return role == PeerRole::partner ? wire::Role::PARTNER : wire::Role::NODE;
}

// The next message, which must be an `Expected`; a refusal from the peer becomes Error
// refused with its reason.
template <typename Expected>
awaitable<Result<Expected>> receive(Connection& connection, std::chrono::milliseconds timeout,
                                    std::string name) {
  Result<std::string> frame = co_await connection.read_frame(timeout);
  if (!frame) co_return frame.error();
  std::string what = name + " from " + connection.peer();
  Result<HandshakeMessage> message = decode_handshake_message(*frame, what);
  if (!message) co_return message.error();

  if (auto* refusal = std::get_if<Refuse>(&*message)) {
    std::string reason = refusal->reason.substr(0, kShownReasonBytes);
    co_return make_error(ErrorCode::refused, connection.peer() + " refused: " + reason);
  }
  if (auto* expected = std::get_if<Expected>(&*message)) co_return std::move(*expected);
  co_return make_error(ErrorCode::corrupt, "expected " + name + " from " + connection.peer() +
                                               ", got " + message_name(*message));
}

// Tells the peer why, when there is a peer left to tell, and gives `why` back.
awaitable<Error> refuse(Connection& connection, Error why, std::string reason) {
  if (why.code != ErrorCode::network) {
    std::string refusal = encode(Refuse{std::move(reason)});
    Status told = co_await connection.write_frame(refusal);
    if (!told) log::debug(kComponent, "refusal not delivered: " + told.error().message);
  }
  co_return why;
}

awaitable<Error> refuse(Connection& connection, Error why) {
  std::string reason = why.message;
  co_return co_await refuse(connection, std::move(why), std::move(reason));
}

// After receive() failed: a malformed or unexpected message is answered with a refusal; the
// peer's own refusal, or a connection gone, is not.
awaitable<Error> answer_failed_receive(Connection& connection, Error why) {
  if (why.code != ErrorCode::corrupt) co_return why;
  co_return co_await refuse(connection, std::move(why));
}

}  // namespace

const char* to_string(PeerRole role) {
  return role == PeerRole::partner ? "partner" : "node";
}

std::string auth_message(const Nonce& nonce, std::string_view hub_fingerprint) {
  return as_bytes(nonce.data(), nonce.size()) + std::string(hub_fingerprint);
}

namespace {

// The hello checked in the order that explains a refusal best: the version first, since a
// peer of another version may shape the rest otherwise.
Result<NodeIdentity> check_hello(const Hello& hello) {
  if (hello.version != kProtocolVersion) {
    return make_error(ErrorCode::refused, "peer speaks protocol version " +
                                              std::to_string(hello.version) + ", this hub speaks " +
                                              std::to_string(kProtocolVersion));
  }
  std::optional<PeerRole> role = role_from_wire(hello.role);
  if (!role) {
    return make_error(ErrorCode::corrupt, "hello: unknown role " + std::to_string(hello.role));
  }
  auto key = fixed_bytes<32>(hello.node_key, "hello: nodeKey");
  if (!key) return key.error();
  return NodeIdentity{*key, *role, ""};
}

Status check_signature(const NodeIdentity& node, const Auth& auth, const Nonce& nonce,
                       std::string_view hub_fingerprint) {
  auto signature = fixed_bytes<64>(auth.signature, "auth: signature");
  if (!signature) return signature.error();
  if (!identity::verify(node.node_key, kAuthContext, auth_message(nonce, hub_fingerprint),
                        *signature)) {
    return make_error(ErrorCode::refused, "the signature is not node key " +
                                              identity::to_hex(node.node_key) +
                                              "'s over this connection's challenge");
  }
  return {};
}

// What the node is told when the enrolment check fails: its reason, unless that is about the
// hub's own troubles.
std::string enrolment_reason(const Error& error) {
  bool ours = error.code == ErrorCode::storage || error.code == ErrorCode::internal;
  return ours ? "the hub could not check the enrolment; try again later" : error.message;
}

awaitable<Result<NodeIdentity>> run_hub_side(Connection& connection,
                                             const identity::PublicKey& hub_key,
                                             const EnrolmentCheck& enrolled,
                                             std::chrono::milliseconds timeout) {
  Result<Hello> hello = co_await receive<Hello>(connection, timeout, "a hello");
  if (!hello) co_return co_await answer_failed_receive(connection, hello.error());
  Result<NodeIdentity> node = check_hello(*hello);
  if (!node) co_return co_await refuse(connection, node.error());

  Nonce nonce{};
  randombytes_buf(nonce.data(), nonce.size());
  std::string challenge = encode(Challenge{kProtocolVersion, as_bytes(nonce.data(), nonce.size()),
                                           as_bytes(hub_key.data(), hub_key.size())});
  Status challenged = co_await connection.write_frame(challenge);
  if (!challenged) co_return challenged.error();

  Result<Auth> auth = co_await receive<Auth>(connection, timeout, "an auth");
  if (!auth) co_return co_await answer_failed_receive(connection, auth.error());
  Status verified = check_signature(*node, *auth, nonce, connection.hub_fingerprint());
  if (!verified) co_return co_await refuse(connection, verified.error());

  Result<std::string> establishment = enrolled(node->node_key);
  if (!establishment) {
    Error why{ErrorCode::refused, establishment.error().message};
    co_return co_await refuse(connection, why, enrolment_reason(establishment.error()));
  }
  node->establishment = std::move(*establishment);

  std::string welcome = encode(Welcome{node->establishment});
  Status welcomed = co_await connection.write_frame(welcome);
  if (!welcomed) co_return welcomed.error();
  co_return node;
}

}  // namespace

awaitable<Result<NodeIdentity>> hub_handshake(Connection& connection, identity::PublicKey hub_key,
                                              EnrolmentCheck enrolled,
                                              std::chrono::milliseconds timeout) {
  Status ready = identity::sodium_ready();
  if (!ready) co_return ready.error();

  Result<NodeIdentity> node = co_await run_hub_side(connection, hub_key, enrolled, timeout);
  if (!node) {
    log::warning(kComponent,
                 "handshake with " + connection.peer() + " refused: " + node.error().message);
    co_return node;
  }
  log::info(kComponent, std::string(to_string(node->role)) + " " +
                            identity::to_hex(node->node_key) + " from " + connection.peer() +
                            " authenticated for establishment " + node->establishment);
  co_return node;
}

namespace {

Result<HubIdentity> check_challenge(const Challenge& challenge, Nonce& nonce) {
  if (challenge.version != kProtocolVersion) {
    return make_error(ErrorCode::refused,
                      "peer speaks protocol version " + std::to_string(challenge.version) +
                          ", this node speaks " + std::to_string(kProtocolVersion));
  }
  auto drawn = fixed_bytes<32>(challenge.nonce, "challenge: nonce");
  if (!drawn) return drawn.error();
  auto hub_key = fixed_bytes<32>(challenge.hub_key, "challenge: hubKey");
  if (!hub_key) return hub_key.error();
  nonce = *drawn;
  return HubIdentity{*hub_key, ""};
}

awaitable<Result<HubIdentity>> run_node_side(Connection& connection, const identity::KeyPair& keys,
                                             PeerRole role, std::chrono::milliseconds timeout) {
  const auto& key = keys.public_key;
  std::string hello = encode(Hello{kProtocolVersion, static_cast<std::uint16_t>(role_to_wire(role)),
                                   as_bytes(key.data(), key.size())});
  Status greeted = co_await connection.write_frame(hello);
  if (!greeted) co_return greeted.error();

  Result<Challenge> challenge = co_await receive<Challenge>(connection, timeout, "a challenge");
  if (!challenge) co_return co_await answer_failed_receive(connection, challenge.error());
  Nonce nonce{};
  Result<HubIdentity> hub = check_challenge(*challenge, nonce);
  if (!hub) co_return co_await refuse(connection, hub.error());

  identity::Signature signature =
      identity::sign(keys, kAuthContext, auth_message(nonce, connection.hub_fingerprint()));
  std::string auth = encode(Auth{as_bytes(signature.data(), signature.size())});
  Status authed = co_await connection.write_frame(auth);
  if (!authed) co_return authed.error();

  Result<Welcome> welcome = co_await receive<Welcome>(connection, timeout, "a welcome");
  if (!welcome) co_return co_await answer_failed_receive(connection, welcome.error());
  hub->establishment = std::move(welcome->establishment);
  co_return hub;
}

}  // namespace

awaitable<Result<HubIdentity>> node_handshake(Connection& connection,
                                              const identity::KeyPair& node_keys, PeerRole role,
                                              std::chrono::milliseconds timeout) {
  Result<HubIdentity> hub = co_await run_node_side(connection, node_keys, role, timeout);
  if (!hub) {
    log::warning(kComponent,
                 "handshake with hub " + connection.peer() + " failed: " + hub.error().message);
    co_return hub;
  }
  log::info(kComponent, "authenticated to hub " + connection.peer() + " (hub key " +
                            identity::to_hex(hub->hub_key) + ") for establishment " +
                            hub->establishment);
  co_return hub;
}

}  // namespace tutelle::net
