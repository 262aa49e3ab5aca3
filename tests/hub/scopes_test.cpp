// Scopes follow the data: partners read exactly what was shared with them, a removed tutelle's
// node purges the unit and confirms, an added one gets the unit's history, and a refused edit
// is rolled back on the node that made it.

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>

#include "tests/hub/federation.hpp"

using namespace tutelle::testing;
using nlohmann::json;

namespace {

const char* kUnit = "rnsr:202199101G";

bool has_record(const std::string& node, const std::string& id) {
  return run({node_bin(), "get", "--dir", node, id}).exit_code == 0;
}

std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A partner's node, enrolled at the hub of `f` and joined to it.
std::string partner_node(Federation& f, const std::string& name) {
  std::string dir = (f.dir / ("partner-" + name)).string();
  json made = run_json({node_bin(), "init", "--dir", dir, "--partner", name});
  f.hub_json("enroll", {"--partner", name, "--key", made["public_key"]});
  run_json({node_bin(), "join", "--dir", dir, "--hub", "127.0.0.1:" + std::to_string(f.port),
            "--fingerprint", f.fingerprint});
  return dir;
}

void create_unit(Federation& f, std::vector<std::string> tutelles) {
  std::vector<std::string> words = {"structure", "rnsr=202199101G", "kind=unit",
                                    "name=Laboratoire-Unshared-Name", "lead_tutelle=uai:0339901H"};
  for (const auto& t : tutelles) words.push_back("tutelles+=" + t);
  f.put(f.a, words);
}

}  // namespace

TEST_CASE("a partner's store holds only the shared types of the shared scopes, down to its files") {
  Federation f;
  create_unit(f, {"uai:0339901H"});
  f.put(f.a, {"project", "project:shared", "title=Shared-Project-Title",
              "lead_structure=" + std::string(kUnit)});
  f.put(f.a, {"person", "family_name=Unshared-Person-Name", "orcid=0000-0002-1825-0097"});
  f.sync(f.a);
  f.hub_json("share", {"--scope", kUnit, "--partner", "anr", "--types", "project"});
  std::string partner = partner_node(f, "anr");
  json pulled = f.sync(partner);
  CHECK(pulled["applied"] == 1);

  CHECK(has_record(partner, "project:shared"));
  CHECK_FALSE(has_record(partner, kUnit));
  CHECK_FALSE(has_record(partner, "orcid:0000-0002-1825-0097"));
  std::string raw = file_bytes(std::filesystem::path(partner) / "store" / "data.mdb");
  CHECK(raw.find("Shared-Project-Title") != std::string::npos);
  CHECK(raw.find("Unshared-Name") == std::string::npos);
  CHECK(raw.find("Unshared-Person-Name") == std::string::npos);
  CHECK(raw.find("uai:0339901H") == std::string::npos);  // the person's scope

  auto write = run({node_bin(), "put", "--dir", partner, "project", "title=Mine"});
  CHECK(write.exit_code != 0);
  CHECK_THAT(write.err, Catch::Contains("read-only"));
}

TEST_CASE("an unshared scope is purged by the partner's node, which confirms to the hub") {
  Federation f;
  create_unit(f, {"uai:0339901H"});
  f.put(f.a, {"project", "project:shared", "title=Shared", "lead_structure=" + std::string(kUnit)});
  f.sync(f.a);
  f.hub_json("share", {"--scope", kUnit, "--partner", "anr"});
  std::string partner = partner_node(f, "anr");
  f.sync(partner);
  REQUIRE(has_record(partner, "project:shared"));

  f.hub_json("unshare", {"--scope", kUnit, "--partner", "anr"});
  f.sync(partner);
  CHECK_FALSE(has_record(partner, "project:shared"));
  CHECK_FALSE(has_record(partner, kUnit));
  CHECK(run_json({node_bin(), "status", "--dir", partner})["cursors"].count(kUnit) == 0);
  auto purges = f.hub_lines("purges");
  REQUIRE(purges.size() == 1);
  CHECK(purges[0]["scope"] == kUnit);
}

TEST_CASE("a removed tutelle's node purges the unit, and an added one receives its history") {
  Federation f;
  create_unit(f, {"uai:0339901H", "uai:0759901E"});
  f.put(f.a, {"project", "project:p1", "title=P1", "lead_structure=" + std::string(kUnit)});
  f.sync(f.a);
  f.sync(f.b);
  REQUIRE(has_record(f.b, "project:p1"));

  f.put(f.a, {"structure", kUnit, "tutelles-=uai:0759901E"});
  f.sync(f.a);
  f.sync(f.b);
  CHECK_FALSE(has_record(f.b, kUnit));
  CHECK_FALSE(has_record(f.b, "project:p1"));
  auto purges = f.hub_lines("purges");
  REQUIRE(purges.size() == 1);
  CHECK(purges[0]["scope"] == kUnit);

  f.put(f.a, {"structure", kUnit, "tutelles+=uai:0759901E"});
  f.sync(f.a);
  f.sync(f.b);
  CHECK(has_record(f.b, "project:p1"));
  CHECK(f.digest(f.a) == f.digest(f.b));
}

TEST_CASE("a write the hub refuses is rolled back on its node and seen nowhere else") {
  Federation f;
  create_unit(f, {"uai:0339901H"});
  f.sync(f.a);
  std::string before = f.digest(f.b);
  f.put(f.b,
        {"project", "project:intruder", "title=Not mine", "lead_structure=" + std::string(kUnit)});
  REQUIRE(has_record(f.b, "project:intruder"));
  json pushed = f.sync(f.b);
  CHECK(pushed["refused"] == 1);
  CHECK_FALSE(has_record(f.b, "project:intruder"));
  CHECK(f.digest(f.b) == before);
  json status = run_json({node_bin(), "status", "--dir", f.b});
  CHECK_THAT(status["refused"]["1"].get<std::string>(), Catch::Contains("may not write"));
  f.sync(f.a);
  CHECK_FALSE(has_record(f.a, "project:intruder"));
}
