// Purging a scope through the indexes by scope: what the scope held goes, the rest stays, and a
// store written before the indexes existed gets them when it is opened.

#include "store/maintenance.hpp"

#include <catch2/catch.hpp>

#include "identity/changeset_signature.hpp"
#include "tests/support/process.hpp"

using namespace tutelle;
using namespace tutelle::store;

namespace {

const char* kUnit = "rnsr:202199101G";
const char* kOther = "rnsr:202199102H";

// One origin writing project records, one changeset per record.
struct Origin {
  identity::KeyPair keys;
  std::uint64_t seq = 0;
  HashBytes prev{};

  Origin() {
    REQUIRE(identity::sodium_ready().ok());
    keys = identity::generate_key_pair();
  }

  // Writes record `id` of scope `scope` into `replica`; a tombstone of another origin's dot, in
  // that scope, comes with it. `own`: the replica's own changeset.
  void write(Replica& replica, const std::string& scope, const std::string& id, bool own = false) {
    Changeset changeset;
    changeset.origin = keys.public_key;
    changeset.establishment = "0339901H";
    changeset.seq = ++seq;
    changeset.prev = prev;
    changeset.hlc = seq << 16;
    changeset.author = "steward@0339901H";
    changeset.scope = scope;
    changeset.operations.push_back(
        Operation{OpKind::set, id, "project", "title", Value{"Title of " + id}, {}});
    auto [bytes, hash] = identity::sign_changeset(keys, changeset);
    prev = hash;
    auto writer = replica.begin_write();
    REQUIRE(writer.ok());
    REQUIRE(writer->apply(changeset, bytes, hash, own).ok());
    writer->add_tombstone(Dot{KeyBytes{}, seq, 0}, scope);
    REQUIRE(writer->commit().ok());
  }
};

std::unique_ptr<Replica> open_replica(const testing::TempDir& dir) {
  auto replica = Replica::open(dir.path());
  REQUIRE(replica.ok());
  return std::move(replica.value());
}

bool holds(const Replica& replica, const std::string& id) {
  auto txn = replica.begin_read();
  REQUIRE(txn.ok());
  auto record = replica.get(txn.value(), id);
  REQUIRE(record.ok());
  return record->has_value();
}

std::size_t count(const Replica& replica, const std::string& table) {
  auto txn = replica.begin_read();
  REQUIRE(txn.ok());
  auto counted = txn->count(replica.table(table));
  REQUIRE(counted.ok());
  return counted.value();
}

// The keys of `table` that hold `text`, for the index tables.
std::size_t keys_holding(const Replica& replica, const std::string& table,
                         const std::string& text) {
  auto txn = replica.begin_read();
  REQUIRE(txn.ok());
  std::size_t found = 0;
  Status scanned = txn->scan(replica.table(table), "", [&](std::string_view key, auto) {
    if (key.find(text) != std::string_view::npos) ++found;
    return true;
  });
  REQUIRE(scanned.ok());
  return found;
}

// Two origins write in kUnit and kOther; the replica's own changeset is in kUnit.
void write_two_scopes(Replica& replica) {
  Origin own, other;
  own.write(replica, kUnit, "project:own", true);
  other.write(replica, kUnit, "project:a");
  other.write(replica, kUnit, "project:b");
  other.write(replica, kOther, "project:c");
}

void require_unit_purged(Replica& replica) {
  auto purged = purge_scope(replica, kUnit);
  REQUIRE(purged.ok());
  CHECK(purged->records == 3);
  CHECK(purged->changesets == 2);
  CHECK_FALSE(holds(replica, "project:own"));
  CHECK_FALSE(holds(replica, "project:a"));
  CHECK_FALSE(holds(replica, "project:b"));
  CHECK(holds(replica, "project:c"));
  CHECK(count(replica, "changesets") == 1);
  CHECK(count(replica, "outbox") == 1);
  CHECK(count(replica, "tombstones") == 1);
  CHECK(keys_holding(replica, "by_home", kUnit) == 0);
  CHECK(keys_holding(replica, "by_scope", kUnit) == 0);
  CHECK(keys_holding(replica, "by_home", kOther) == 1);
  CHECK(keys_holding(replica, "by_scope", kOther) == 1);
}

}  // namespace

TEST_CASE("a purge removes what the scope held, through its indexes, and nothing else") {
  testing::TempDir dir;
  auto replica = open_replica(dir);
  write_two_scopes(*replica);
  CHECK(keys_holding(*replica, "by_home", kUnit) == 3);
  CHECK(keys_holding(*replica, "by_scope", kUnit) == 2);
  require_unit_purged(*replica);
}

TEST_CASE("a store written before the indexes by scope gets them when opened") {
  testing::TempDir dir;
  {
    auto replica = open_replica(dir);
    write_two_scopes(*replica);
    auto writer = replica->begin_write();
    REQUIRE(writer.ok());
    REQUIRE(writer->txn().clear(replica->table("by_home")).ok());
    REQUIRE(writer->txn().clear(replica->table("by_scope")).ok());
    REQUIRE(writer->commit().ok());
  }
  auto reopened = open_replica(dir);
  CHECK(count(*reopened, "by_home") == 4);
  CHECK(count(*reopened, "by_scope") == 3);
  require_unit_purged(*reopened);
}
