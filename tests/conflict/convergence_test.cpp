// Seeded property tests of the merge: 3 to 5 replicas edit offline (fields, sets, deletes,
// resolves, merges), exchange changesets in random orders with duplicates, and must end with
// the same state, byte for byte: records and tombstones. A subset runs through the real store
// (store::Writer over LMDB) and compares its tables and its digest too.
//
// A failing case prints its seed; TUTELLE_SEED=N replays that one case, TUTELLE_CASES=N runs
// N cases from the first seed.

#include <algorithm>
#include <catch2/catch.hpp>

#include "protocol/codec.hpp"
#include "store/views.hpp"
#include "tests/conflict/simulation.hpp"
#include "tests/support/process.hpp"

using namespace tutelle;
using tutelle::testing::Simulation;

namespace {

// A short name for a state's bytes, to print when two differ.
std::string fingerprint(const std::string& bytes) {
  return hex(blake2b_256(bytes)).substr(0, 16) + " (" + std::to_string(bytes.size()) + " bytes)";
}

// A run of offline edits and partial exchanges, then every changeset to every peer.
void run_case(Simulation& sim, std::size_t steps) {
  auto& random = sim.random();
  std::size_t peers = sim.peers().size();
  for (std::size_t step = 0; step < steps; ++step) {
    std::size_t p = random() % peers;
    if (random() % 10 < 6) {
      sim.edit(p);
    } else {
      sim.deliver_some(p, 1 + random() % 6);
    }
  }
  for (std::size_t p = 0; p < peers; ++p) sim.deliver_all(p);
}

// conflict::state_bytes() of a store: its records and tombstones tables, in key order.
std::string store_state(store::Replica& replica) {
  auto txn = replica.begin_read();
  REQUIRE(txn.ok());
  std::vector<std::string> records;
  Status scanned =
      txn->scan(replica.table("records"), "", [&](std::string_view, std::string_view bytes) {
        records.emplace_back(bytes);
        return true;
      });
  REQUIRE(scanned.ok());
  std::vector<std::pair<Dot, std::string>> tombstones;
  scanned =
      txn->scan(replica.table("tombstones"), "", [&](std::string_view key, std::string_view scope) {
        Dot dot;
        std::copy(key.begin(), key.begin() + 32, dot.origin.begin());
        dot.seq = store::decode_u64(key.substr(32, 8));
        for (char byte : key.substr(40, 4)) {
          dot.index = dot.index << 8 | static_cast<std::uint8_t>(byte);
        }
        tombstones.emplace_back(dot, std::string(scope));
        return true;
      });
  REQUIRE(scanned.ok());
  return conflict::state_bytes(records, tombstones);
}

// Applies the log to a fresh store in a random order, in transactions of random sizes, with
// duplicates, through store::Writer::apply.
std::unique_ptr<store::Replica> store_of(const Simulation& sim, std::mt19937_64& random,
                                         const std::filesystem::path& dir) {
  store::EnvironmentOptions options;
  options.map_size = std::size_t{64} << 20;
  options.durable = false;
  std::filesystem::create_directories(dir);
  auto replica = store::Replica::open(dir, options);
  REQUIRE(replica.ok());
  std::vector<std::size_t> order(sim.log().size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::size_t count = sim.log().size();
  for (std::size_t i = 0; i < count / 3; ++i) order.push_back(random() % count);
  std::shuffle(order.begin(), order.end(), random);
  for (std::size_t at = 0; at < order.size();) {
    auto writer = replica.value()->begin_write();
    REQUIRE(writer.ok());
    for (std::size_t n = 1 + random() % 8; n > 0 && at < order.size(); --n, ++at) {
      const Changeset& changeset = sim.log()[order[at]];
      std::string body = encode_changeset_body(changeset);
      std::string bytes = encode_signed(SignedChangeset{changeset.origin, body, {}});
      auto applied = writer->apply(changeset, bytes, blake2b_256(body), false);
      REQUIRE(applied.ok());
    }
    REQUIRE(writer->commit().ok());
  }
  return std::move(replica.value());
}

}  // namespace

TEST_CASE("replicas that applied the same changesets in any order hold the same bytes") {
  std::uint64_t first = testing::first_seed(1'000);
  std::size_t cases = testing::case_count(2'000);
  for (std::size_t c = 0; c < cases; ++c) {
    std::uint64_t seed = first + c;
    INFO("seed " << seed << " (replay: TUTELLE_SEED=" << seed << ")");
    Simulation sim(seed, 3 + seed % 3);
    run_case(sim, 20 + seed % 40);

    conflict::MemoryReplica reference;
    std::vector<std::size_t> order(sim.log().size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), sim.random());
    for (std::size_t i : order) REQUIRE(reference.apply(sim.log()[i]).ok());

    std::string expected = reference.encoded();
    for (auto& peer : sim.peers()) {
      REQUIRE(peer.replica.changesets() == sim.log().size());
      REQUIRE(fingerprint(peer.replica.encoded()) == fingerprint(expected));
    }
  }
}

TEST_CASE("the store merges as the in-memory replica does, to the same bytes and digest") {
  std::uint64_t first = testing::first_seed(50'000);
  std::size_t cases = testing::case_count(40);
  for (std::size_t c = 0; c < cases; ++c) {
    std::uint64_t seed = first + c;
    INFO("seed " << seed << " (replay: TUTELLE_SEED=" << seed << ")");
    Simulation sim(seed, 3 + seed % 3);
    run_case(sim, 30 + seed % 30);

    testing::TempDir dir;
    auto one = store_of(sim, sim.random(), dir / "one");
    auto two = store_of(sim, sim.random(), dir / "two");
    std::string expected = sim.peers()[0].replica.encoded();
    REQUIRE(fingerprint(store_state(*one)) == fingerprint(expected));
    REQUIRE(fingerprint(store_state(*two)) == fingerprint(expected));

    auto txn_one = one->begin_read();
    auto txn_two = two->begin_read();
    auto digest_one = store::state_digest(*one, txn_one.value());
    auto digest_two = store::state_digest(*two, txn_two.value());
    REQUIRE(digest_one.ok());
    REQUIRE(digest_one.value() == digest_two.value());
  }
}

TEST_CASE("a changeset goes through the codec and back unchanged") {
  std::uint64_t first = testing::first_seed(90'000);
  std::size_t cases = testing::case_count(200);
  for (std::size_t c = 0; c < cases; ++c) {
    std::uint64_t seed = first + c;
    INFO("seed " << seed);
    Simulation sim(seed, 3);
    run_case(sim, 30);
    for (const auto& changeset : sim.log()) {
      std::string body = encode_changeset_body(changeset);
      auto decoded = decode_changeset_body(body);
      REQUIRE(decoded.ok());
      REQUIRE(decoded.value() == changeset);
      REQUIRE(encode_changeset_body(decoded.value()) == body);
    }
  }
}

TEST_CASE("the generated cases exercise conflicts, tombstones, deletions and merges") {
  std::size_t conflicts = 0, tombstones = 0, merges = 0, deletions = 0;
  for (std::uint64_t seed = 1'000; seed < 1'200; ++seed) {
    Simulation sim(seed, 3 + seed % 3);
    auto& random = sim.random();
    for (std::size_t step = 0; step < 40; ++step) {
      std::size_t p = random() % sim.peers().size();
      if (random() % 10 < 6) {
        const Changeset& written = sim.log()[sim.edit(p)];
        for (const auto& op : written.operations) {
          deletions += op.kind == OpKind::delete_record;
          merges += op.kind == OpKind::merge;
        }
      } else {
        sim.deliver_some(p, 1 + random() % 6);
        tombstones += sim.peers()[p].replica.tombstones().size();
      }
    }
    for (const auto& [id, record] : sim.peers()[0].replica.records()) {
      for (const auto& field : record.fields) conflicts += conflict::is_conflict("project", field);
    }
  }
  CHECK(conflicts > 50);
  CHECK(tombstones > 50);
  CHECK(merges > 10);
  CHECK(deletions > 50);
}
