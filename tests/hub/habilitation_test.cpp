// Habilitations with real processes: the hub checks each changeset's author against the rule
// table, whatever the node did, refuses what the author may not do with the rule that refused
// it, and forwards nothing of it; a habilitation the steward grants lets the same write through.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "identity/keys.hpp"
#include "node/node.hpp"
#include "tests/hub/federation.hpp"

using namespace tutelle;
using namespace tutelle::testing;
using Catch::Contains;
using nlohmann::json;

namespace {

const char* kUnit = "rnsr:202199101G";
const char* kInes = "ines.lemaire@univ-garonne.fr";

void create_shared_unit(Federation& f) {
  f.put(f.a, {"structure", "rnsr=202199101G", "kind=unit", "name=Laboratoire des Environnements",
              "tutelles+=uai:0339901H", "tutelles+=uai:0759901E", "lead_tutelle=uai:0339901H"});
  f.sync(f.a);
  f.sync(f.b);
}

// Sets one field of a record on the node at `dir` as `author`, through a batch that checks no
// habilitation: what an old or hostile node would send.
void put_unchecked(const std::string& dir, const std::string& author, const std::string& type,
                   std::optional<std::string> id, const std::string& field,
                   const std::string& value) {
  auto node = node::Node::open(dir);
  REQUIRE(node.ok());
  auto batch = node.value()->begin_batch(author);
  REQUIRE(batch.ok());
  node::FieldEdit edit{field, node::FieldEdit::Mode::assign, {value}};
  REQUIRE(batch->edit(node::RecordEdit{type, std::move(id), std::nullopt, {edit}, false}).ok());
  REQUIRE(batch->commit().ok());
}

void edit_unit_unchecked(const std::string& dir, const std::string& author,
                         const std::string& field, const std::string& value) {
  put_unchecked(dir, author, "structure", kUnit, field, value);
}

json unit_on(const std::string& node) {
  return run_json({node_bin(), "get", "--dir", node, kUnit});
}

std::string export_of(const std::string& node) {
  auto exported = run({node_bin(), "export", "--dir", node});
  REQUIRE(exported.exit_code == 0);
  return exported.out;
}

const char* kNoHabilitation =
    "ines.lemaire@univ-garonne.fr (no habilitation in effect for 0339901H) may not edit "
    "structure rnsr:202199101G";

}  // namespace

TEST_CASE("a node refuses at once a write its author has no habilitation for, naming the rule") {
  Federation f;
  create_shared_unit(f);
  auto put = run({node_bin(), "put", "--dir", f.a, "structure", kUnit,
                  "website=https://refused.example", "--author", kInes});
  CHECK(put.exit_code != 0);
  CHECK_THAT(put.err, Contains(kNoHabilitation));
  CHECK(run_json({node_bin(), "status", "--dir", f.a})["outbox"] == 0);
  CHECK_FALSE(unit_on(f.a)["fields"].contains("website"));
}

TEST_CASE(
    "the hub refuses a write by an author without the habilitation, and it crosses only "
    "once the steward grants one") {
  Federation f;
  create_shared_unit(f);

  // Ines is no one yet: the hub refuses her edit with the rule, b never sees it.
  edit_unit_unchecked(f.a, kInes, "website", "https://refused.example");
  json refused = f.sync(f.a);
  CHECK(refused["refused"] == 1);
  json status = run_json({node_bin(), "status", "--dir", f.a});
  REQUIRE(status["refused"].size() == 1);
  CHECK_THAT(status["refused"].begin()->get<std::string>(),
             Contains(std::string(kNoHabilitation) + ": a write needs a habilitation in effect"));
  f.wait_for_log(kNoHabilitation);
  f.sync(f.b);
  CHECK_FALSE(unit_on(f.b)["fields"].contains("website"));
  CHECK(export_of(f.b).find("refused.example") == std::string::npos);

  // Garonne's steward makes her unit director of the shared unit; the same write now crosses.
  f.put(f.a, {"habilitation", std::string("principal=") + kInes, "profile=unit_director",
              std::string("perimeter=") + kUnit});
  f.put(f.a, {"structure", kUnit, "website=https://lec.example", "--author", kInes});
  json accepted = f.sync(f.a);
  CHECK(accepted["accepted"] == 2);
  CHECK(accepted["refused"] == 0);
  f.sync(f.b);
  CHECK(unit_on(f.b)["fields"]["website"] == "https://lec.example");
  CHECK(export_of(f.b).find("refused.example") == std::string::npos);
  CHECK(f.digest(f.a) == f.digest(f.b));
}

TEST_CASE("a habilitation counts only in the changesets of the establishment that gave it") {
  Federation f;
  create_shared_unit(f);
  f.put(f.a, {"habilitation", std::string("principal=") + kInes, "profile=unit_director",
              std::string("perimeter=") + kUnit});
  f.sync(f.a);
  f.sync(f.b);

  // CNEL's node holds Garonne's habilitation of Ines, yet may not write in her name.
  edit_unit_unchecked(f.b, kInes, "city", "Arcachon");
  CHECK(f.sync(f.b)["refused"] == 1);
  json status = run_json({node_bin(), "status", "--dir", f.b});
  REQUIRE(status["refused"].size() == 1);
  CHECK_THAT(status["refused"].begin()->get<std::string>(),
             Contains("(no habilitation in effect for 0759901E)"));
  f.sync(f.a);
  CHECK_FALSE(unit_on(f.a)["fields"].contains("city"));
}

TEST_CASE("the steward named at enrolment holds establishment admin, the default one then not") {
  Federation f;
  auto keys = identity::read_key_pair(f.a, "node");
  REQUIRE(keys.ok());
  f.hub_json("enroll",
             {"--establishment", "0339901H", "--key", identity::to_hex(keys.value().public_key),
              "--steward", "dsi@univ-garonne.fr"});
  for (const auto& node : f.hub_lines("nodes")) {
    if (node["establishment"] == "0339901H") CHECK(node["steward"] == "dsi@univ-garonne.fr");
    if (node["establishment"] == "0759901E") CHECK(node["steward"] == "steward@0759901E");
  }
  {
    auto node = node::Node::open(f.a);
    REQUIRE(node.ok());
    REQUIRE(node.value()->set_steward("dsi@univ-garonne.fr").ok());
  }
  f.put(f.a, {"person", "family_name=Lemaire"});
  CHECK(run_json({node_bin(), "log", "--dir", f.a})["author"] == "dsi@univ-garonne.fr");
  CHECK(f.sync(f.a)["accepted"] == 1);

  put_unchecked(f.a, "steward@0339901H", "person", std::nullopt, "family_name", "Roux");
  json pushed = f.sync(f.a);
  CHECK(pushed["refused"] == 1);
  CHECK_THAT(run_json({node_bin(), "status", "--dir", f.a})["refused"]["2"].get<std::string>(),
             Contains("steward@0339901H (no habilitation in effect for 0339901H)"));
}

TEST_CASE("a refused edit that a later one superseded leaves no tombstone at the hub or on nodes") {
  Federation f;
  create_shared_unit(f);

  // Offline, Ines's edit (the hub will refuse it), then the steward's, who saw it, replaces it.
  edit_unit_unchecked(f.a, kInes, "website", "https://refused.example");
  f.put(f.a, {"structure", kUnit, "website=https://lec.example"});
  json pushed = f.sync(f.a);
  CHECK(pushed["refused"] == 1);
  CHECK(pushed["accepted"] == 1);

  // b gets the steward's edit alone: the dot it superseded awaited a changeset that will never
  // come, and b drops that tombstone once caught up.
  json pulled = f.sync(f.b);
  CHECK(pulled["tombstones_dropped"] == 1);
  CHECK(unit_on(f.b)["fields"]["website"] == "https://lec.example");
  CHECK(unit_on(f.a)["fields"]["website"] == "https://lec.example");
  CHECK(run_json({node_bin(), "compact", "--dir", f.b})["tombstones_left"] == 0);
  CHECK(run_json({node_bin(), "compact", "--dir", f.a})["tombstones_left"] == 0);
  json hub = f.hub_json("compact");
  CHECK(hub["tombstones_dropped"] == 0);
  CHECK(hub["tombstones_left"] == 0);
  CHECK(f.digest(f.a) == f.digest(f.b));
}
