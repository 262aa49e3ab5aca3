#pragma once
// A replica held in memory: merged records, tombstones and the changesets applied, with the
// rules of store::Writer::apply (a changeset applied before changes nothing; an operation on a
// record of another type or scope refuses the whole changeset, which then changes nothing).
// It is what the property tests and the benchmark merge into; the store does the same over
// LMDB.
//
// It trusts its input: it does not hash changesets, so two different changesets with one
// origin and seq (a fork) are not told apart; the second is taken for a duplicate.
// Not thread-safe.

#include <cstddef>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "conflict/compaction.hpp"
#include "conflict/merge.hpp"
#include "protocol/result.hpp"

namespace tutelle::conflict {

enum class Applied { applied, duplicate };

// A replica's state as one byte string: the canonical encodings of its records (in id order),
// then its tombstones (in dot order) with their scopes. Equal states give equal bytes.
std::string state_bytes(const std::vector<std::string>& encoded_records,
                        const std::vector<std::pair<Dot, std::string>>& tombstones);

class MemoryReplica : public DotOracle {
 public:
  Result<Applied> apply(const Changeset& changeset);

  // Drops the tombstones whose changeset can no longer arrive (conflict/compaction.hpp).
  // REQUIRES: changesets were applied in the order the hub delivers them. Returns how many.
  std::size_t compact();

  // The merged record, or nullptr when unknown or deleted.
  const RecordState* find(const std::string& id) const;
  const std::unordered_map<std::string, RecordState>& records() const { return records_; }
  const std::map<Dot, std::string>& tombstones() const { return tombstones_; }
  std::size_t changesets() const { return applied_.size(); }

  // state_bytes() of this replica.
  std::string encoded() const;

  // DotOracle.
  bool applied(const KeyBytes& origin, std::uint64_t seq) override;
  bool take_tombstone(const Dot& dot) override;
  void add_tombstone(const Dot& dot, const std::string& scope) override;

 private:
  struct ChangesetKeyHash {
    std::size_t operator()(const std::pair<KeyBytes, std::uint64_t>& key) const;
  };

  Status check_records(const Changeset& changeset) const;

  std::unordered_map<std::string, RecordState> records_;
  std::map<Dot, std::string> tombstones_;  // dot → the scope of the operation that superseded it
  std::unordered_set<std::pair<KeyBytes, std::uint64_t>, ChangesetKeyHash> applied_;
  Frontier frontier_;
};

}  // namespace tutelle::conflict
