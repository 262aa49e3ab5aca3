#pragma once
// What the tests of conflict/ share: replicas that edit offline and exchange changesets in
// orders a seeded generator picks, so that a failing case can be replayed from its seed.
//
// Each peer holds a conflict::MemoryReplica and writes changesets as a node would: its
// operations supersede what the peer sees of a field, remove what it sees of an element,
// delete or merge what it sees of a record, resolve the conflicts it sees. A peer applies its
// own changeset at once; the others get it when a test delivers it.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "conflict/memory_replica.hpp"

namespace tutelle::testing {

// Records of type `project`, two scopes; fields title and acronym (single-valued) and
// structures (a set).
struct Universe {
  std::vector<std::string> records;
  std::vector<std::string> scopes;  // scope of records[i] is scopes[i % scopes.size()]
  std::vector<std::string> single_fields = {"title", "acronym"};
  std::string set_field = "structures";
  std::vector<std::string> values = {"a", "b", "c"};

  static Universe small();
  const std::string& scope_of(std::size_t record) const { return scopes[record % scopes.size()]; }
};

// How often each kind of operation is drawn, out of the sum.
struct OperationMix {
  int set = 40;
  int add = 20;
  int remove = 10;
  int delete_record = 8;
  int resolve = 10;
  int merge = 2;
};

struct Peer {
  KeyBytes origin{};
  std::string establishment;
  std::uint64_t seq = 0;
  conflict::MemoryReplica replica;
};

class Simulation {
 public:
  Simulation(std::uint64_t seed, std::size_t peers, Universe universe = Universe::small());

  // Peer `p` writes one changeset of 1 to 3 operations on records of one scope, against what
  // it holds, applies it and logs it. Returns its index in log().
  std::size_t edit(std::size_t p, const OperationMix& mix = {});
  // Applies log()[i] to peer `p` (a duplicate changes nothing). Fails the test on a refusal.
  void deliver(std::size_t p, std::size_t i);
  // Delivers to `p` `count` changesets of the log drawn at random, duplicates included.
  void deliver_some(std::size_t p, std::size_t count);
  // Delivers every changeset of the log to `p`, shuffled, with some delivered twice.
  void deliver_all(std::size_t p);

  std::mt19937_64& random() { return random_; }
  std::vector<Peer>& peers() { return peers_; }
  const std::vector<Changeset>& log() const { return log_; }
  const Universe& universe() const { return universe_; }

 private:
  // An operation on `record`, whose state as the draft sees it is `state`.
  Operation draw_operation(const RecordState& state, std::size_t record, const OperationMix& mix);

  std::mt19937_64 random_;
  Universe universe_;
  std::vector<Peer> peers_;
  std::vector<Changeset> log_;
};

// A random 32-byte key drawn from `random`.
KeyBytes random_key(std::mt19937_64& random);

// The seed of the first case: TUTELLE_SEED when set (to replay one case), else a fixed one.
std::uint64_t first_seed(std::uint64_t fallback);
// How many cases to run: TUTELLE_CASES when set, else `fallback` (1 when TUTELLE_SEED is set).
std::size_t case_count(std::size_t fallback);

}  // namespace tutelle::testing
