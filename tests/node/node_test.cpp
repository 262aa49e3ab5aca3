// The node's local edits, in process: the catalogue's rules for every type, set fields,
// deletion, atomic refusal and a full map.

#include <catch2/catch.hpp>
#include <fstream>

#include "node/node.hpp"
#include "node/store_rewrite.hpp"
#include "store/maintenance.hpp"
#include "store/views.hpp"
#include "tests/support/process.hpp"

using namespace tutelle;
using namespace tutelle::node;
using tutelle::store::state_digest;
using tutelle::store::View;
using tutelle::testing::TempDir;

namespace {

std::unique_ptr<Node> make_node(const TempDir& dir, std::size_t map_size = std::size_t{1} << 30) {
  auto created = Node::create(dir / "node", InitOptions{"0339901H", "Garonne", false, ""});
  REQUIRE(created.ok());
  created.value().reset();
  auto node = Node::open(dir / "node", OpenOptions{map_size, true});
  REQUIRE(node.ok());
  return std::move(node.value());
}

FieldEdit set(const std::string& field, const std::string& value) {
  return FieldEdit{field, FieldEdit::Mode::assign, {value}};
}

Result<std::string> put(Node& node, RecordEdit edit) {
  auto batch = node.begin_batch("alice@univ-garonne.fr");
  REQUIRE(batch.ok());
  auto id = batch->edit(edit);
  if (!id) return id.error();
  auto committed = batch->commit();
  if (!committed) return committed.error();
  return id;
}

// A value that passes each field kind's rules.
std::string valid_value(const FieldSpec& field) {
  switch (field.kind) {
    case FieldKind::integer: return "2024";
    case FieldKind::decimal: return "1250.50";
    case FieldKind::date: return "2024-02-29";
    case FieldKind::boolean: return "true";
    case FieldKind::choice: return field.choices.front();
    case FieldKind::reference:
    case FieldKind::reference_set: return "structure:0123456789abcdef01234567";
    case FieldKind::identifier:
      switch (field.identifier) {
        case IdentifierKind::orcid: return "0000-0002-1825-0097";
        case IdentifierKind::uai: return "0342321N";
        case IdentifierKind::rnsr: return "195817959H";
        case IdentifierKind::ror: return "02feahw73";
        case IdentifierKind::siret: return "13002054800017";
        case IdentifierKind::siren: return "130020548";
        case IdentifierKind::idref: return "026403447";
        case IdentifierKind::idhal: return "jean-dupont";
        case IdentifierKind::doi: return "10.1000/182";
        case IdentifierKind::funder_doi: return "10.13039/501100001665";
      }
      return "";
    default: return "a text";
  }
}

// A value that breaks the field kind's rules, or "" when every text is valid (text kinds).
std::string invalid_value(const FieldSpec& field) {
  switch (field.kind) {
    case FieldKind::integer: return "twelve";
    case FieldKind::decimal: return "1,5";
    case FieldKind::date: return "2023-02-29";
    case FieldKind::boolean: return "yes";
    case FieldKind::choice: return "not-a-choice";
    case FieldKind::reference:
    case FieldKind::reference_set: return "no colon";
    case FieldKind::identifier: return "Not Valid";
    default: return "";
  }
}

RecordEdit full_edit(const TypeSpec& type) {
  RecordEdit edit{type.name, std::nullopt, std::nullopt, {}, false};
  for (const auto& field : type.fields) {
    if (field.name == "kind" && type.name == "structure") {
      edit.fields.push_back(set("kind", "department"));
    } else {
      edit.fields.push_back(set(field.name, valid_value(field)));
    }
  }
  return edit;
}

}  // namespace

TEST_CASE("every type of the catalogue accepts a record with every field valid") {
  TempDir dir;
  auto node = make_node(dir);
  for (const auto& type : catalogue()) {
    INFO(type.name);
    auto id = put(*node, full_edit(type));
    REQUIRE(id.ok());
    auto txn = node->replica().begin_read();
    auto record = node->replica().get(txn.value(), id.value());
    REQUIRE(record.ok());
    REQUIRE(record.value().has_value());
    CHECK(record.value()->fields.size() == type.fields.size());
  }
}

TEST_CASE("every required field of every type is enforced, naming the field") {
  TempDir dir;
  auto node = make_node(dir);
  for (const auto& type : catalogue()) {
    for (const auto& required : type.fields) {
      if (!required.required) continue;
      INFO(type.name << "." << required.name);
      RecordEdit edit = full_edit(type);
      edit.fields.erase(
          std::remove_if(edit.fields.begin(), edit.fields.end(),
                         [&](const FieldEdit& f) { return f.field == required.name; }),
          edit.fields.end());
      auto id = put(*node, edit);
      REQUIRE_FALSE(id.ok());
      CHECK_THAT(id.error().message,
                 Catch::Contains(type.name + "." + required.name + ": is required"));
    }
  }
}

TEST_CASE("an invalid value of every field kind is refused with the field, value and rule") {
  TempDir dir;
  auto node = make_node(dir);
  for (const auto& type : catalogue()) {
    for (const auto& field : type.fields) {
      std::string bad = invalid_value(field);
      if (bad.empty()) continue;
      INFO(type.name << "." << field.name << " = " << bad);
      RecordEdit edit = full_edit(type);
      for (auto& f : edit.fields) {
        if (f.field == field.name) f.values = {bad};
      }
      auto id = put(*node, edit);
      REQUIRE_FALSE(id.ok());
      CHECK_THAT(id.error().message, Catch::Contains(field.name) && Catch::Contains(bad));
    }
  }
}

TEST_CASE("an unknown type or field is refused with the known ones listed") {
  TempDir dir;
  auto node = make_node(dir);
  auto bad_type =
      put(*node, RecordEdit{"laboratory", std::nullopt, std::nullopt, {set("name", "x")}, false});
  REQUIRE_FALSE(bad_type.ok());
  CHECK_THAT(bad_type.error().message, Catch::Contains("known: structure, person"));
  auto bad_field = put(*node, RecordEdit{"person",
                                         std::nullopt,
                                         std::nullopt,
                                         {set("family_name", "Curie"), set("nickname", "M")},
                                         false});
  REQUIRE_FALSE(bad_field.ok());
  CHECK_THAT(bad_field.error().message, Catch::Contains("person.nickname: no such field"));
}

TEST_CASE("a natural key gives the record its id, so a second put edits the same record") {
  TempDir dir;
  auto node = make_node(dir);
  auto first = put(*node, RecordEdit{"person",
                                     std::nullopt,
                                     std::nullopt,
                                     {set("family_name", "Curie"),
                                      set("orcid", "https://orcid.org/0000-0002-1825-0097")},
                                     false});
  REQUIRE(first.ok());
  CHECK(first.value() == "orcid:0000-0002-1825-0097");
  auto second =
      put(*node, RecordEdit{"person",
                            std::nullopt,
                            std::nullopt,
                            {set("orcid", "0000-0002-1825-0097"), set("given_name", "Marie")},
                            false});
  REQUIRE(second.ok());
  CHECK(second.value() == first.value());
}

TEST_CASE("set fields add, remove and replace elements") {
  TempDir dir;
  auto node = make_node(dir);
  auto id =
      put(*node,
          RecordEdit{"project",
                     "project:p1",
                     std::nullopt,
                     {set("title", "Littoral"), FieldEdit{"structures",
                                                          FieldEdit::Mode::assign,
                                                          {"rnsr:202199101G", "rnsr:202199102H"}}},
                     false});
  REQUIRE(id.ok());
  REQUIRE(put(*node,
              RecordEdit{"project",
                         "project:p1",
                         std::nullopt,
                         {FieldEdit{"structures", FieldEdit::Mode::remove, {"rnsr:202199101G"}},
                          FieldEdit{"people", FieldEdit::Mode::add, {"orcid:0000-0002-1825-0097"}}},
                         false})
              .ok());
  auto txn = node->replica().begin_read();
  View view(node->replica(), txn.value());
  auto record = node->replica().get(txn.value(), "project:p1");
  auto shown = view.record_json(*record.value());
  CHECK(shown["fields"]["structures"] == nlohmann::json::array({"rnsr:202199102H"}));
  CHECK(shown["fields"]["people"] == nlohmann::json::array({"orcid:0000-0002-1825-0097"}));
  auto missing =
      put(*node, RecordEdit{"project",
                            "project:p1",
                            std::nullopt,
                            {FieldEdit{"structures", FieldEdit::Mode::remove, {"rnsr:202199101G"}}},
                            false});
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().message, Catch::Contains("is not in the set"));
}

TEST_CASE("a deleted record is gone from the records and from both indexes") {
  TempDir dir;
  auto node = make_node(dir);
  auto id =
      put(*node, RecordEdit{"person",
                            std::nullopt,
                            std::nullopt,
                            {set("family_name", "Curie"), set("orcid", "0000-0002-1825-0097")},
                            false});
  REQUIRE(id.ok());
  REQUIRE(put(*node, RecordEdit{"person", id.value(), std::nullopt, {}, true}).ok());
  auto txn = node->replica().begin_read();
  CHECK_FALSE(node->replica().get(txn.value(), id.value()).value().has_value());
  CHECK(node->replica()
            .ids_by_identifier(txn.value(), IdentifierKind::orcid, "0000-0002-1825-0097")
            .value()
            .empty());
  int listed = 0;
  REQUIRE(node->replica()
              .for_each_record(txn.value(), "person", [&](const RecordState&) { return ++listed; })
              .ok());
  CHECK(listed == 0);
}

TEST_CASE("a batch whose edit is refused keeps the other edits and nothing of the refused one") {
  TempDir dir;
  auto node = make_node(dir);
  auto batch = node->begin_batch("alice@univ-garonne.fr");
  REQUIRE(batch.ok());
  REQUIRE(batch
              ->edit(RecordEdit{
                  "person", "person:a", std::nullopt, {set("family_name", "Curie")}, false})
              .ok());
  REQUIRE_FALSE(batch
                    ->edit(RecordEdit{
                        "person", "person:b", std::nullopt, {set("given_name", "Pierre")}, false})
                    .ok());
  REQUIRE(batch->commit().ok());
  auto txn = node->replica().begin_read();
  CHECK(node->replica().get(txn.value(), "person:a").value().has_value());
  CHECK_FALSE(node->replica().get(txn.value(), "person:b").value().has_value());
}

TEST_CASE("a full map is reported with what to do, and nothing of the batch is written") {
  TempDir dir;
  auto node = make_node(dir, std::size_t{1} << 20);
  auto before = [&] {
    auto txn = node->replica().begin_read();
    return state_digest(node->replica(), txn.value()).value();
  }();
  auto batch = node->begin_batch("alice@univ-garonne.fr");
  REQUIRE(batch.ok());
  for (int i = 0; i < 5000; ++i) {
    REQUIRE(batch
                ->edit(RecordEdit{"person",
                                  "person:p" + std::to_string(i),
                                  std::nullopt,
                                  {set("family_name", std::string(200, 'x'))},
                                  false})
                .ok());
  }
  auto committed = batch->commit();
  REQUIRE_FALSE(committed.ok());
  CHECK(committed.error().code == ErrorCode::map_full);
  CHECK_THAT(committed.error().message, Catch::Contains("--map-size"));
  auto txn = node->replica().begin_read();
  CHECK(state_digest(node->replica(), txn.value()).value() == before);
  CHECK(txn->count(node->replica().table("outbox")).value() == 0);
}

TEST_CASE("a store rewrite waits while the node is open, then keeps every record and clears") {
  TempDir dir;
  auto node = make_node(dir);
  auto id = put(*node, RecordEdit{"project", std::nullopt, std::nullopt, {set("title", "Kept")}});
  REQUIRE(id.ok());
  auto writer = node->replica().begin_write();
  REQUIRE(writer.ok());
  REQUIRE(writer->set_meta(store::kRewritePending, "1").ok());
  REQUIRE(writer->commit().ok());
  auto digest_of = [](Node& n) {
    auto txn = n.replica().begin_read();
    REQUIRE(txn.ok());
    auto digest = store::state_digest(n.replica(), txn.value());
    REQUIRE(digest.ok());
    return digest.value();
  };
  std::string before = digest_of(*node);

  auto busy = rewrite_store(dir / "node");
  REQUIRE(busy.ok());
  CHECK(busy.value() == Rewrite::busy);

  node.reset();
  std::filesystem::create_directories(dir / "node" / "store.rewrite");
  std::ofstream(dir / "node" / "store.rewrite" / "data.mdb") << "left by a crash";
  auto done = rewrite_store(dir / "node");
  REQUIRE(done.ok());
  CHECK(done.value() == Rewrite::done);
  CHECK_FALSE(std::filesystem::exists(dir / "node" / "store.rewrite"));
  auto again = rewrite_store(dir / "node");
  REQUIRE(again.ok());
  CHECK(again.value() == Rewrite::not_needed);

  auto reopened = Node::open(dir / "node");
  REQUIRE(reopened.ok());
  CHECK(digest_of(*reopened.value()) == before);
  auto txn = reopened.value()->replica().begin_read();
  REQUIRE(txn.ok());
  auto record = reopened.value()->replica().get(txn.value(), id.value());
  REQUIRE(record.ok());
  CHECK(record.value().has_value());
  auto mark = reopened.value()->replica().meta(txn.value(), store::kRewritePending);
  REQUIRE(mark.ok());
  CHECK_FALSE(mark.value().has_value());
}
