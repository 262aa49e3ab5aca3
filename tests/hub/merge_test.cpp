// Consolidation with real processes: two establishment nodes edit one unit while the hub is
// down, then converge to one record with the same conflicts and digest; a resolution on one
// clears the conflict on both; a person created twice and given one ORCID is a merge candidate
// at the hub and a merge folds it, everywhere.

#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/hub/federation.hpp"

using namespace tutelle::testing;
using nlohmann::json;

namespace {

const char* kUnit = "rnsr:202199101G";
const char* kOrcid = "0000-0002-1825-0097";

std::vector<json> node_lines(const std::string& node, std::vector<std::string> words) {
  words.insert(words.begin() + 1, {"--dir", node});
  words.insert(words.begin(), node_bin());
  return run_json_lines(words);
}

json node_json(const std::string& node, std::vector<std::string> words) {
  auto lines = node_lines(node, std::move(words));
  REQUIRE(lines.size() == 1);
  return lines[0];
}

// Both establishments' records, and the unit they co-supervise with Garonne as its lead.
void create_unit(Federation& f) {
  f.put(f.a, {"structure", "kind=establishment", "uai=0339901H", "name=Université de Garonne"});
  f.put(f.b, {"structure", "kind=establishment", "uai=0759901E", "name=CNEL"});
  f.put(f.a, {"structure", "rnsr=202199101G", "kind=unit", "name=Laboratoire des Côtes",
              "tutelles+=uai:0339901H", "tutelles+=uai:0759901E", "lead_tutelle=uai:0339901H"});
  for (const auto& node : {f.a, f.b, f.a}) f.sync(node);
}

void converge(Federation& f) {
  for (const auto& node : {f.a, f.b, f.a}) f.sync(node);
}

std::string scope_digest(const std::string& node, const std::string& scope) {
  return node_json(node, {"digest", "--scope", scope})["digest"];
}

}  // namespace

TEST_CASE("two nodes that edit one unit offline show one record, the same conflicts and digest") {
  Federation f;
  create_unit(f);
  f.hub->kill(SIGTERM);
  f.hub->wait();

  f.put(f.a, {"structure", kUnit, "acronym=LEC", "city=Arcachon"});
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  f.put(f.b, {"structure", kUnit, "acronym=LCOT", "website=https://lcot.example"});
  f.start_hub();
  converge(f);

  json unit_a = node_json(f.a, {"get", kUnit});
  json unit_b = node_json(f.b, {"get", kUnit});
  CHECK(unit_a == unit_b);
  CHECK(unit_a["fields"]["city"] == "Arcachon");
  CHECK(unit_a["fields"]["website"] == "https://lcot.example");
  // The lead tutelle's value is shown though the other is later; both are kept.
  CHECK(unit_a["fields"]["acronym"] == "LEC");
  REQUIRE(unit_a["conflicts"]["acronym"].size() == 2);

  auto conflicts_a = node_lines(f.a, {"conflicts"});
  auto conflicts_b = node_lines(f.b, {"conflicts"});
  auto conflicts_hub = f.hub_lines("conflicts", {"--scope", kUnit});
  REQUIRE(conflicts_a.size() == 1);
  CHECK(conflicts_a == conflicts_b);
  CHECK(conflicts_a == conflicts_hub);
  const json& values = conflicts_a[0]["values"];
  CHECK(conflicts_a[0]["field"] == "acronym");
  CHECK(values[0]["establishment"] != values[1]["establishment"]);
  for (const auto& value : values) {
    CHECK_FALSE(value["author"].get<std::string>().empty());
    CHECK(value["time"].get<std::string>().size() == 24);
  }

  json provenance = node_json(f.b, {"get", kUnit, "--provenance"});
  CHECK(provenance["fields"]["city"][0]["establishment"] == "0339901H");
  CHECK(provenance["fields"]["website"][0]["establishment"] == "0759901E");

  CHECK(f.digest(f.a) == f.digest(f.b));
  json at_hub = f.hub_json("digest", {"--scope", kUnit});
  CHECK(at_hub["digest"] == scope_digest(f.a, kUnit));
}

TEST_CASE("two nodes that create the same unit independently end up with one record") {
  Federation f;
  for (const auto& node : {f.a, f.b}) {
    f.put(node, {"structure", "rnsr=202199102H", "kind=unit", "name=Institut des Marges",
                 "tutelles+=uai:0339901H", "tutelles+=uai:0759901E"});
  }
  f.put(f.b, {"structure", "rnsr:202199102H", "city=Brest"});
  converge(f);
  json unit_a = node_json(f.a, {"get", "rnsr:202199102H"});
  CHECK(unit_a == node_json(f.b, {"get", "rnsr:202199102H"}));
  CHECK(unit_a["fields"]["city"] == "Brest");
  CHECK(unit_a["fields"]["tutelles"].size() == 2);
  CHECK_FALSE(unit_a.contains("conflicts"));  // both wrote the same name
  CHECK(f.digest(f.a) == f.digest(f.b));
}

TEST_CASE("a resolution on one node clears the conflict on both") {
  Federation f;
  create_unit(f);
  f.put(f.a, {"structure", kUnit, "acronym=LEC"});
  f.put(f.b, {"structure", kUnit, "acronym=LCOT"});
  converge(f);
  REQUIRE(node_lines(f.a, {"conflicts"}).size() == 1);

  json resolved = node_json(f.b, {"resolve", kUnit, "acronym", "LEC-UMR"});
  CHECK(resolved["superseded"] == 2);
  converge(f);
  for (const auto& node : {f.a, f.b}) {
    CHECK(node_lines(node, {"conflicts"}).empty());
    json unit = node_json(node, {"get", kUnit});
    CHECK(unit["fields"]["acronym"] == "LEC-UMR");
    CHECK_FALSE(unit.contains("conflicts"));
  }
  CHECK(f.hub_lines("conflicts").empty());
  CHECK(f.digest(f.a) == f.digest(f.b));
  // Resolving what holds one value is refused: put changes it.
  CHECK(run({node_bin(), "resolve", "--dir", f.a, kUnit, "acronym", "X"}).exit_code != 0);
}

TEST_CASE("a person created twice and given one ORCID is a merge candidate and merges away") {
  Federation f;
  create_unit(f);
  std::string first =
      node_json(f.a, {"put", "person", "family_name=Marin", "given_name=Léa"})["id"];
  std::string second = node_json(
      f.a, {"put", "person", "family_name=Marin", "email=lea.marin@garonne.example"})["id"];
  f.put(f.a, {"project", "project:000000000000000000000001", "title=Érosion",
              "lead_structure=" + std::string(kUnit), "people+=" + second});
  f.put(f.a, {"person", first, "orcid=" + std::string(kOrcid)});
  f.put(f.a, {"person", second, "orcid=" + std::string(kOrcid)});
  converge(f);

  auto candidates = f.hub_lines("duplicates");
  REQUIRE(candidates.size() == 1);
  CHECK(candidates[0]["identifier"] == "orcid:" + std::string(kOrcid));
  CHECK(candidates[0]["records"].size() == 2);

  json merged = node_json(f.a, {"merge", first, second});
  CHECK(merged["survivor"] == first);
  converge(f);

  for (const auto& node : {f.a, f.b}) {
    json survivor = node_json(node, {"get", first});
    CHECK(survivor["fields"]["email"] == "lea.marin@garonne.example");
    CHECK(survivor["fields"]["given_name"] == "Léa");
    json followed = node_json(node, {"get", second});
    CHECK(followed["id"] == first);
    CHECK(followed["redirected_from"] == second);
    json project = node_json(node, {"get", "project:000000000000000000000001"});
    CHECK(project["fields"]["people"] == json::array({first}));
  }
  CHECK(f.hub_lines("duplicates").empty());
  CHECK(f.digest(f.a) == f.digest(f.b));

  // The export keeps the merge: importing it elsewhere gives the same digest.
  auto exported = run({node_bin(), "export", "--dir", f.a});
  REQUIRE(exported.exit_code == 0);
  std::string copy = (f.dir / "copy").string();
  std::string file = (f.dir / "export.jsonl").string();
  std::ofstream(file) << exported.out;
  run_json({node_bin(), "init", "--dir", copy, "--establishment", "0339901H"});
  run_json({node_bin(), "import", "--dir", copy, file});
  CHECK(f.digest(copy) == f.digest(f.a));
}

TEST_CASE("a merge of a record in a scope the node may not write is refused at once") {
  Federation f;
  create_unit(f);
  std::string theirs = node_json(f.b, {"put", "person", "family_name=Marin"})["id"];
  std::string ours = node_json(f.a, {"put", "person", "family_name=Marin"})["id"];
  converge(f);
  auto refused = run({node_bin(), "merge", "--dir", f.a, ours, theirs});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("may not write in scope uai:0759901E") != std::string::npos);
}
