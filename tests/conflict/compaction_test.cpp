// Compaction of tombstones under the hub's order of delivery: peers push their chains in seq
// order to a hub that accepts or refuses each changeset and delivers what it accepted in one
// order; an origin whose changeset is refused rebuilds its state without it. Tombstones left by
// refused changesets must be compacted away, and compaction must never change a record.

#include <catch2/catch.hpp>
#include <set>

#include "tests/conflict/simulation.hpp"

using namespace tutelle;
using tutelle::testing::Simulation;

namespace {

// A hub between the peers of a simulation: what each peer wrote, pushed and pulled.
class Hub {
 public:
  explicit Hub(Simulation& sim) : sim_(sim), peers_(sim.peers().size()) {}

  void edit(std::size_t p) {
    std::size_t i = sim_.edit(p);
    peers_[p].written.push_back(i);
    peers_[p].applied.push_back(i);
  }

  // The hub decides the peer's next changeset; a refused one is rolled back at its origin.
  void push(std::size_t p, bool refuse) {
    Side& peer = peers_[p];
    if (peer.pushed == peer.written.size()) return;
    std::size_t i = peer.written[peer.pushed++];
    if (!refuse) {
      log_.push_back(i);
      return;
    }
    refused_.insert(i);
    conflict::MemoryReplica rebuilt;
    for (std::size_t j : peer.applied) {
      if (refused_.count(j) == 0) REQUIRE(rebuilt.apply(sim_.log()[j]).ok());
    }
    sim_.peers()[p].replica = std::move(rebuilt);
  }

  void pull(std::size_t p) {
    Side& peer = peers_[p];
    for (; peer.cursor < log_.size(); ++peer.cursor) {
      sim_.deliver(p, log_[peer.cursor]);
      peer.applied.push_back(log_[peer.cursor]);
    }
  }

  void push_all(std::size_t p) {
    while (peers_[p].pushed < peers_[p].written.size()) push(p, false);
  }

  const std::vector<std::size_t>& log() const { return log_; }
  std::size_t refused() const { return refused_.size(); }

 private:
  struct Side {
    std::vector<std::size_t> written;  // own changesets, in seq order
    std::vector<std::size_t> applied;  // every changeset applied, in order
    std::size_t pushed = 0;
    std::size_t cursor = 0;  // into log_
  };

  Simulation& sim_;
  std::vector<Side> peers_;
  std::vector<std::size_t> log_;  // accepted changesets, in the hub's order
  std::set<std::size_t> refused_;
};

}  // namespace

TEST_CASE("compaction drops the tombstones of refused changesets and changes no record") {
  std::uint64_t first = testing::first_seed(7'000);
  std::size_t cases = testing::case_count(400);
  std::size_t refusals = 0, compacted = 0;
  for (std::size_t c = 0; c < cases; ++c) {
    std::uint64_t seed = first + c;
    INFO("seed " << seed << " (replay: TUTELLE_SEED=" << seed << ")");
    Simulation sim(seed, 3 + seed % 3);
    Hub hub(sim);
    auto& random = sim.random();
    std::size_t peers = sim.peers().size();
    for (std::size_t step = 0; step < 40; ++step) {
      std::size_t p = random() % peers;
      switch (random() % 4) {
        case 0: hub.edit(p); break;
        case 1: hub.push(p, random() % 6 == 0); break;
        case 2: hub.pull(p); break;
        default: compacted += sim.peers()[p].replica.compact(); break;
      }
    }
    for (std::size_t p = 0; p < peers; ++p) hub.push_all(p);
    for (std::size_t p = 0; p < peers; ++p) hub.pull(p);
    refusals += hub.refused();

    conflict::MemoryReplica reference;
    for (std::size_t i : hub.log()) REQUIRE(reference.apply(sim.log()[i]).ok());
    compacted += reference.compact();
    REQUIRE(reference.tombstones().empty());
    for (auto& peer : sim.peers()) {
      compacted += peer.replica.compact();
      REQUIRE(peer.replica.tombstones().empty());
      REQUIRE((peer.replica.encoded() == reference.encoded()));
    }
  }
  // The cases do exercise what they test.
  CHECK(refusals > 0);
  CHECK(compacted > 0);
}

TEST_CASE("a tombstone waits while its changeset may still arrive") {
  conflict::Frontier frontier;
  KeyBytes origin{};
  origin[0] = 7;
  Dot awaited{origin, 5, 0};
  CHECK_FALSE(frontier.passed(awaited, "rnsr:202199101G"));
  frontier.observe("rnsr:202199101G", origin, 5);
  CHECK_FALSE(frontier.passed(awaited, "rnsr:202199101G"));
  frontier.observe("rnsr:202199102H", origin, 9);
  CHECK_FALSE(frontier.passed(awaited, "rnsr:202199101G"));
  frontier.observe("rnsr:202199101G", origin, 6);
  CHECK(frontier.passed(awaited, "rnsr:202199101G"));
}
