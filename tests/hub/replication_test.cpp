// Replication with real processes over loopback and real TLS: a hub and two establishment
// nodes that co-supervise one unit.

#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/process.hpp"

using namespace tutelle::testing;
using nlohmann::json;

namespace {

std::string node_bin() {
  return binary("node/tutelle-node");
}
std::string hub_bin() {
  return binary("hub/tutelle-hub");
}

json run_json(std::vector<std::string> argv) {
  auto result = run(argv);
  INFO(argv[1] << ": " << result.err);
  REQUIRE(result.exit_code == 0);
  return json::parse(result.out.substr(0, result.out.find('\n')));
}

// A hub serving on a free port, and two enrolled, joined nodes: Garonne and CNEL.
struct Federation {
  TempDir dir;
  std::unique_ptr<Background> hub;
  std::string a, b;
  int port = 0;

  Federation() {
    json hub_init = run_json({hub_bin(), "init", "--dir", (dir / "hub").string()});
    a = (dir / "a").string();
    b = (dir / "b").string();
    json ka = run_json({node_bin(), "init", "--dir", a, "--establishment", "0339901H"});
    json kb = run_json({node_bin(), "init", "--dir", b, "--establishment", "0759901E"});
    run_json({hub_bin(), "enroll", "--dir", (dir / "hub").string(), "--establishment", "0339901H",
              "--key", ka["public_key"]});
    run_json({hub_bin(), "enroll", "--dir", (dir / "hub").string(), "--establishment", "0759901E",
              "--key", kb["public_key"]});
    port = 20000 + static_cast<int>(::getpid() % 20000);
    start_hub();
    std::string address = "127.0.0.1:" + std::to_string(port);
    for (const auto& node : {a, b}) {
      run_json({node_bin(), "join", "--dir", node, "--hub", address, "--fingerprint",
                hub_init["fingerprint"]});
    }
  }

  void start_hub() {
    hub = std::make_unique<Background>(
        std::vector<std::string>{hub_bin(), "serve", "--dir", (dir / "hub").string(), "--listen",
                                 "127.0.0.1:" + std::to_string(port)},
        dir / "hub.log");
    wait_for([&] {
      return run({hub_bin(), "status", "--dir", (dir / "hub").string()}).exit_code == 0 &&
             std::filesystem::exists(dir / "hub.log") &&
             std::filesystem::file_size(dir / "hub.log") > 0;
    });
  }

  template <typename Condition>
  static void wait_for(Condition done, std::chrono::seconds limit = std::chrono::seconds(20)) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      REQUIRE(std::chrono::steady_clock::now() < until);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  json sync(const std::string& node) {
    return run_json({node_bin(), "sync", "--dir", node, "--once"});
  }
  std::string digest(const std::string& node) {
    return run_json({node_bin(), "digest", "--dir", node})["digest"];
  }
  void put(const std::string& node, std::vector<std::string> words) {
    words.insert(words.begin(), {node_bin(), "put", "--dir", node});
    run_json(words);
  }
};

const char* kUnit = "rnsr:202199101G";

void create_shared_unit(Federation& f) {
  f.put(f.a,
        {"structure", "rnsr=202199101G", "kind=unit", "name=Laboratoire des Environnements Côtiers",
         "tutelles+=uai:0339901H", "tutelles+=uai:0759901E", "lead_tutelle=uai:0339901H"});
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
  json hub_scope =
      run_json({hub_bin(), "digest", "--dir", (f.dir / "hub").string(), "--scope", kUnit});
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
  Federation::wait_for([&] {
    return run(std::vector<std::string>{node_bin(), "get", "--dir", f.b, kUnit}).exit_code == 0;
  });
  f.put(f.a, {"structure", kUnit, "city=Arcachon"});
  Federation::wait_for([&] {
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
  json log = run_json({hub_bin(), "status", "--dir", (f.dir / "hub").string()});
  CHECK(log["hub_seq"] == 41);
}
