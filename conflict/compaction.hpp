#pragma once
// Compaction of the memory of superseded dots (conflict/merge.hpp): which tombstones may go.
//
// A tombstone (origin, seq, index) of scope S waits for changeset (origin, seq), which the merge
// will then drop on arrival. It is only worth keeping while that changeset can still arrive.
// Two facts of replication decide when it no longer can:
//   - the hub decides an origin's chain in seq order (accepted, or refused and never sent on),
//     and every replica of a scope receives the scope's changesets in the hub's order;
//   - a changeset names only dots its author saw, so the changeset a tombstone waits for
//     touched the same record, and so lives in the same scope S.
// Hence once a replica has acknowledged, by applying it, a changeset of the same origin with a
// greater seq in scope S, the awaited changeset was decided before it: had it been accepted,
// the replica would have received it first. It was refused (or never existed) and every
// replica of S will pass it the same way: its tombstones are dropped.
//
// The rule relies on that order of delivery. A replica fed in another order (the property
// tests shuffle freely) must not compact; its tombstones are then consumed by arrivals alone.

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "protocol/model.hpp"

namespace tutelle::conflict {

// What a replica has acknowledged: for each scope and origin, the greatest seq applied.
class Frontier {
 public:
  void observe(const std::string& scope, const KeyBytes& origin, std::uint64_t seq);
  // The greatest seq of `origin` applied in `scope`, or 0.
  std::uint64_t head(const std::string& scope, const KeyBytes& origin) const;
  // True when the changeset `dot` belongs to can no longer arrive (see above).
  bool passed(const Dot& dot, const std::string& scope) const;

 private:
  std::map<std::pair<std::string, KeyBytes>, std::uint64_t> heads_;
};

}  // namespace tutelle::conflict
