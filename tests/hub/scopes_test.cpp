// Scopes follow the data: partners read exactly what was shared with them, a removed tutelle's
// node purges the unit and confirms (at its next sync, or at once while it serves live), an
// added one gets the unit's history, and a refused edit is rolled back on the node that made it.

#include <signal.h>

#include <lmdb.h>
#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>

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

void create_unit(Federation& f, std::vector<std::string> tutelles) {
  std::vector<std::string> words = {"structure", "rnsr=202199101G", "kind=unit",
                                    "name=Laboratoire-Unshared-Name", "lead_tutelle=uai:0339901H"};
  for (const auto& t : tutelles) words.push_back("tutelles+=" + t);
  f.put(f.a, words);
}

// How many keys and values of every table of the LMDB store at `store` hold `text`: what the
// store holds live, whatever its tables, as opposed to pages it freed and has not reused.
std::size_t live_entries_holding(const std::filesystem::path& store, const std::string& text) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  std::unique_ptr<MDB_env, void (*)(MDB_env*)> owned(env, mdb_env_close);
  REQUIRE(mdb_env_set_maxdbs(env, 64) == 0);
  REQUIRE(mdb_env_open(env, store.c_str(), MDB_RDONLY, 0600) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) == 0);
  std::unique_ptr<MDB_txn, void (*)(MDB_txn*)> reading(txn, mdb_txn_abort);
  auto each = [&](MDB_dbi dbi, auto visit) {
    MDB_cursor* cursor = nullptr;
    REQUIRE(mdb_cursor_open(txn, dbi, &cursor) == 0);
    MDB_val key, value;
    for (int rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
      visit(std::string(static_cast<const char*>(key.mv_data), key.mv_size),
            std::string(static_cast<const char*>(value.mv_data), value.mv_size));
    }
    mdb_cursor_close(cursor);
  };
  MDB_dbi main = 0;  // its keys name the tables
  REQUIRE(mdb_dbi_open(txn, nullptr, 0, &main) == 0);
  std::vector<std::string> tables;
  each(main, [&](std::string name, const std::string&) { tables.push_back(std::move(name)); });
  std::size_t found = 0;
  for (const auto& name : tables) {
    MDB_dbi dbi = 0;
    REQUIRE(mdb_dbi_open(txn, name.c_str(), 0, &dbi) == 0);
    each(dbi, [&](const std::string& key, const std::string& value) {
      found += key.find(text) != std::string::npos || value.find(text) != std::string::npos;
    });
  }
  return found;
}

std::size_t lines_with(const std::filesystem::path& log, const std::string& text) {
  std::istringstream lines(file_bytes(log));
  std::size_t found = 0;
  for (std::string line; std::getline(lines, line);) found += line.find(text) != std::string::npos;
  return found;
}

// `node` serves live and holds the unit with a project of title `title`; `lose` takes the
// unit from it. The node must purge the unit while its one session goes on, confirm to the
// hub, and keep nothing of the unit in any table of its store.
// Once serve stops, it rewrites the store (node/store_rewrite.hpp): not even the pages the
// purge freed hold the unit's bytes, in data.mdb itself.
template <typename Lose>
void purged_while_serving(Federation& f, const std::string& node, const std::string& title,
                          Lose lose) {
  std::filesystem::path log = f.dir / "serve.log";
  auto serving = std::make_unique<Background>(
      std::vector<std::string>{node_bin(), "serve", "--dir", node}, log);
  wait_for([&] { return has_record(node, "project:p1"); });

  lose();
  wait_for([&] { return !has_record(node, "project:p1"); });
  wait_for([&] { return f.hub_lines("purges").size() == 1; });
  auto purges = f.hub_lines("purges");
  CHECK(purges[0]["scope"] == kUnit);
  CHECK_FALSE(has_record(node, kUnit));
  CHECK(run_json({node_bin(), "status", "--dir", node})["cursors"].count(kUnit) == 0);
  INFO(file_bytes(log));
  CHECK(lines_with(log, "purged scope " + std::string(kUnit)) == 1);
  CHECK(lines_with(log, "caught up at hub seq") == 1);
  CHECK(lines_with(log, "reconnecting") == 0);
  REQUIRE(serving->running());

  serving->kill(SIGTERM);
  serving->wait();
  std::filesystem::path store = std::filesystem::path(node) / "store";
  REQUIRE(live_entries_holding(store, "fingerprint") == 1);  // the scan reads the tables
  std::string bytes = file_bytes(store / "data.mdb");
  REQUIRE(bytes.find("fingerprint") != std::string::npos);  // the file was read
  for (const auto& trace : {std::string("202199101G"), std::string("Unshared-Name"), title}) {
    INFO(trace);
    CHECK(live_entries_holding(store, trace) == 0);
    CHECK(bytes.find(trace) == std::string::npos);
  }
  CHECK(run_json({node_bin(), "status", "--dir", node})["rewrite_pending"] == false);
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
  std::string partner = f.partner_node("anr");
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
  std::string partner = f.partner_node("anr");
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
  std::string bytes = file_bytes(std::filesystem::path(f.b) / "store" / "data.mdb");
  REQUIRE(bytes.find("fingerprint") != std::string::npos);
  CHECK(bytes.find("202199101G") == std::string::npos);  // the store was rewritten
  CHECK(bytes.find("Unshared-Name") == std::string::npos);
  auto purges = f.hub_lines("purges");
  REQUIRE(purges.size() == 1);
  CHECK(purges[0]["scope"] == kUnit);

  f.put(f.a, {"structure", kUnit, "tutelles+=uai:0759901E"});
  f.sync(f.a);
  f.sync(f.b);
  CHECK(has_record(f.b, "project:p1"));
  CHECK(f.digest(f.a) == f.digest(f.b));
}

TEST_CASE("a tutelle removed and added again gets back its own edits of the unit") {
  Federation f;
  create_unit(f, {"uai:0339901H", "uai:0759901E"});
  f.sync(f.a);
  f.sync(f.b);
  f.put(f.b,
        {"project", "project:pb", "title=Written-By-B", "lead_structure=" + std::string(kUnit)});
  f.sync(f.b);
  f.sync(f.a);
  REQUIRE(has_record(f.a, "project:pb"));

  f.put(f.a, {"structure", kUnit, "tutelles-=uai:0759901E"});
  f.sync(f.a);
  f.sync(f.b);
  REQUIRE_FALSE(has_record(f.b, "project:pb"));

  f.put(f.a, {"structure", kUnit, "tutelles+=uai:0759901E"});
  f.sync(f.a);
  f.sync(f.b);
  CHECK(run_json({node_bin(), "get", "--dir", f.b, "project:pb"})["fields"]["title"] ==
        "Written-By-B");
  CHECK(f.digest(f.a) == f.digest(f.b));
  auto unit_digest = run_json({node_bin(), "digest", "--dir", f.b, "--scope", kUnit});
  CHECK(unit_digest["digest"] == f.hub_json("digest", {"--scope", kUnit})["digest"]);
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

TEST_CASE("a serving node whose tutelle is removed purges the unit live and confirms") {
  Federation f;
  create_unit(f, {"uai:0339901H", "uai:0759901E"});
  f.put(f.a, {"project", "project:p1", "title=Live-Project-Title",
              "lead_structure=" + std::string(kUnit)});
  f.sync(f.a);
  purged_while_serving(f, f.b, "Live-Project-Title", [&] {
    f.put(f.a, {"structure", kUnit, "tutelles-=uai:0759901E"});
    f.sync(f.a);
  });
  CHECK(has_record(f.a, "project:p1"));
}

TEST_CASE("a serving partner's node purges an unshared scope live and confirms") {
  Federation f;
  create_unit(f, {"uai:0339901H"});
  f.put(f.a, {"project", "project:p1", "title=Shared-Project-Title",
              "lead_structure=" + std::string(kUnit)});
  f.sync(f.a);
  f.hub_json("share", {"--scope", kUnit, "--partner", "anr"});
  std::string partner = f.partner_node("anr");
  purged_while_serving(f, partner, "Shared-Project-Title", [&] {
    f.hub_json("unshare", {"--scope", kUnit, "--partner", "anr"});
  });
}
