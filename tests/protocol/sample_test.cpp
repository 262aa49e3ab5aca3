// The demo federation in deploy/sample: its identifiers must pass our own validators, and it
// must show units shared between the two establishments.

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "protocol/identifiers.hpp"

namespace {

using nlohmann::json;
using tutelle::IdentifierKind;

json read_sample() {
  std::ifstream in(TUTELLE_SOURCE_DIR "/deploy/sample/structures.json");
  REQUIRE(in.good());
  return json::parse(in);
}

// Validates `value` as `kind` and reports the refusal, if any, as the failure message.
void check_identifier(IdentifierKind kind, const std::string& field, const json& value) {
  REQUIRE(value.is_string());
  auto result = tutelle::validate_identifier(kind, field, value.get<std::string>());
  INFO((result.ok() ? std::string() : result.error().message));
  CHECK(result.ok());
  if (result.ok()) CHECK(result.value() == value.get<std::string>());  // stored normalised
}

// The sample's establishments by SIREN, from every tutelle entry of every structure.
std::map<std::string, json> establishments(const json& structures) {
  std::map<std::string, json> by_siren;
  for (const json& structure : structures) {
    for (const json& institution : structure.at("institutions")) {
      by_siren.emplace(institution.at("id").get<std::string>(), institution);
    }
  }
  return by_siren;
}

}  // namespace

TEST_CASE("every RNSR number, SIREN, SIRET and UAI of the sample is valid and normalised") {
  json structures = read_sample();
  REQUIRE(structures.is_array());
  for (const json& structure : structures) {
    std::string id = structure.at("id");
    CAPTURE(id);
    check_identifier(IdentifierKind::rnsr, "id", structure.at("id"));
    if (!structure.at("parent").is_null()) {
      for (const json& parent : structure.at("parent")) {
        check_identifier(IdentifierKind::rnsr, "parent[].id", parent.at("id"));
      }
    }
    for (const json& institution : structure.at("institutions")) {
      check_identifier(IdentifierKind::siren, "institutions[].id", institution.at("id"));
      check_identifier(IdentifierKind::siret, "institutions[].siret", institution.at("siret"));
      CHECK(institution.at("code").at("type") == "UAI");
      check_identifier(IdentifierKind::uai, "institutions[].code.number",
                       institution.at("code").at("number"));
    }
  }
}

TEST_CASE("the sample has two establishments, each SIRET beginning with its SIREN") {
  auto by_siren = establishments(read_sample());
  REQUIRE(by_siren.size() == 2);
  std::set<std::string> labels;
  for (const auto& [siren, institution] : by_siren) {
    CHECK(institution.at("siret").get<std::string>().substr(0, 9) == siren);
    labels.insert(institution.at("label").get<std::string>());
  }
  CHECK(labels == std::set<std::string>{"Université de Garonne-Océan",
                                        "Centre national d'études des littoraux"});
}

TEST_CASE("at least two units of the sample have both establishments as tutelles") {
  int shared = 0;
  bool lec_shared = false;
  for (const json& structure : read_sample()) {
    if (structure.at("level") != 2 || structure.at("institutions").size() != 2) continue;
    ++shared;
    if (structure.at("acronym") == "LEC") lec_shared = true;
  }
  CHECK(shared >= 2);
  CHECK(lec_shared);
}

TEST_CASE("every team of the sample has a unit of the sample as parent") {
  json structures = read_sample();
  std::set<std::string> units;
  for (const json& structure : structures) {
    if (structure.at("level") == 2) units.insert(structure.at("id").get<std::string>());
  }
  CHECK(units.size() >= 4);
  CHECK(units.size() <= 6);

  int teams = 0;
  for (const json& structure : structures) {
    if (structure.at("level") != 1) continue;
    ++teams;
    CHECK(structure.at("levelLabel") == "équipe interne");
    REQUIRE(structure.at("parent").size() == 1);
    CHECK(units.count(structure.at("parent")[0].at("id").get<std::string>()) == 1);
  }
  CHECK(teams >= 3);
  CHECK(teams <= 5);
}
