#pragma once
// A replica: the LMDB store of a node or of the hub, holding merged records, their indexes and
// the changesets applied to them.
//
// On-disk tables (keys and values are bytes):
//   records     id → RecordState (canonical Cap'n Proto, protocol/tutelle.capnp)
//   by_type     type \0 id → ""                       the index by type
//   by_ident    kind:value \0 id → ""                 the index by identifier (several ids may
//                                                     share one: duplicate candidates); a record
//                                                     whose id is that kind:value is not listed
//                                                     here: its id finds it
//   by_home     home \0 id → ""                       the index by scope (a record's home never
//                                                     changes)
//   by_scope    scope \0 origin (32) seq (8 BE) → ""   the changesets table's index by scope
//   outbox      seq (8 bytes BE) → SignedChangeset     this replica's own changesets, in order
//   changesets  origin (32) seq (8 BE) → SignedChangeset   every other changeset applied
//   applied     origin (32) seq (8 BE) → hash (32) status (1)   what was applied, or refused
//   tombstones  origin (32) seq (8 BE) index (4 BE) → scope   dots superseded before they
//                                                     arrived, with the scope that did it
//   meta        name → value                          settings and counters (see meta_*)
//
// A changeset, its effect on records and on the indexes are written in one write transaction:
// they commit together or not at all.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conflict/compaction.hpp"
#include "conflict/merge.hpp"
#include "protocol/catalogue.hpp"
#include "protocol/codec.hpp"
#include "store/lmdb.hpp"

namespace tutelle::store {

enum class ApplyOutcome { applied, duplicate };

// What is known of a changeset applied (or refused) here.
struct AppliedMark {
  HashBytes hash{};
  bool refused = false;
};

// A key's 32 bytes as a string, as the tables' keys hold it.
std::string origin_bytes(const KeyBytes& origin);
std::string changeset_key(const KeyBytes& origin, std::uint64_t seq);

class Replica;

// One write transaction on a replica. Records touched are cached and written at commit().
// Implements the merge's DotOracle over the tables. Not thread-safe.
class Writer : public conflict::DotOracle {
 public:
  // The merged record, or nullopt if unknown or deleted.
  Result<std::optional<RecordState>> load(const std::string& id);

  // Applies a verified changeset: refuses a second, different changeset with the same origin
  // and seq (a fork); a changeset applied before changes nothing. `signed_bytes` is stored.
  // `own`: the changeset is this replica's own and goes to the outbox.
  Result<ApplyOutcome> apply(const Changeset& changeset, std::string_view signed_bytes,
                             const HashBytes& hash, bool own);
  // Records a changeset as refused: kept in the chain, no effect on records.
  Status mark_refused(const Changeset& changeset, std::string_view signed_bytes,
                      const HashBytes& hash, bool own);

  // For local edits, whose operations the caller merged itself (node::LocalBatch): stages the
  // new state of a record (deleted when it has no fields), then logs the changeset.
  // REQUIRES: load(record.id) was called in this transaction.
  void stage(RecordState record);
  Status log_applied(const Changeset& changeset, std::string_view signed_bytes,
                     const HashBytes& hash, bool own);

  Result<std::optional<std::string>> meta(const std::string& name);
  Status set_meta(const std::string& name, std::string_view value);

  // Writes the records touched and their index entries into the transaction, so that reads
  // through txn() see them too; the next load() reads them back. For several changesets in one
  // transaction whose checks read the records the ones before them left.
  Status flush();
  // flush(), then commits.
  Status commit();

  Txn& txn() { return txn_; }

  // DotOracle.
  bool applied(const KeyBytes& origin, std::uint64_t seq) override;
  bool take_tombstone(const Dot& dot) override;
  void add_tombstone(const Dot& dot, const std::string& scope) override;

  // Drops the tombstones whose changeset can no longer arrive (conflict/compaction.hpp): a
  // later changeset of the same origin was applied in the tombstone's scope. Returns how many.
  // REQUIRES: changesets were applied in the order the hub delivers them.
  // A node calls it once caught up with the hub (sync --once and serve), and the compact
  // commands do. The hub has none to drop: it decides each origin's chain in seq order and
  // marks a refused changeset applied (as 'r'), so no dot it holds awaits a changeset.
  Result<std::size_t> compact_tombstones();

 private:
  friend class Replica;
  Writer(Replica& replica, Txn txn) : replica_(replica), txn_(std::move(txn)) {}
  // The current state of a record in this transaction, loaded into the cache if needed.
  Result<std::optional<RecordState>*> cached(const std::string& id);
  Status write_record(const std::string& id);
  // What the indexes hold for a record as the transaction found it.
  struct Stored {
    std::string bytes;                     // its encoding in the records table
    std::vector<std::string> identifiers;  // identifier_keys()
    std::string type;                      // its by_type and by_home keys
    std::string home;
  };
  struct Slot {
    std::optional<Stored> before;  // nullopt: the record did not exist
    std::optional<RecordState> current;
  };
  Status update_indexes(const std::string& id, const std::optional<Stored>& before,
                        const RecordState* after);
  // Puts a changeset in the outbox (own) or in changesets and by_scope.
  Status store_changeset(const Changeset& changeset, std::string_view signed_bytes, bool own);
  // Adds to `frontier` the scope and seq of every changeset of `origin` applied here.
  Status observe_origin(conflict::Frontier& frontier, const KeyBytes& origin);

  Replica& replica_;
  Txn txn_;
  // Record id → what was stored and the current state. A record is written back when its
  // encoding differs from what was stored.
  std::map<std::string, Slot> cache_;
  Status deferred_;  // the first error of a DotOracle call, reported at commit()
};

class Replica {
 public:
  // `extra_tables`: tables of the caller's own (the hub's log, for one), opened beside ours.
  // A store written before by_home and by_scope existed gets them filled here, once.
  static Result<std::unique_ptr<Replica>> open(const std::filesystem::path& dir,
                                               EnvironmentOptions options = {},
                                               const std::vector<std::string>& extra_tables = {});

  Result<Writer> begin_write();
  Result<Txn> begin_read() const { return env_->begin_read(); }

  // Reads within `txn`.
  Result<std::optional<RecordState>> get(const Txn& txn, const std::string& id) const;
  Status for_each_record(const Txn& txn, const std::string& type,
                         const std::function<bool(const RecordState&)>& visit) const;
  Result<std::vector<std::string>> ids_by_identifier(const Txn& txn, IdentifierKind kind,
                                                     const std::string& value) const;
  Result<std::optional<std::string>> meta(const Txn& txn, const std::string& name) const;
  Result<std::optional<std::string>> signed_changeset(const Txn& txn, const KeyBytes& origin,
                                                      std::uint64_t seq, bool own) const;

  Environment& env() { return *env_; }
  const Table& table(const std::string& name) const { return env_->table(name); }

 private:
  // Whether by_home or by_scope is empty beside the table it indexes: a store from before them.
  Result<bool> scope_indexes_missing(const Txn& txn) const;
  Result<bool> check_scope_indexes() const;  // the same, in a read transaction of its own
  // Fills them, in a write transaction, when scope_indexes_missing() (checked there again).
  Status fill_scope_indexes();

  std::unique_ptr<Environment> env_;
};

// The index keys of a record: "kind:value" for each identifier value it holds.
std::vector<std::string> identifier_keys(const RecordState& record);

}  // namespace tutelle::store
