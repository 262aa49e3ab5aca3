// Tests of net/handshake.hpp: a hub and nodes, well-behaved or not, over real TLS.

#include "net/handshake.hpp"

#include <sodium.h>

#include <cstring>
#include <optional>

#include "net/detail/handshake_codec.hpp"
#include "net_test_support.hpp"

namespace tutelle::net::test {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using namespace std::chrono_literals;
using detail::HandshakeMessage;

identity::KeyPair new_keys() {
  REQUIRE(identity::sodium_ready().ok());
  return identity::generate_key_pair();
}

// The enrolment of a hub that knows one node key.
EnrolmentCheck enrolling(identity::PublicKey key, std::string establishment) {
  return [key, establishment](const identity::PublicKey& asked) -> Result<std::string> {
    if (asked == key) return establishment;
    return make_error(ErrorCode::not_found,
                      "node key " + identity::to_hex(asked) + " is not enrolled");
  };
}

// A hub whose handler runs hub_handshake() and reports its outcome; after a welcome it
// sends back one frame, to show the connection still carries frames.
class TestHub {
 public:
  TestHub(IoThread& io, EnrolmentCheck enrolled, std::chrono::milliseconds timeout = 10s)
      : keys_(new_keys()), server_(io, [this, enrolled, timeout](Connection connection) {
          return serve(std::move(connection), keys_.public_key, enrolled, timeout, outcomes_);
        }) {}

  std::uint16_t port() const { return server_.port(); }
  const identity::PublicKey& key() const { return keys_.public_key; }
  Result<NodeIdentity> next_outcome() { return outcomes_.pop(); }

 private:
  static awaitable<void> serve(Connection connection, identity::PublicKey hub_key,
                               EnrolmentCheck enrolled, std::chrono::milliseconds timeout,
                               Mailbox<Result<NodeIdentity>>& outcomes) {
    Result<NodeIdentity> node = co_await hub_handshake(connection, hub_key, enrolled, timeout);
    bool welcomed = node.ok();
    outcomes.push(std::move(node));
    if (welcomed) {
      Result<std::string> frame = co_await connection.read_frame(kWait);
      if (frame) (void)co_await connection.write_frame(*frame);
    }
    co_await connection.close();
  }

  identity::KeyPair keys_;
  Mailbox<Result<NodeIdentity>> outcomes_;
  TestServer server_;
};

// Sends one frame and gives the one that comes back.
awaitable<Result<std::string>> echo_through(Connection& connection, std::string payload) {
  Status sent = co_await connection.write_frame(payload);
  if (!sent) co_return sent.error();
  co_return co_await connection.read_frame(kWait);
}

struct NodeOutcome {
  Result<HubIdentity> hub;
  std::optional<Result<std::string>> echoed;  // when welcomed
};

awaitable<NodeOutcome> node_side(std::uint16_t port, const identity::KeyPair& keys, PeerRole role) {
  Result<Connection> connection = co_await connect("127.0.0.1", port, hub_fingerprint());
  if (!connection) co_return NodeOutcome{connection.error(), std::nullopt};
  Result<HubIdentity> hub = co_await node_handshake(*connection, keys, role, kWait);
  if (!hub) co_return NodeOutcome{std::move(hub), std::nullopt};

  Result<std::string> echoed = co_await echo_through(*connection, "after the welcome");
  co_await connection->close();
  co_return NodeOutcome{std::move(hub), std::move(echoed)};
}

TEST_CASE("a handshake succeeds and both sides learn who they are") {
  IoThread io;
  identity::KeyPair node = new_keys();
  TestHub hub(io, enrolling(node.public_key, "univ-exemple"));

  for (PeerRole role : {PeerRole::node, PeerRole::partner}) {
    auto outcome = start(io.executor(), node_side(hub.port(), node, role));
    NodeOutcome seen = wait(outcome);
    REQUIRE(seen.hub.ok());
    CHECK(seen.hub->hub_key == hub.key());
    CHECK(seen.hub->establishment == "univ-exemple");
    REQUIRE(seen.echoed.has_value());
    REQUIRE(seen.echoed->ok());
    CHECK(**seen.echoed == "after the welcome");

    Result<NodeIdentity> learned = hub.next_outcome();
    REQUIRE(learned.ok());
    CHECK(learned->node_key == node.public_key);
    CHECK(learned->role == role);
    CHECK(learned->establishment == "univ-exemple");
  }
}

TEST_CASE("an unenrolled node key is refused with the reason") {
  IoThread io;
  identity::KeyPair enrolled = new_keys();
  identity::KeyPair stranger = new_keys();
  TestHub hub(io, enrolling(enrolled.public_key, "univ-exemple"));

  auto outcome = start(io.executor(), node_side(hub.port(), stranger, PeerRole::node));
  NodeOutcome seen = wait(outcome);
  REQUIRE_FALSE(seen.hub.ok());
  CHECK(seen.hub.error().code == ErrorCode::refused);
  std::string reason = "node key " + identity::to_hex(stranger.public_key) + " is not enrolled";
  CHECK_THAT(seen.hub.error().message, Catch::EndsWith("refused: " + reason));

  Result<NodeIdentity> learned = hub.next_outcome();
  REQUIRE_FALSE(learned.ok());
  CHECK(learned.error().code == ErrorCode::refused);
  CHECK(learned.error().message == reason);
}

TEST_CASE("a hub that cannot check the enrolment keeps its own trouble to itself") {
  IoThread io;
  identity::KeyPair node = new_keys();
  TestHub hub(io, [](const identity::PublicKey&) -> Result<std::string> {
    return make_error(ErrorCode::storage, "/var/lib/tutelle/hub.mdb: MDB_PANIC");
  });

  auto outcome = start(io.executor(), node_side(hub.port(), node, PeerRole::node));
  NodeOutcome seen = wait(outcome);
  REQUIRE_FALSE(seen.hub.ok());
  CHECK_THAT(seen.hub.error().message,
             Catch::EndsWith("the hub could not check the enrolment; try again later"));
  CHECK_THAT(hub.next_outcome().error().message, Catch::Contains("MDB_PANIC"));
}

// Sends `message`, an encoded handshake message, and gives the hub's answer, decoded. Messages
// are encoded into named locals first: see the note on GCC 12 in net/handshake.cpp.
awaitable<Result<HandshakeMessage>> exchange(Connection& connection, std::string message) {
  Status sent = co_await connection.write_frame(message);
  if (!sent) co_return sent.error();
  Result<std::string> frame = co_await connection.read_frame(kWait);
  if (!frame) co_return frame.error();
  co_return detail::decode_handshake_message(*frame, "the hub's answer");
}

std::string bytes_of(const identity::PublicKey& key) {
  return std::string(reinterpret_cast<const char*>(key.data()), key.size());
}

// A node that opens with `message` and gives the hub's answer.
awaitable<Result<HandshakeMessage>> open_with(std::uint16_t port, HandshakeMessage message) {
  Result<Connection> connection = co_await connect("127.0.0.1", port, hub_fingerprint());
  if (!connection) co_return connection.error();
  std::string payload = detail::encode(message);
  Result<HandshakeMessage> answer = co_await exchange(*connection, payload);
  co_await connection->close();
  co_return answer;
}

std::string refusal_reason(const Result<HandshakeMessage>& answer) {
  REQUIRE(answer.ok());
  REQUIRE(std::holds_alternative<detail::Refuse>(answer.value()));
  return std::get<detail::Refuse>(answer.value()).reason;
}

TEST_CASE("a node of an incompatible protocol version gets a clear refusal") {
  IoThread io;
  identity::KeyPair node = new_keys();
  TestHub hub(io, enrolling(node.public_key, "univ-exemple"));

  auto answer =
      start(io.executor(), open_with(hub.port(), detail::Hello{2, 0, bytes_of(node.public_key)}));
  std::string expected = "peer speaks protocol version 2, this hub speaks 1";
  CHECK(refusal_reason(wait(answer)) == expected);
  CHECK(hub.next_outcome().error().message == expected);
}

TEST_CASE("a node that opens with anything but a hello is refused") {
  IoThread io;
  identity::KeyPair node = new_keys();
  TestHub hub(io, enrolling(node.public_key, "univ-exemple"));

  auto answer = start(io.executor(), open_with(hub.port(), detail::Auth{std::string(64, 's')}));
  CHECK_THAT(refusal_reason(wait(answer)), Catch::StartsWith("expected a hello from 127.0.0.1:") &&
                                               Catch::EndsWith(", got an auth"));
  CHECK(hub.next_outcome().error().code == ErrorCode::corrupt);
}

// How a misbehaving node builds the bytes it signs.
struct Forgery {
  std::optional<Nonce> nonce;              // instead of the challenge's
  std::optional<std::string> fingerprint;  // instead of the hub's on this connection
};

awaitable<Result<HandshakeMessage>> authenticate_with(std::uint16_t port,
                                                      const identity::KeyPair& keys,
                                                      Forgery forgery) {
  Result<Connection> connection = co_await connect("127.0.0.1", port, hub_fingerprint());
  if (!connection) co_return connection.error();
  std::string hello = detail::encode(detail::Hello{kProtocolVersion, 0, bytes_of(keys.public_key)});
  Result<HandshakeMessage> challenge = co_await exchange(*connection, hello);
  if (!challenge) co_return challenge;

  Nonce nonce{};
  std::memcpy(nonce.data(), std::get<detail::Challenge>(*challenge).nonce.data(), nonce.size());
  std::string message = auth_message(forgery.nonce.value_or(nonce),
                                     forgery.fingerprint.value_or(connection->hub_fingerprint()));
  identity::Signature signature = identity::sign(keys, kAuthContext, message);
  std::string auth = detail::encode(
      detail::Auth{std::string(reinterpret_cast<const char*>(signature.data()), 64)});
  Result<HandshakeMessage> answer = co_await exchange(*connection, auth);
  co_await connection->close();
  co_return answer;
}

TEST_CASE("a signature over another nonce is refused") {
  IoThread io;
  identity::KeyPair node = new_keys();
  TestHub hub(io, enrolling(node.public_key, "univ-exemple"));
  Nonce other{};
  randombytes_buf(other.data(), other.size());

  auto answer = start(io.executor(), authenticate_with(hub.port(), node, {other, {}}));
  CHECK_THAT(refusal_reason(wait(answer)),
             Catch::Contains("the signature is not node key " + identity::to_hex(node.public_key)));
  CHECK(hub.next_outcome().error().code == ErrorCode::refused);
}

TEST_CASE("a signature bound to another TLS certificate is refused") {
  IoThread io;
  identity::KeyPair node = new_keys();
  TestHub hub(io, enrolling(node.public_key, "univ-exemple"));

  auto answer =
      start(io.executor(), authenticate_with(hub.port(), node, {{}, std::string(64, 'a')}));
  CHECK_THAT(refusal_reason(wait(answer)), Catch::Contains("over this connection's challenge"));
  CHECK(hub.next_outcome().error().code == ErrorCode::refused);
}

TEST_CASE("the right signature, made by hand, is welcomed") {
  IoThread io;
  identity::KeyPair node = new_keys();
  TestHub hub(io, enrolling(node.public_key, "univ-exemple"));

  auto answer = start(io.executor(), authenticate_with(hub.port(), node, {}));
  Result<HandshakeMessage> welcome = wait(answer);
  REQUIRE(welcome.ok());
  REQUIRE(std::holds_alternative<detail::Welcome>(*welcome));
  CHECK(std::get<detail::Welcome>(*welcome).establishment == "univ-exemple");
  CHECK(hub.next_outcome().ok());
}

awaitable<bool> connect_and_say_nothing(std::uint16_t port) {
  Result<Connection> connection = co_await connect("127.0.0.1", port, hub_fingerprint());
  if (!connection) co_return false;
  Result<std::string> frame = co_await connection->read_frame(kWait);
  co_return !frame.ok();
}

TEST_CASE("a node that says nothing is refused after the handshake timeout") {
  IoThread io;
  identity::KeyPair node = new_keys();
  TestHub hub(io, enrolling(node.public_key, "univ-exemple"), 100ms);

  auto silent = start(io.executor(), connect_and_say_nothing(hub.port()));
  CHECK_THAT(hub.next_outcome().error().message, Catch::EndsWith("timed out after 100 ms"));
  CHECK(wait(silent));
}

}  // namespace
}  // namespace tutelle::net::test
