#pragma once
// Whole-replica operations that follow from the hub's decisions: purging a scope the replica
// may no longer read, and rolling back changesets the hub refused.

#include <set>
#include <string>

#include "store/replica.hpp"

namespace tutelle::store {

// The meta entry a purge sets: data.mdb may hold bytes of a purged scope in freed pages, until
// the store is rewritten (node/store_rewrite.hpp).
inline constexpr const char* kRewritePending = "rewrite_pending";

struct PurgeSummary {
  std::size_t records = 0;
  std::size_t changesets = 0;
};

// Removes, in one transaction, every record whose home is `scope` (with its index entries),
// every stored changeset of another origin in that scope (with its applied mark), the
// tombstones the scope left and its cursor. The replica's own chain (outbox) stays: it is its
// own history; its changesets of the scope lose their applied mark (refused ones excepted), so
// that they are applied again when the hub sends them back with the scope's history (it does
// once it has the purge's confirmation). Costs what the scope holds, through the indexes
// by_home and by_scope, and a scan of the outbox.
// The pages this frees keep the scope's bytes in data.mdb until LMDB reuses them: the purge
// sets kRewritePending, and the node rewrites its store when it is alone to have it open.
Result<PurgeSummary> purge_scope(Replica& replica, const std::string& scope);

struct Compaction {
  std::size_t dropped = 0;  // tombstones whose changeset can no longer arrive
  std::size_t left = 0;
};

// Writer::compact_tombstones() in a transaction of its own, with the count of what is left.
Result<Compaction> compact(Replica& replica);

// Marks the own changeset `seq` refused with `reason`, then rebuilds every record from the
// changesets still applied, in one transaction, so the refused edit has no effect here either.
// The merge being a function of the set of changesets, the result is the state the replica
// would hold had the refused changeset never existed.
Status roll_back_refused(Replica& replica, std::uint64_t seq, const std::string& reason);

}  // namespace tutelle::store
