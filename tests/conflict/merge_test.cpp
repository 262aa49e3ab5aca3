// The merge, case by case: causality, concurrency and precedence, observed-remove sets,
// deletion, resolution, merges of duplicates and superseded dots that arrive late.

#include <catch2/catch.hpp>

#include "conflict/memory_replica.hpp"
#include "protocol/catalogue.hpp"

using namespace tutelle;
using conflict::MemoryReplica;

namespace {

const std::string kRecord = "project:000000000000000000000001";
const std::string kScope = "rnsr:202199101G";

KeyBytes key(std::uint8_t first) {
  KeyBytes out{};
  out[0] = first;
  return out;
}

// A node's changesets, numbered from 1, at clocks it is told.
struct Writer {
  KeyBytes origin;
  std::string establishment;
  std::uint64_t seq = 0;

  Changeset changeset(std::uint64_t hlc, std::vector<Operation> ops) {
    Changeset out;
    out.origin = origin;
    out.establishment = establishment;
    out.seq = ++seq;
    out.hlc = hlc;
    out.author = "someone@" + establishment;
    out.scope = kScope;
    out.operations = std::move(ops);
    return out;
  }
};

Operation set(const std::string& field, const std::string& value, std::vector<Dot> seen = {}) {
  return Operation{OpKind::set, kRecord, "project", field, Value{value}, std::move(seen)};
}

Operation add(const std::string& value) {
  return Operation{OpKind::add, kRecord, "project", "structures", Value{value}, {}};
}

Operation remove(std::vector<Dot> seen) {
  return Operation{OpKind::remove, kRecord, "project", "structures", Value{}, std::move(seen)};
}

Operation erase(std::vector<Dot> seen) {
  return Operation{OpKind::delete_record, kRecord, "project", "", Value{}, std::move(seen)};
}

void apply(MemoryReplica& replica, const Changeset& changeset) {
  auto applied = replica.apply(changeset);
  REQUIRE(applied.ok());
}

// The values of a field, in dot order.
std::vector<std::string> values(const MemoryReplica& replica, const std::string& field) {
  std::vector<std::string> out;
  const RecordState* record = replica.find(kRecord);
  const FieldState* state = record ? record->field(field) : nullptr;
  if (state == nullptr) return out;
  for (const auto& entry : state->entries) out.push_back(value_text(entry.value));
  return out;
}

Writer garonne{key(1), "0339901H"};
Writer cnel{key(2), "0759901E"};

}  // namespace

TEST_CASE("an edit that saw the current value replaces it without a conflict") {
  Writer a = garonne, b = cnel;
  MemoryReplica replica;
  auto first = a.changeset(10, {set("title", "Érosion")});
  apply(replica, first);
  apply(replica, b.changeset(20, {set("title", "Érosion des côtes", {first.dot(0)})}));
  CHECK(values(replica, "title") == std::vector<std::string>{"Érosion des côtes"});
  CHECK_FALSE(conflict::is_conflict("project", *replica.find(kRecord)->field("title")));
}

TEST_CASE("two edits that did not see each other both survive as a conflict") {
  Writer a = garonne, b = cnel;
  auto base = a.changeset(10, {set("title", "Érosion")});
  auto from_a = a.changeset(30, {set("title", "Érosion côtière", {base.dot(0)})});
  auto from_b = b.changeset(20, {set("title", "Érosion des côtes", {base.dot(0)})});
  MemoryReplica one, two;
  for (const auto* c : {&base, &from_a, &from_b}) apply(one, *c);
  for (const auto* c : {&from_b, &base, &from_a}) apply(two, *c);

  REQUIRE(one.encoded() == two.encoded());
  const FieldState& title = *one.find(kRecord)->field("title");
  CHECK(title.entries.size() == 2);
  CHECK(conflict::is_conflict("project", title));
  SECTION("the later clock is shown") {
    CHECK(value_text(conflict::shown(title, "").value) == "Érosion côtière");
  }
  SECTION("the lead tutelle is shown before a later clock") {
    CHECK(value_text(conflict::shown(title, "0759901E").value) == "Érosion des côtes");
  }
}

TEST_CASE("between equal clocks the greater origin key is shown") {
  Writer a = garonne, b = cnel;
  MemoryReplica replica;
  apply(replica, a.changeset(50, {set("acronym", "ERO")}));
  apply(replica, b.changeset(50, {set("acronym", "EDC")}));
  CHECK(value_text(conflict::shown(*replica.find(kRecord)->field("acronym"), "").value) == "EDC");
}

TEST_CASE("an element added concurrently with its removal survives the removal") {
  Writer a = garonne, b = cnel;
  auto added = a.changeset(10, {add("rnsr:202199101G")});
  auto removed = a.changeset(20, {remove({added.dot(0)})});
  auto again = b.changeset(15, {add("rnsr:202199101G")});
  for (int order = 0; order < 2; ++order) {
    MemoryReplica replica;
    apply(replica, added);
    apply(replica, order == 0 ? removed : again);
    apply(replica, order == 0 ? again : removed);
    CHECK(values(replica, "structures") == std::vector<std::string>{"rnsr:202199101G"});
  }
}

TEST_CASE("a delete and a concurrent edit leave the record holding the edit alone") {
  Writer a = garonne, b = cnel;
  auto created = a.changeset(10, {set("title", "Érosion"), set("acronym", "ERO")});
  auto deleted = a.changeset(20, {erase({created.dot(0), created.dot(1)})});
  auto edited = b.changeset(15, {set("acronym", "EDC", {created.dot(1)})});
  std::string expected;
  for (int order = 0; order < 2; ++order) {
    MemoryReplica replica;
    apply(replica, created);
    apply(replica, order == 0 ? deleted : edited);
    apply(replica, order == 0 ? edited : deleted);
    REQUIRE(replica.find(kRecord) != nullptr);
    CHECK(values(replica, "title").empty());
    CHECK(values(replica, "acronym") == std::vector<std::string>{"EDC"});
    if (order == 0) expected = replica.encoded();
    CHECK(replica.encoded() == expected);
  }
}

TEST_CASE("a deleted record stays deleted when what the delete saw arrives after it") {
  Writer a = garonne, b = cnel;
  auto created = a.changeset(10, {set("title", "Érosion")});
  auto deleted = b.changeset(20, {erase({created.dot(0)})});
  MemoryReplica replica;
  apply(replica, deleted);
  CHECK(replica.tombstones().size() == 1);
  apply(replica, created);
  CHECK(replica.find(kRecord) == nullptr);
  CHECK(replica.tombstones().empty());
  apply(replica, created);
  CHECK(replica.find(kRecord) == nullptr);
}

TEST_CASE("a resolution supersedes every value of a conflict") {
  Writer a = garonne, b = cnel;
  auto one = a.changeset(10, {set("title", "Érosion côtière")});
  auto two = b.changeset(11, {set("title", "Érosion des côtes")});
  Operation resolution = set("title", "Érosion du littoral", {one.dot(0), two.dot(0)});
  resolution.kind = OpKind::resolve;
  auto resolved = b.changeset(30, {resolution});
  MemoryReplica replica;
  for (const auto* c : {&one, &two, &resolved}) apply(replica, *c);
  CHECK(values(replica, "title") == std::vector<std::string>{"Érosion du littoral"});
}

TEST_CASE("a merged duplicate leads to its survivor and keeps what it had not seen") {
  Writer a = garonne, b = cnel;
  auto created = a.changeset(10, {set("title", "Érosion")});
  Operation merge{OpKind::merge,
                  kRecord,
                  "project",
                  "",
                  Value{std::string("project:000000000000000000000002")},
                  {created.dot(0)}};
  auto merged = a.changeset(20, {merge});
  auto concurrent = b.changeset(15, {set("acronym", "ERO")});
  MemoryReplica replica;
  for (const auto* c : {&created, &concurrent, &merged}) apply(replica, *c);
  const RecordState* record = replica.find(kRecord);
  REQUIRE(record != nullptr);
  CHECK(conflict::merged_into(*record) == "project:000000000000000000000002");
  CHECK(values(replica, "title").empty());
  CHECK(values(replica, "acronym") == std::vector<std::string>{"ERO"});
}

TEST_CASE("an operation superseding an earlier one of its own changeset leaves no tombstone") {
  Writer a = garonne, b = cnel;
  // b's changeset 1 sets the title twice, the second superseding the first; a saw the first
  // and superseded it too, and a's changeset arrives first here.
  Changeset both = b.changeset(10, {set("title", "x")});
  both.operations.push_back(set("title", "y", {both.dot(0)}));
  auto early = a.changeset(20, {set("acronym", "z"), set("title", "w", {both.dot(0)})});
  MemoryReplica one, two;
  apply(one, early);
  apply(one, both);
  apply(two, both);
  apply(two, early);
  CHECK(one.tombstones().empty());
  CHECK(one.encoded() == two.encoded());
}

TEST_CASE("a changeset that refers to a record of another scope changes nothing") {
  Writer a = garonne;
  MemoryReplica replica;
  apply(replica, a.changeset(10, {set("title", "Érosion")}));
  Changeset elsewhere = a.changeset(20, {set("title", "Autre")});
  elsewhere.scope = "rnsr:202199102H";
  std::string before = replica.encoded();
  auto refused = replica.apply(elsewhere);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::refused);
  CHECK(replica.encoded() == before);
}
