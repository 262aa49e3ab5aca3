// Replication with real processes over loopback and real TLS: a hub and two establishment
// nodes that co-supervise one unit.

#include <signal.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/hub/federation.hpp"

using namespace tutelle::testing;
using nlohmann::json;

namespace {

const char* kUnit = "rnsr:202199101G";

void create_shared_unit(Federation& f) {
  std::string name = "name=Laboratoire des Environnements Côtiers";
  f.put(f.a, {"structure", "rnsr=202199101G", "kind=unit", name, "tutelles+=uai:0339901H",
              "tutelles+=uai:0759901E", "lead_tutelle=uai:0339901H"});
}

}  // namespace

TEST_CASE("two nodes converge after offline edits on both sides") {
  Federation f;
  create_shared_unit(f);
  f.sync(f.a);
  f.sync(f.b);
  f.put(f.a, {"project", "project:sable", "title=Érosion des côtes",
              "lead_structure=" + std::string(kUnit)});
  f.put(f.b, {"structure", kUnit, "acronym=LEC"});
  f.put(f.b, {"person", "family_name=Marin", "orcid=0000-0002-1825-0097"});
  json pushed_a = f.sync(f.a);
  CHECK(pushed_a["accepted"] == 1);
  json pushed_b = f.sync(f.b);
  CHECK(pushed_b["accepted"] == 2);
  CHECK(pushed_b["applied"] == 1);
  f.sync(f.a);
  auto unit_a = run_json({node_bin(), "get", "--dir", f.a, kUnit});
  auto unit_b = run_json({node_bin(), "get", "--dir", f.b, kUnit});
  CHECK(unit_a == unit_b);
  CHECK(unit_a["fields"]["acronym"] == "LEC");
  CHECK(run(std::vector<std::string>{node_bin(), "get", "--dir", f.b, "project:sable"}).exit_code ==
        0);
  json hub_scope = f.hub_json("digest", {"--scope", kUnit});
  CHECK(f.digest(f.a) == f.digest(f.b));
  CHECK_FALSE(hub_scope["digest"].get<std::string>().empty());
}

TEST_CASE("a changeset seen twice changes nothing") {
  Federation f;
  create_shared_unit(f);
  f.sync(f.a);
  f.sync(f.b);
  std::string before = f.digest(f.b);
  json again = f.sync(f.b);
  CHECK(again["applied"] == 0);
  CHECK(f.digest(f.b) == before);
}

TEST_CASE("a write outside the node's scopes is refused by the hub with its reason") {
  Federation f;
  f.put(f.b, {"structure", "rnsr=202199103J", "kind=unit", "name=LIMG", "tutelles+=uai:0339901H"});
  json pushed = f.sync(f.b);
  CHECK(pushed["refused"] == 1);
  auto status = run_json({node_bin(), "status", "--dir", f.b});
  CHECK_THAT(status["refused"]["1"].get<std::string>(),
             Catch::Contains("may not write in scope rnsr:202199103J"));
  f.sync(f.a);
  CHECK(
      run(std::vector<std::string>{node_bin(), "get", "--dir", f.a, "rnsr:202199103J"}).exit_code !=
      0);
}

TEST_CASE("an edit on one connected node reaches the other connected node without any command") {
  Federation f;
  create_shared_unit(f);
  f.sync(f.a);
  Background serve_a({node_bin(), "serve", "--dir", f.a}, f.dir / "a.log");
  Background serve_b({node_bin(), "serve", "--dir", f.b}, f.dir / "b.log");
  wait_for([&] {
    return run(std::vector<std::string>{node_bin(), "get", "--dir", f.b, kUnit}).exit_code == 0;
  });
  f.put(f.a, {"structure", kUnit, "city=Arcachon"});
  wait_for([&] {
    auto got = run(std::vector<std::string>{node_bin(), "get", "--dir", f.b, kUnit});
    return got.exit_code == 0 && got.out.find("Arcachon") != std::string::npos;
  });
  serve_a.kill(SIGTERM);
  serve_b.kill(SIGTERM);
  CHECK(serve_a.wait() == 0);
  CHECK(serve_b.wait() == 0);
}

TEST_CASE("the hub killed with SIGKILL and restarted loses nothing and applies nothing twice") {
  Federation f;
  create_shared_unit(f);
  for (int i = 0; i < 40; ++i) {
    f.put(f.a, {"project", "project:p" + std::to_string(i), "title=P" + std::to_string(i),
                "lead_structure=" + std::string(kUnit)});
  }
  f.sync(f.a);
  f.hub->kill(SIGKILL);
  f.hub->wait();
  f.start_hub();
  json again = f.sync(f.a);
  CHECK(again["pushed"] == 0);
  f.sync(f.b);
  CHECK(f.digest(f.a) == f.digest(f.b));
  json log = f.hub_json("status");
  CHECK(log["hub_seq"] == 41);
}
