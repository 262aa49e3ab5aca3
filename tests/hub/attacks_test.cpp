// A real hub process under attack on loopback: a hand-driven client (raw_client.hpp) holding an
// enrolled node's key, or none, sends what a broken or hostile node would. Each attack must be
// refused, logged by the hub, end the connection where the protocol says so, apply nothing,
// and leave the hub serving the other nodes.

#include <signal.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "identity/changeset_signature.hpp"
#include "net/frame.hpp"
#include "node/node.hpp"
#include "tests/hub/federation.hpp"
#include "tests/hub/raw_client.hpp"

using namespace tutelle;
using namespace tutelle::testing;
using Catch::Contains;
using nlohmann::json;

namespace {

identity::KeyPair node_keys(const std::string& dir) {
  auto keys = identity::read_key_pair(dir, "node");
  REQUIRE(keys.ok());
  return keys.value();
}

identity::KeyPair fresh_keys() {
  REQUIRE(identity::sodium_ready().ok());
  return identity::generate_key_pair();
}

// The node's own changesets, in seq order, as it signed them.
std::vector<std::string> own_changesets(const std::string& dir) {
  auto node = node::Node::open(dir);
  REQUIRE(node.ok());
  auto& replica = node.value()->replica();
  auto txn = replica.begin_read();
  REQUIRE(txn.ok());
  std::vector<std::string> out;
  Status scanned = txn->scan(replica.table("outbox"), "", [&](auto, std::string_view bytes) {
    out.emplace_back(bytes);
    return true;
  });
  REQUIRE(scanned.ok());
  return out;
}

// `count` people created on the node at `dir`, one changeset each; fast, since not durable.
// Their author is the steward the hub enrolled the node with by default.
void create_people(const std::string& dir, int count) {
  node::OpenOptions fast;
  fast.durable = false;
  auto node = node::Node::open(dir, fast);
  REQUIRE(node.ok());
  std::string steward = "steward@" + node.value()->establishment();
  for (int i = 0; i < count; ++i) {
    auto batch = node.value()->begin_batch(steward);
    REQUIRE(batch.ok());
    node::FieldEdit name{"family_name", node::FieldEdit::Mode::assign, {"P" + std::to_string(i)}};
    REQUIRE(
        batch->edit(node::RecordEdit{"person", std::nullopt, std::nullopt, {name}, false}).ok());
    REQUIRE(batch->commit().ok());
  }
  REQUIRE(node.value()->replica().env().sync().ok());
}

// Curie then Joliot created on node a: its two changesets, in seq order.
std::vector<std::string> two_people_on_a(const Federation& f) {
  f.put(f.a, {"person", "family_name=Curie"});
  f.put(f.a, {"person", "family_name=Joliot"});
  return own_changesets(f.a);
}

std::string with_body_byte_flipped(const std::string& signed_bytes) {
  auto envelope = decode_signed(signed_bytes);
  REQUIRE(envelope.ok());
  envelope->body[envelope->body.size() / 2] ^= 0x01;
  return encode_signed(envelope.value());
}

std::string with_signature_byte_flipped(const std::string& signed_bytes) {
  auto envelope = decode_signed(signed_bytes);
  REQUIRE(envelope.ok());
  envelope->signature[17] ^= 0x80;
  return encode_signed(envelope.value());
}

// The changeset `signed_bytes` holds, changed by `change`, and signed again by `keys`.
template <typename Change>
std::string resigned(const std::string& signed_bytes, const identity::KeyPair& keys,
                     Change change) {
  auto verified = identity::verify_changeset(signed_bytes);
  REQUIRE(verified.ok());
  Changeset changeset = verified->changeset;
  change(changeset);
  return identity::sign_changeset(keys, changeset).first;
}

std::string frame_length(std::uint32_t length) {
  auto header = net::detail::encode_frame_length(length);
  return std::string(header.begin(), header.end());
}

// What an attack must leave as it was: every record the hub holds and its log.
struct HubState {
  std::string digest;
  std::uint64_t hub_seq = 0;
  bool operator==(const HubState&) const = default;
};

HubState hub_state(const Federation& f) {
  return {f.hub_json("digest")["digest"].get<std::string>(),
          f.hub_json("status")["hub_seq"].get<std::uint64_t>()};
}

std::uint64_t hub_seq(const Federation& f) {
  return f.hub_json("status")["hub_seq"].get<std::uint64_t>();
}

std::unique_ptr<RawClient> connected(const Federation& f) {
  auto client = std::make_unique<RawClient>();
  Status opened = client->open(static_cast<std::uint16_t>(f.port), f.fingerprint);
  INFO(error_text(opened));
  REQUIRE(opened.ok());
  return client;
}

std::unique_ptr<RawClient> authenticated(const Federation& f, const identity::KeyPair& keys) {
  auto client = connected(f);
  auto head = client->authenticate(keys);
  INFO(error_text(head));
  REQUIRE(head.ok());
  return client;
}

void require_closed_by_hub(RawClient& client) {
  Status closed = client.expect_closed_by_hub();
  INFO(error_text(closed));
  REQUIRE(closed.ok());
}

// Node b edits and syncs as usual: its changeset is accepted.
void other_node_is_served(const Federation& f) {
  f.put(f.b, {"person", "family_name=Marin"});
  json synced = f.sync(f.b);
  CHECK(synced["accepted"] == 1);
}

// Pushes `bytes` on an enrolled session of node a: refused as unverifiable, session closed.
void unverifiable_push_is_refused(const Federation& f, const std::string& bytes) {
  HubState before = hub_state(f);
  auto client = authenticated(f, node_keys(f.a));
  auto ack = client->push(bytes);
  REQUIRE(ack.ok());
  CHECK(ack->outcome == net::AckOutcome::refused);
  CHECK_THAT(ack->reason, Contains("signature does not verify"));
  require_closed_by_hub(*client);
  f.wait_for_log("WARNING hub: refused a changeset: changeset signature does not verify");
  CHECK(hub_state(f) == before);
  other_node_is_served(f);
}

const char* kUnit = "rnsr:202199101G";

// A changeset that `keys` signed, creating a project in `scope`: valid in every way but its
// origin's right to write.
std::string project_signed_by(const identity::KeyPair& keys, const std::string& scope) {
  Changeset changeset;
  changeset.origin = keys.public_key;
  changeset.seq = 1;
  changeset.hlc = static_cast<std::uint64_t>(std::time(nullptr)) << 16;
  changeset.author = "reader@anr.example";
  changeset.scope = scope;
  changeset.operations.push_back(Operation{OpKind::set,
                                           "project:partner-push",
                                           "project",
                                           "title",
                                           Value{std::string("Pushed-By-Partner")},
                                           {}});
  return identity::sign_changeset(keys, changeset).first;
}

// A live session of the node at `dir`: authenticated, pulled and caught up.
std::unique_ptr<RawClient> live_session(const Federation& f, const std::string& dir) {
  auto client = authenticated(f, node_keys(dir));
  REQUIRE(client->send_frame(net::pull_message({})).ok());
  for (;;) {
    auto message = client->receive();
    INFO(error_text(message));
    REQUIRE(message.ok());
    if (message->kind == net::SyncMessage::Kind::caught_up) return client;
  }
}

// The origin of each changeset of the next frame `client` receives, which must be a deliver.
std::vector<std::string> next_delivered_origins(RawClient& client) {
  auto message = client.receive();
  INFO(error_text(message));
  REQUIRE(message.ok());
  REQUIRE(message->kind == net::SyncMessage::Kind::deliver);
  std::vector<std::string> origins;
  for (const auto& entry : message->entries) {
    auto envelope = decode_signed(entry.changeset);
    REQUIRE(envelope.ok());
    origins.push_back(identity::to_hex(envelope->origin));
  }
  return origins;
}

}  // namespace

TEST_CASE("a changeset with one byte of its body flipped is refused and ends the session") {
  Federation f;
  f.put(f.a, {"person", "family_name=Curie"});
  unverifiable_push_is_refused(f, with_body_byte_flipped(own_changesets(f.a).at(0)));
}

TEST_CASE("a changeset with one byte of its signature flipped is refused and ends the session") {
  Federation f;
  f.put(f.a, {"person", "family_name=Curie"});
  unverifiable_push_is_refused(f, with_signature_byte_flipped(own_changesets(f.a).at(0)));
}

TEST_CASE("a key the hub has not enrolled is refused at the handshake") {
  Federation f;
  HubState before = hub_state(f);
  identity::KeyPair stranger = fresh_keys();
  auto client = connected(f);
  auto head = client->authenticate(stranger);
  REQUIRE_FALSE(head.ok());
  CHECK_THAT(head.error().message, Contains("is not enrolled"));
  require_closed_by_hub(*client);
  f.wait_for_log("key " + identity::to_hex(stranger.public_key) + " is not enrolled");
  CHECK(hub_state(f) == before);
  other_node_is_served(f);
}

TEST_CASE("a changeset signed by another key is refused on an enrolled node's session") {
  Federation f;
  f.put(f.a, {"person", "family_name=Curie"});
  identity::KeyPair stranger = fresh_keys();
  std::string forged = resigned(own_changesets(f.a).at(0), stranger,
                                [&](Changeset& c) { c.origin = stranger.public_key; });
  HubState before = hub_state(f);
  auto client = authenticated(f, node_keys(f.a));
  auto ack = client->push(forged);
  REQUIRE(ack.ok());
  CHECK(ack->outcome == net::AckOutcome::refused);
  CHECK_THAT(ack->reason, Contains("is not this node"));
  require_closed_by_hub(*client);
  f.wait_for_log("origin " + identity::to_hex(stranger.public_key) + " is not this node");
  CHECK(hub_state(f) == before);
  other_node_is_served(f);
}

TEST_CASE("a replayed changeset is acknowledged as a duplicate and changes nothing") {
  Federation f;
  f.put(f.a, {"person", "family_name=Curie"});
  std::string changeset = own_changesets(f.a).at(0);
  auto client = authenticated(f, node_keys(f.a));
  auto first = client->push(changeset);
  REQUIRE(first.ok());
  CHECK(first->outcome == net::AckOutcome::accepted);
  HubState after_first = hub_state(f);
  CHECK(after_first.hub_seq == 1);

  auto again = client->push(changeset);
  REQUIRE(again.ok());
  CHECK(again->outcome == net::AckOutcome::duplicate);
  f.wait_for_log("duplicate seq 1 of origin " + identity::to_hex(node_keys(f.a).public_key));
  CHECK(hub_state(f) == after_first);
  client->close();
  CHECK(f.sync(f.a)["pushed"] == 0);
  CHECK(f.hub_lines("log").size() == 1);
  other_node_is_served(f);
}

TEST_CASE("two different changesets with one seq quarantine their origin") {
  Federation f;
  f.put(f.a, {"person", "family_name=Curie"});
  identity::KeyPair keys = node_keys(f.a);
  std::string original = own_changesets(f.a).at(0);
  std::string fork = resigned(original, keys, [](Changeset& c) { c.hlc += 1; });
  auto client = authenticated(f, keys);
  REQUIRE(client->push(original)->outcome == net::AckOutcome::accepted);
  HubState before = hub_state(f);

  auto ack = client->push(fork);
  REQUIRE(ack.ok());
  CHECK(ack->outcome == net::AckOutcome::fork);
  require_closed_by_hub(*client);
  std::string key = identity::to_hex(keys.public_key);
  f.wait_for_log("quarantined origin " + key + ": fork: two different changesets with seq 1");
  CHECK(hub_state(f) == before);
  for (const auto& node : f.hub_lines("nodes")) {
    CHECK(node["quarantined"] == (node["key"] == key));
    if (node["key"] == key) CHECK_THAT(node["why"].get<std::string>(), Contains("fork"));
  }

  auto later = connected(f);
  auto refused = later->authenticate(keys);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Contains("is quarantined"));
  require_closed_by_hub(*later);
  f.wait_for_log("key " + key + " is quarantined: fork");
  auto synced = run({node_bin(), "sync", "--dir", f.a, "--once"});
  CHECK(synced.exit_code != 0);
  CHECK_THAT(synced.err, Contains("is quarantined"));
  other_node_is_served(f);
}

TEST_CASE("a session opened before its origin was quarantined may push no more") {
  Federation f;
  auto own = two_people_on_a(f);
  identity::KeyPair keys = node_keys(f.a);
  auto forking = authenticated(f, keys);
  auto other = authenticated(f, keys);
  REQUIRE(forking->push(own.at(0))->outcome == net::AckOutcome::accepted);
  std::string fork = resigned(own.at(0), keys, [](Changeset& c) { c.hlc += 1; });
  REQUIRE(forking->push(fork)->outcome == net::AckOutcome::fork);
  HubState before = hub_state(f);

  auto ack = other->push(own.at(1));
  REQUIRE(ack.ok());
  CHECK(ack->outcome == net::AckOutcome::fork);
  CHECK_THAT(ack->reason, Contains("is quarantined: fork"));
  require_closed_by_hub(*other);
  f.wait_for_log("refused seq 2: origin " + identity::to_hex(keys.public_key) + " is quarantined");
  CHECK(hub_state(f) == before);
  other_node_is_served(f);
}

TEST_CASE("a gap makes the hub ask for what is missing") {
  Federation f;
  f.put(f.a, {"person", "family_name=Curie"});
  f.put(f.a, {"person", "family_name=Joliot"});
  auto own = own_changesets(f.a);
  HubState before = hub_state(f);
  auto client = authenticated(f, node_keys(f.a));

  auto ack = client->push(own.at(1));
  REQUIRE(ack.ok());
  CHECK(ack->outcome == net::AckOutcome::gap);
  CHECK(ack->seq == 2);
  CHECK(ack->expected == 1);
  f.wait_for_log("gap: seq 2 of origin " + identity::to_hex(node_keys(f.a).public_key));
  CHECK(hub_state(f) == before);

  CHECK(client->push(own.at(0))->outcome == net::AckOutcome::accepted);
  CHECK(client->push(own.at(1))->outcome == net::AckOutcome::accepted);
  CHECK(hub_seq(f) == 2);
}

TEST_CASE("pushes that arrive together are answered in order, each as if pushed alone") {
  Federation f;
  auto own = two_people_on_a(f);
  identity::KeyPair keys = node_keys(f.a);
  std::string fork = resigned(own.at(0), keys, [](Changeset& c) { c.hlc += 1; });
  auto client = authenticated(f, keys);

  // One write, so that the hub reads them as one window: a gap, the missing one, a replay, the
  // one the gap held back, a fork, and one the fork's closing leaves unanswered.
  std::string frames;
  for (const auto* bytes : {&own.at(1), &own.at(0), &own.at(0), &own.at(1), &fork, &own.at(1)}) {
    net::append_frame(frames, net::push_message(*bytes));
  }
  REQUIRE(client->send_raw(frames).ok());
  using Outcome = net::AckOutcome;
  for (auto [seq, expected] : {std::pair{2, Outcome::gap}, std::pair{1, Outcome::accepted},
                               std::pair{1, Outcome::duplicate}, std::pair{2, Outcome::accepted},
                               std::pair{1, Outcome::fork}}) {
    auto ack = client->receive();
    INFO(error_text(ack));
    REQUIRE(ack.ok());
    CHECK(ack->kind == net::SyncMessage::Kind::ack);
    CHECK(ack->seq == static_cast<std::uint64_t>(seq));
    CHECK(ack->outcome == expected);
  }
  require_closed_by_hub(*client);
  f.wait_for_log("quarantined origin " + identity::to_hex(keys.public_key) + ": fork");
  CHECK(hub_seq(f) == 2);
  other_node_is_served(f);
}

TEST_CASE("a changeset is checked against the unit an earlier push of its window created") {
  Federation f;
  f.put(f.a, {"structure", "rnsr=202199101G", "kind=unit", "name=Laboratoire commun",
              "tutelles+=uai:0339901H", "lead_tutelle=uai:0339901H"});
  f.put(f.a, {"project", "lead_structure=rnsr:202199101G", "title=Projet commun"});
  auto own = own_changesets(f.a);
  REQUIRE(own.size() == 2);
  auto client = authenticated(f, node_keys(f.a));

  // One write, one window: the project's scope and its author's perimeter are the unit's,
  // which only the first changeset of the window makes known.
  std::string frames;
  for (const auto& bytes : own) net::append_frame(frames, net::push_message(bytes));
  REQUIRE(client->send_raw(frames).ok());
  for (std::uint64_t seq : {1, 2}) {
    auto ack = client->receive();
    INFO(error_text(ack));
    REQUIRE(ack.ok());
    INFO(ack->reason);
    CHECK(ack->seq == seq);
    CHECK(ack->outcome == net::AckOutcome::accepted);
  }
  CHECK(hub_seq(f) == 2);
}

TEST_CASE("a frame announcing more than 16 MiB is refused before it is read") {
  Federation f;
  HubState before = hub_state(f);
  auto client = authenticated(f, node_keys(f.a));
  REQUIRE(client->send_raw(frame_length(16 * 1024 * 1024 + 1)).ok());
  require_closed_by_hub(*client);
  f.wait_for_log("WARNING hub: refused a frame from 127.0.0.1:");
  f.wait_for_log("announces 16777217 bytes, above the limit of 16777216 bytes; not read");
  CHECK(hub_state(f) == before);
  other_node_is_served(f);
}

TEST_CASE("a frame cut short by the peer's close applies nothing") {
  Federation f;
  f.put(f.a, {"person", "family_name=Curie"});
  HubState before = hub_state(f);
  auto client = authenticated(f, node_keys(f.a));
  std::string push = net::push_message(own_changesets(f.a).at(0));
  REQUIRE(client->send_raw(frame_length(1000) + push.substr(0, 10)).ok());
  client->close();
  f.wait_for_log("after 10 of its 1000 payload bytes");
  CHECK(hub_state(f) == before);
  other_node_is_served(f);
}

TEST_CASE("a peer that stalls inside a frame loses its session and the hub serves the others") {
  Federation f;
  f.hub->kill(SIGTERM);
  f.hub->wait();
  f.start_hub({"--frame-timeout-ms", "300"});
  f.put(f.a, {"person", "family_name=Curie"});
  HubState before = hub_state(f);
  auto client = authenticated(f, node_keys(f.a));
  std::string push = net::push_message(own_changesets(f.a).at(0));
  REQUIRE(client->send_raw(frame_length(1000) + push.substr(0, 10)).ok());
  require_closed_by_hub(*client);
  f.wait_for_log("read the rest of a frame from 127.0.0.1:");
  CHECK(hub_state(f) == before);
  other_node_is_served(f);
}

TEST_CASE("a frame that is not a sync message ends the session") {
  Federation f;
  HubState before = hub_state(f);
  auto client = authenticated(f, node_keys(f.a));
  REQUIRE(client->send_frame("twelve bytes").ok());
  require_closed_by_hub(*client);
  f.wait_for_log("WARNING hub: refused a frame from 127.0.0.1:");
  CHECK(hub_state(f) == before);
  other_node_is_served(f);
}

TEST_CASE("bytes that are not TLS are refused and the hub goes on serving") {
  Federation f;
  HubState before = hub_state(f);
  auto answer = send_over_tcp(static_cast<std::uint16_t>(f.port),
                              "GET / HTTP/1.1\r\nHost: hub\r\n\r\n\x01\x02\xff garbage");
  INFO(error_text(answer));
  REQUIRE(answer.ok());
  f.wait_for_log("refused: TLS handshake with 127.0.0.1:");
  CHECK(hub_state(f) == before);
  other_node_is_served(f);
}

TEST_CASE("a node killed with SIGKILL mid-push loses nothing and sends nothing twice") {
  constexpr int kTotal = 3000;
  Federation f;
  create_people(f.a, kTotal);
  {
    Background pushing({node_bin(), "sync", "--dir", f.a, "--once"}, f.dir / "a.log");
    // Killed once the hub holds a tenth, with pushes in flight and acks unread.
    wait_for([&] { return hub_seq(f) > kTotal / 10; });
    pushing.kill(SIGKILL);
    CHECK(pushing.wait() == 128 + SIGKILL);
  }
  f.wait_for_log("session with 127.0.0.1:");
  REQUIRE(hub_seq(f) < kTotal);

  f.sync(f.a);
  CHECK(hub_seq(f) == kTotal);
  std::set<std::pair<std::string, std::uint64_t>> chain;
  auto log = f.hub_lines("log");
  for (const auto& line : log) chain.emplace(line["origin"], line["seq"]);
  CHECK(log.size() == kTotal);
  CHECK(chain.size() == kTotal);
  CHECK(run_json({node_bin(), "status", "--dir", f.a})["outbox"] == 0);
  f.sync(f.b);
  CHECK(f.digest(f.a) == f.digest(f.b));
}

TEST_CASE("a partner's node that pushes a validly signed changeset is refused by the hub") {
  Federation f;
  f.put(f.a, {"structure", "rnsr=202199101G", "kind=unit", "name=Laboratoire",
              "lead_tutelle=uai:0339901H", "tutelles+=uai:0339901H", "tutelles+=uai:0759901E"});
  f.sync(f.a);
  f.hub_json("share", {"--scope", kUnit, "--partner", "anr"});
  identity::KeyPair partner = node_keys(f.partner_node("anr"));
  auto watching = live_session(f, f.b);
  HubState before = hub_state(f);
  std::size_t logged = f.hub_lines("log").size();

  auto client = authenticated(f, partner);
  auto ack = client->push(project_signed_by(partner, kUnit));
  REQUIRE(ack.ok());
  CHECK(ack->outcome == net::AckOutcome::refused);
  CHECK_THAT(ack->reason, Contains("partner:anr") && Contains("read-only"));
  require_closed_by_hub(*client);
  f.wait_for_log("WARNING hub: closing 127.0.0.1:");
  f.wait_for_log("no changeset from partner:anr");
  CHECK(hub_state(f) == before);
  CHECK(f.hub_lines("log").size() == logged);

  // What b's live session gets next is a's edit, pushed after: the partner's was never sent.
  f.put(f.a, {"project", "title=After", "lead_structure=" + std::string(kUnit)});
  f.sync(f.a);
  CHECK(next_delivered_origins(*watching) ==
        std::vector<std::string>{identity::to_hex(node_keys(f.a).public_key)});
  f.sync(f.b);
  auto held = run({node_bin(), "get", "--dir", f.b, "project:partner-push"});
  CHECK(held.exit_code != 0);
  other_node_is_served(f);
}
