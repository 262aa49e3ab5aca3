// tutelle-node as a real process: imports killed mid-way, export and re-import, the RNSR
// fixture, and refusals of bad input.

#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "node/node.hpp"
#include "store/views.hpp"
#include "tests/support/process.hpp"

using namespace tutelle;
using nlohmann::json;
using tutelle::testing::Background;
using tutelle::testing::run;
using tutelle::testing::TempDir;

namespace {

std::string node_bin() {
  return tutelle::testing::binary("node/tutelle-node");
}

testing::Run node_cmd(std::vector<std::string> args) {
  args.insert(args.begin(), node_bin());
  return run(args);
}

void init(const std::filesystem::path& dir, const std::string& uai = "0339901H") {
  auto made = node_cmd({"init", "--dir", dir.string(), "--establishment", uai});
  REQUIRE(made.exit_code == 0);
}

std::string digest(const std::filesystem::path& dir) {
  auto out = node_cmd({"digest", "--dir", dir.string()});
  REQUIRE(out.exit_code == 0);
  return json::parse(out.out)["digest"].get<std::string>();
}

// Writes `count` person and project lines of JSON Lines.
void write_records(const std::filesystem::path& file, int count) {
  std::ofstream out(file);
  for (int i = 0; i < count; ++i) {
    if (i % 2 == 0) {
      out << json{{"type", "person"},
                  {"id", "person:p" + std::to_string(i)},
                  {"family_name", "Name" + std::to_string(i)},
                  {"given_name", "Given"}}
                 .dump()
          << "\n";
    } else {
      out << json{{"type", "project"},
                  {"id", "project:j" + std::to_string(i)},
                  {"title", "Project " + std::to_string(i)},
                  {"budget", "1000.50"},
                  {"structures", {"rnsr:202199101G", "rnsr:202199102H"}}}
                 .dump()
          << "\n";
    }
  }
}

std::size_t outbox_size(const std::filesystem::path& dir) {
  auto env = store::Environment::open(dir / "store", {"outbox"},
                                      store::EnvironmentOptions{std::size_t{1} << 30, true, true});
  if (!env) return 0;
  auto txn = env.value()->begin_read();
  return txn ? txn->count(env.value()->table("outbox")).value() : 0;
}

// Replays the node's own changeset log into a fresh replica and returns its digest: equal to
// the node's digest exactly when every logged changeset, and nothing else, was applied.
std::string replayed_digest(const std::filesystem::path& dir, const TempDir& scratch) {
  auto node = node::Node::open(dir);
  REQUIRE(node.ok());
  auto fresh = store::Replica::open(scratch.path());
  REQUIRE(fresh.ok());
  auto writer = fresh.value()->begin_write();
  REQUIRE(writer.ok());
  auto txn = node.value()->replica().begin_read();
  REQUIRE(txn->scan(node.value()->replica().table("outbox"), "",
                    [&](std::string_view, std::string_view bytes) {
                      auto envelope = decode_signed(bytes);
                      REQUIRE(envelope.ok());
                      auto body = decode_changeset_body(envelope->body);
                      REQUIRE(body.ok());
                      auto applied =
                          writer->apply(body.value(), bytes, blake2b_256(envelope->body), false);
                      REQUIRE(applied.ok());
                      return true;
                    })
              .ok());
  REQUIRE(writer->commit().ok());
  auto read = fresh.value()->begin_read();
  return store::state_digest(*fresh.value(), read.value()).value();
}

}  // namespace

TEST_CASE("an import killed with SIGKILL leaves a store holding exactly its logged changesets") {
  TempDir dir;
  auto file = dir / "records.jsonl";
  write_records(file, 20000);  // 100 batches of 200, two changesets (scopes) each
  for (std::size_t kill_after : {1u, 4u, 9u}) {
    INFO("killed after " << kill_after << " committed batches");
    auto node_dir = dir / ("node" + std::to_string(kill_after));
    init(node_dir);
    {
      Background import(
          {node_bin(), "import", "--dir", node_dir.string(), file.string(), "--batch", "200"});
      while (import.running() && outbox_size(node_dir) < kill_after) {
      }
      import.kill(SIGKILL);
      import.wait();
    }
    std::size_t logged = outbox_size(node_dir);
    CHECK(logged >= kill_after);
    CHECK(logged < 200);  // killed before the end
    TempDir scratch;
    CHECK(replayed_digest(node_dir, scratch) == digest(node_dir));
    auto list = node_cmd({"list", "--dir", node_dir.string(), "--type", "person"});
    CHECK(list.exit_code == 0);
  }
}

TEST_CASE("export then import into a fresh node gives an equal digest") {
  TempDir dir;
  init(dir / "a");
  REQUIRE(node_cmd({"import-rnsr", "--dir", (dir / "a").string(),
                    std::string(TUTELLE_SOURCE_DIR) + "/deploy/sample/structures.json"})
              .exit_code == 0);
  write_records(dir / "records.jsonl", 300);
  REQUIRE(node_cmd({"import", "--dir", (dir / "a").string(), (dir / "records.jsonl").string()})
              .exit_code == 0);
  REQUIRE(node_cmd({"put", "--dir", (dir / "a").string(), "person", "family_name=Curie",
                    "orcid=0000-0002-1825-0097"})
              .exit_code == 0);
  auto exported = node_cmd({"export", "--dir", (dir / "a").string()});
  REQUIRE(exported.exit_code == 0);
  std::ofstream(dir / "export.jsonl") << exported.out;

  init(dir / "b", "0759901E");
  auto imported =
      node_cmd({"import", "--dir", (dir / "b").string(), (dir / "export.jsonl").string()});
  REQUIRE(imported.exit_code == 0);
  CHECK(json::parse(imported.out)["refused"] == 0);
  CHECK(digest(dir / "a") == digest(dir / "b"));
  CHECK(node_cmd({"export", "--dir", (dir / "b").string()}).out == exported.out);
}

TEST_CASE("the RNSR fixture imports its 30 structures, each unit with all its tutelles") {
  TempDir dir;
  init(dir / "n");
  std::string fixture = std::string(TUTELLE_FIXTURES_DIR) + "/rnsr/structures.json";
  auto imported = node_cmd({"import-rnsr", "--dir", (dir / "n").string(), fixture});
  REQUIRE(imported.exit_code == 0);
  CHECK(json::parse(imported.out)["written"] == 30);

  json structures;
  std::ifstream(fixture) >> structures;
  REQUIRE(structures.size() == 30);
  int multi = 0;
  for (const auto& s : structures) {
    std::set<std::string> sirets;
    for (const auto& i : s["institutions"]) sirets.insert(i["siret"].get<std::string>());
    auto got =
        node_cmd({"get", "--dir", (dir / "n").string(), "rnsr:" + s["id"].get<std::string>()});
    REQUIRE(got.exit_code == 0);
    json record = json::parse(got.out);
    INFO(s["id"]);
    CHECK(record["fields"]["tutelles"].size() == sirets.size());
    if (sirets.size() > 1) ++multi;
  }
  CHECK(multi >= 5);
  auto unit = json::parse(node_cmd({"get", "--dir", (dir / "n").string(), "rnsr:195817959H"}).out);
  CHECK(unit["fields"]["tutelles"] ==
        json::array({"siret:13000279300011", "siret:13002054800017", "siret:18007003901803",
                     "siret:18008901303720"}));
  CHECK(unit["fields"]["kind"] == "unit");
  auto team = json::parse(node_cmd({"get", "--dir", (dir / "n").string(), "rnsr:196317940R"}).out);
  CHECK(team["fields"]["kind"] == "team");
  CHECK(team["fields"]["parents"].size() == 3);
}

TEST_CASE("bad lines of an import are reported by number and leave nothing behind") {
  TempDir dir;
  init(dir / "n");
  std::ofstream(dir / "bad.jsonl")
      << R"({"type":"person","id":"person:ok1","family_name":"Curie"})"
         "\n"
      << R"({"type":"person","id":"person:bad1","family_name":"X","orcid":"0000-0002-1825-0098"})"
         "\n"
      << "this is not json\n"
      << R"({"type":"person","id":"person:bad2","given_name":"no family name"})"
         "\n"
      << R"({"type":"person","id":"person:ok2","family_name":"Joliot"})"
         "\n";
  auto dry = node_cmd(
      {"import", "--dir", (dir / "n").string(), (dir / "bad.jsonl").string(), "--dry-run"});
  CHECK(json::parse(dry.out)["refused"] == 3);
  CHECK(node_cmd({"export", "--dir", (dir / "n").string()}).out.empty());

  auto result = node_cmd({"import", "--dir", (dir / "n").string(), (dir / "bad.jsonl").string()});
  CHECK(result.exit_code != 0);
  json summary = json::parse(result.out);
  CHECK(summary["read"] == 5);
  CHECK(summary["written"] == 2);
  CHECK(summary["refused"] == 3);
  CHECK_THAT(result.err, Catch::Contains("line 2: person.orcid: '0000-0002-1825-0098'"));
  CHECK_THAT(result.err, Catch::Contains("line 3: not valid JSON"));
  CHECK_THAT(result.err, Catch::Contains("line 4: person.family_name: is required"));
  CHECK(node_cmd({"get", "--dir", (dir / "n").string(), "person:bad1"}).exit_code != 0);
  CHECK(node_cmd({"get", "--dir", (dir / "n").string(), "person:ok2"}).exit_code == 0);
}

TEST_CASE("a CSV import reads sets separated by bars and matches the same JSON import") {
  TempDir dir;
  init(dir / "csv");
  init(dir / "json");
  std::ofstream(dir / "r.csv") << "type,id,title,structures,budget\n"
                               << "project,project:x1,\"Coast, sea and sand\","
                                  "rnsr:202199101G|rnsr:202199102H,12.5\n";
  std::ofstream(dir / "r.jsonl")
      << R"({"type":"project","id":"project:x1","title":"Coast, sea and sand",)"
      << R"("structures":["rnsr:202199101G","rnsr:202199102H"],"budget":"12.5"})"
         "\n";
  REQUIRE(
      node_cmd({"import", "--dir", (dir / "csv").string(), (dir / "r.csv").string()}).exit_code ==
      0);
  REQUIRE(node_cmd({"import", "--dir", (dir / "json").string(), (dir / "r.jsonl").string()})
              .exit_code == 0);
  CHECK(digest(dir / "csv") == digest(dir / "json"));
}

TEST_CASE("every write is a signed changeset chained to the previous one") {
  TempDir dir;
  // Alice, the node's steward, holds establishment_admin: she may create people.
  REQUIRE(node_cmd({"init", "--dir", (dir / "n").string(), "--establishment", "0339901H",
                    "--steward", "alice@univ-garonne.fr"})
              .exit_code == 0);
  for (const char* name : {"Curie", "Joliot", "Perrin"}) {
    REQUIRE(node_cmd({"put", "--dir", (dir / "n").string(), "person",
                      std::string("family_name=") + name, "--author", "alice@univ-garonne.fr"})
                .exit_code == 0);
  }
  auto log = node_cmd({"log", "--dir", (dir / "n").string()});
  REQUIRE(log.exit_code == 0);
  std::vector<json> entries;
  std::istringstream lines(log.out);
  for (std::string line; std::getline(lines, line);) entries.push_back(json::parse(line));
  REQUIRE(entries.size() == 3);
  CHECK(entries[0]["prev"] == std::string(64, '0'));
  for (std::size_t i = 0; i < entries.size(); ++i) {
    CHECK(entries[i]["seq"] == i + 1);
    CHECK(entries[i]["author"] == "alice@univ-garonne.fr");
    if (i > 0) CHECK(entries[i]["prev"] == entries[i - 1]["hash"]);
  }
}

TEST_CASE("commands refuse bad arguments with a message and a non-zero exit") {
  TempDir dir;
  auto no_dir = node_cmd({"list"});
  CHECK(no_dir.exit_code == 2);
  CHECK_THAT(no_dir.err, Catch::Contains("--dir is required"));
  auto bad_uai = node_cmd({"init", "--dir", (dir / "x").string(), "--establishment", "0342321X"});
  CHECK(bad_uai.exit_code == 2);
  CHECK_THAT(bad_uai.err, Catch::Contains("0342321X"));
  init(dir / "n");
  auto unknown = node_cmd({"list", "--dir", (dir / "n").string(), "--colour", "red"});
  CHECK_THAT(unknown.err, Catch::Contains("unknown option --colour"));
  auto missing = node_cmd({"get", "--dir", (dir / "n").string(), "person:nobody"});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("person:nobody: no such record"));
}
