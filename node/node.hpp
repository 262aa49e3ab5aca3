#pragma once
// An establishment's node: its data directory, its key, its store, and local edits.
//
// Data directory:
//   DIR/node.key, DIR/node.pub   the node's Ed25519 key pair (identity/keys.hpp)
//   DIR/store/                   the LMDB replica (store/replica.hpp)
//   DIR/outbox.changed           written after each commit of own changesets, which wakes a
//                                serving node (node/outbox_watch.hpp)
// The replica's meta table holds: establishment (UAI), name, role (node | partner), seq (last
// own seq, 8 bytes BE), prev (hash of the last own changeset), hlc (last clock issued).

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conflict/hlc.hpp"
#include "identity/habilitations.hpp"
#include "identity/keys.hpp"
#include "node/store_rewrite.hpp"
#include "protocol/catalogue.hpp"
#include "store/replica.hpp"

namespace tutelle::node {

struct InitOptions {
  std::string establishment;  // UAI, validated
  std::string name;
  bool partner = false;  // a partner's read-only node
  std::string partner_name;
};

struct OpenOptions {
  std::size_t map_size = std::size_t{64} << 30;
  bool durable = true;
  bool meta_sync = true;  // see store::EnvironmentOptions
};

// One field of a record edit, as `FIELD=V`, `FIELD+=V`, `FIELD-=V` or `FIELD=` say it.
// `resolve` gives a single-valued field one value that supersedes all it holds (a conflict's
// resolution). The field conflict::kMergedInto with one value makes the record a merged
// duplicate of that record (what `import` reads back of an export).
struct FieldEdit {
  enum class Mode { assign, add, remove, clear, resolve };
  std::string field;
  Mode mode = Mode::assign;
  std::vector<std::string> values;  // text forms; several only for a set field
};

// A change to one record. Without an id, the id is the natural key's or a fresh random one.
struct RecordEdit {
  std::string type;
  std::optional<std::string> id;
  std::optional<std::string> home;  // only when creating; otherwise must equal the record's
  std::vector<FieldEdit> fields;
  bool delete_record = false;
};

struct BatchSummary {
  std::size_t records = 0;
  std::size_t operations = 0;
  std::vector<std::uint64_t> seqs;  // the changesets written
};

class Node;

// Whether a batch checks its author's habilitations (identity/habilitations.hpp) before it
// stages an edit, refusing at once what the hub would refuse (node/authorship.cpp). The hub
// checks every changeset whatever the node did; `none` serves imports and tests.
enum class AuthorCheck { none, habilitations };

// Local edits that become signed changesets, one per scope touched, in one write transaction.
// An edit that fails leaves nothing of itself in the batch. Destroying a batch without
// commit() writes nothing.
class LocalBatch {
 public:
  // Stages one record edit; returns the record's id.
  Result<std::string> edit(const RecordEdit& edit);
  // Folds `duplicate` into `survivor`, two records of one type: the survivor gains each value
  // of the duplicate it lacks (a single-valued field it holds with another value gets the
  // duplicate's beside it: a conflict, so nothing is lost), and the duplicate becomes a merged
  // duplicate that leads to the survivor. Returns the number of operations. After a failure
  // the batch must not be committed.
  Result<std::size_t> merge(const std::string& survivor, const std::string& duplicate);
  std::size_t operations() const;
  // Signs the changesets and commits them with their effect. An empty batch commits nothing.
  Result<BatchSummary> commit();

 private:
  friend class Node;
  LocalBatch(Node& node, store::Writer writer, std::string author, std::uint64_t last_seq)
      : node_(node), writer_(std::move(writer)), author_(std::move(author)), last_seq_(last_seq) {}
  Result<std::string> resolve_home(const TypeSpec& type, const RecordEdit& edit,
                                   const std::vector<Operation>& ops, const std::string& id);
  // The pending changeset of a scope and record type. One changeset holds one type of one
  // scope, so the hub can forward it whole to a partner who reads only some types.
  Changeset& pending_for(const std::string& scope, const std::string& type);
  // Loads the author's habilitations: the batch checks its edits from now on.
  Status load_author();
  // Checks operations [first, end) of `changeset` against the author's habilitations.
  Status check_author(const Changeset& changeset, std::size_t first);
  // Merges `ops` into `record` (its state before them) in the pending changeset of its home
  // and type, checks the result, and stages it; on failure leaves nothing of them.
  Status stage_operations(const TypeSpec& type, RecordState record, std::vector<Operation> ops,
                          bool required);

  Node& node_;
  store::Writer writer_;
  std::string author_;
  std::uint64_t last_seq_;          // the origin's last seq before this batch
  std::vector<Changeset> pending_;  // seqs last_seq_ + 1, + 2, …
  std::size_t records_ = 0;
  std::optional<identity::Author> checked_author_;  // set: edits are checked
};

class Node {
 public:
  static Result<std::unique_ptr<Node>> create(const std::filesystem::path& dir,
                                              const InitOptions& options);
  static Result<std::unique_ptr<Node>> open(const std::filesystem::path& dir,
                                            OpenOptions options = {});

  Result<LocalBatch> begin_batch(const std::string& author, AuthorCheck check = AuthorCheck::none);
  // The EPPN that holds establishment_admin on this node's establishment without a record:
  // meta "steward", else "steward@<UAI>" as the hub's enrolment does by default.
  Result<std::string> steward() const;
  Status set_steward(const std::string& eppn);

  store::Replica& replica() { return *replica_; }
  const identity::KeyPair& keys() const { return keys_; }
  const std::string& establishment() const { return establishment_; }
  const std::string& role() const { return role_; }
  const std::filesystem::path& dir() const { return dir_; }
  conflict::HybridClock& clock() { return clock_; }

 private:
  friend class LocalBatch;
  Node() = default;

  std::optional<DirectoryLock> lock_;  // first, so that it is released last
  std::filesystem::path dir_;
  identity::KeyPair keys_;
  std::unique_ptr<store::Replica> replica_;
  std::string establishment_;
  std::string role_;
  conflict::HybridClock clock_;
};

// Parses `FIELD=V`, `FIELD+=V`, `FIELD-=V`, `FIELD=` (clear).
Result<FieldEdit> parse_field_edit(std::string_view word);

}  // namespace tutelle::node
