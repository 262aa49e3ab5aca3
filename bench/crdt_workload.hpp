#pragma once
// The workload of bench_crdt: field and set operations written by several replicas in rounds,
// as Tutelle's signed changesets and as a text file the Node.js script replays with Yjs and
// Automerge (bench/crdt/merge.mjs), so that the three merge the same operations.
//
// Records are projects spread over units (scopes); each replica is an establishment that edits
// mostly its own share of the records. In each round every replica edits offline: an edit is
// one record and one to four of its fields, written after what the replica saw at the start of
// the round and its own edits since. A share of the operations (--concurrent) are concurrent
// writes: a single-valued field that another replica also writes in that round, so that both
// survive as a conflict until a later edit supersedes them. At the end of a round every
// replica receives every other's changesets. A replica's edits of one round and scope make one
// changeset, as node::LocalBatch groups them.
//
// The text file, one line each:
//   records N SCOPES            then N lines: "R <id> <scope>"
//   C <round> <replica> <scope> a changeset; its operations follow
//   s <record> <field> <value>  set a single-valued field (record: index into the R lines)
//   a <record> <field> <value>  add an element to a set field
//   r <record> <field> <value>  remove an element from a set field
//   E <round>                   the end of a round: every replica syncs with every other

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "identity/keys.hpp"
#include "protocol/model.hpp"
#include "protocol/result.hpp"

namespace tutelle::bench {

struct WorkloadOptions {
  std::size_t operations = 1'000'000;
  std::size_t replicas = 5;
  std::size_t records = 10'000;
  std::size_t scopes = 100;
  std::size_t rounds = 20;
  double concurrent = 0.05;  // share of operations that are concurrent writes
  double set_share = 0.2;    // share of operations on the set field
  std::uint64_t seed = 20240601;
};

struct WorkloadChangeset {
  std::size_t round = 0;
  std::size_t replica = 0;
  Changeset changeset;
  std::string signed_bytes;          // SignedChangeset, as it travels
  std::vector<std::string> removed;  // per operation: the element a remove removes, else ""
};

struct Workload {
  std::vector<std::string> records;
  std::vector<std::size_t> record_scopes;  // the scope of each record: an index into `scopes`
  std::vector<std::string> scopes;
  std::vector<WorkloadChangeset> changesets;  // in rounds, each round replica by replica
  std::size_t operations = 0;
  std::size_t concurrent = 0;  // operations written as concurrent writes
  std::string state;           // conflict::MemoryReplica::encoded() of every replica at the end
  std::size_t conflicts = 0;   // conflicting fields at the end
};

// Generates the workload, merging each replica's state with the real merge as it goes, and
// checks that every replica ends with the same state.
Result<Workload> generate_workload(const WorkloadOptions& options);

// Writes the text form described above.
void write_workload_text(const Workload& workload, std::ostream& out);

}  // namespace tutelle::bench
