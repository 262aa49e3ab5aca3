// The rule table of habilitations, profile by profile, through the pure check: a small federation
// held in a map (two establishments, a unit they co-supervise with two teams, a unit of one of
// them, people, a project, a call and an application), and changesets written against it.
#include "identity/habilitations.hpp"

#include <catch2/catch.hpp>
#include <map>

#include "conflict/hlc.hpp"
#include "conflict/merge.hpp"
#include "protocol/catalogue.hpp"

using namespace tutelle;
using namespace tutelle::identity;
using Catch::Contains;

namespace {

const std::string kGaronne = "0339901H";
const std::string kCnel = "0759901E";
const std::string kLec = "rnsr:202199101G";  // co-supervised by both
const std::string kOtc = "rnsr:202199102H";  // CNEL's alone
const std::string kTeamA = "structure:team-a";
const std::string kTeamB = "structure:team-b";
const std::string kAlice = "alice@univ-garonne.fr";
const std::string kBob = "bob@univ-garonne.fr";

// 2026-03-02, noon UTC.
const std::uint64_t kDay = conflict::HybridClock::from_millis(1772452800000ull);

using Fields = std::vector<std::pair<std::string, std::vector<std::string>>>;

RecordState make_record(const std::string& id, const std::string& type, const std::string& home,
                        const Fields& fields) {
  RecordState record{id, type, home, {}};
  std::uint64_t seq = 1;
  for (const auto& [name, values] : fields) {
    FieldState& field = record.field_mut(name);
    for (const auto& value : values) {
      field.entries.push_back(Entry{Dot{{}, seq++, 0}, kDay - 1000, kGaronne, Value{value}});
    }
  }
  return record;
}

class MapLookup : public RecordLookup {
 public:
  MapLookup() {
    for (const auto& uai : {kGaronne, kCnel}) {
      put(establishment_id(uai), "structure", establishment_id(uai),
          {{"kind", {"establishment"}}, {"uai", {uai}}});
    }
    put(kLec, "structure", kLec,
        {{"kind", {"unit"}}, {"tutelles", {establishment_id(kGaronne), establishment_id(kCnel)}}});
    put(kOtc, "structure", kOtc, {{"kind", {"unit"}}, {"tutelles", {establishment_id(kCnel)}}});
    put(kTeamA, "structure", kLec, {{"kind", {"team"}}, {"parents", {kLec}}});
    put(kTeamB, "structure", kLec, {{"kind", {"team"}}, {"parents", {kLec}}});
    put("person:alice", "person", establishment_id(kGaronne), {{"eppn", {kAlice}}});
    put("person:bob", "person", establishment_id(kGaronne), {{"eppn", {kBob}}});
    put("project:sable", "project", kLec,
        {{"lead_structure", {kLec}}, {"people", {"person:alice"}}});
    put("project:dune", "project", kLec, {{"lead_structure", {kLec}}, {"people", {"person:bob"}}});
    put("assignment:a1", "assignment", kLec, {{"person", {"person:bob"}}, {"structure", {kTeamA}}});
    put("call:aapi", "call", establishment_id(kGaronne), {{"title", {"AAPi"}}});
    put("application:x", "application", kLec,
        {{"call", {"call:aapi"}}, {"structure", {kLec}}, {"applicant", {"person:bob"}}});
    put("habilitation:bob", "habilitation", kLec,
        {{"principal", {kBob}}, {"profile", {"researcher"}}, {"perimeter", {kLec}}});
  }

  void put(const std::string& id, const std::string& type, const std::string& home,
           const Fields& fields) {
    records_[id] = make_record(id, type, home, fields);
  }

  std::optional<RecordState> record(const std::string& id) const override {
    auto found = records_.find(id);
    if (found == records_.end() || found->second.deleted()) return std::nullopt;
    return found->second;
  }

  std::vector<std::string> persons_of(const std::string& principal) const override {
    std::vector<std::string> ids;
    for (const auto& [id, record] : records_) {
      const FieldState* eppn = record.field("eppn");
      if (record.type == "person" && eppn != nullptr &&
          eppn->entries.front().value == Value{principal}) {
        ids.push_back(id);
      }
    }
    return ids;
  }

 private:
  std::map<std::string, RecordState> records_;
};

// One operation of a changeset: set (or add, for a set field) a value, or delete the record.
struct Op {
  std::string record;
  std::string type;
  std::string field;  // empty: delete the record
  std::string value;
  bool add = false;
};

Op set(std::string record, std::string type, std::string field, std::string value) {
  return Op{std::move(record), std::move(type), std::move(field), std::move(value), false};
}

Op add(std::string record, std::string type, std::string field, std::string value) {
  return Op{std::move(record), std::move(type), std::move(field), std::move(value), true};
}

Op erase(std::string record, std::string type) {
  return Op{std::move(record), std::move(type), "", "", false};
}

Changeset changeset(const std::string& author, const std::string& scope, const std::vector<Op>& ops,
                    const std::string& establishment = kGaronne) {
  Changeset changeset;
  changeset.establishment = establishment;
  changeset.seq = 7;
  changeset.hlc = kDay;
  changeset.author = author;
  changeset.scope = scope;
  for (const auto& op : ops) {
    OpKind kind = op.field.empty() ? OpKind::delete_record : op.add ? OpKind::add : OpKind::set;
    Value value = op.field.empty() ? Value{} : Value{op.value};
    std::vector<Dot> seen;  // a delete supersedes what its author saw
    if (auto record = MapLookup().record(op.record); record && op.field.empty()) {
      seen = conflict::all_dots(*record);
    }
    changeset.operations.push_back(Operation{kind, op.record, op.type, op.field, value, seen});
  }
  return changeset;
}

Author holding(const std::string& principal, std::vector<Habilitation> habilitations) {
  return Author{principal, std::move(habilitations)};
}

Habilitation as(Profile profile, const std::string& perimeter,
                const std::string& establishment = kGaronne) {
  return Habilitation{profile, perimeter, establishment, "", ""};
}

// The verdict on `changeset` written by `author` against the map federation.
Status verdict(const Author& author, const Changeset& written) {
  static const MapLookup lookup;
  return authorise(author, written, lookup);
}

bool allowed(const Author& author, const Changeset& written) {
  Status status = verdict(author, written);
  INFO((status ? std::string("allowed") : status.error().message));
  return status.ok();
}

std::string refusal(const Author& author, const Changeset& written) {
  Status status = verdict(author, written);
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().code == ErrorCode::refused);
  return status.error().message;
}

Changeset new_habilitation(const std::string& author, const std::string& principal,
                           const std::string& profile, const std::string& perimeter,
                           const std::string& scope) {
  return changeset(author, scope,
                   {set("habilitation:new", "habilitation", "principal", principal),
                    set("habilitation:new", "habilitation", "profile", profile),
                    set("habilitation:new", "habilitation", "perimeter", perimeter)});
}

}  // namespace

TEST_CASE("the rule table speaks of the catalogue's profiles and types only") {
  const FieldSpec* profile = find_type("habilitation")->field("profile");
  REQUIRE(profile != nullptr);
  std::vector<std::string> names;
  for (Profile p : all_profiles()) names.push_back(to_string(p));
  CHECK(names == profile->choices);
  for (const auto& rule : rules()) {
    CHECK(find_type(rule.type) != nullptr);
    CHECK_FALSE(rule.actions.empty());
  }
  CHECK(find_type("habilitation")->home_from == std::vector<std::string>{"perimeter"});
}

TEST_CASE("a researcher edits their own person record and the projects they take part in") {
  Author alice = holding(kAlice, {as(Profile::researcher, kLec)});
  std::string home = establishment_id(kGaronne);
  CHECK(allowed(alice, changeset(kAlice, home, {set("person:alice", "person", "email", "a@x")})));
  CHECK(allowed(alice, changeset(kAlice, kLec, {set("project:sable", "project", "acronym", "S")})));
  CHECK(allowed(alice, changeset(kAlice, kLec,
                                 {set("product:p", "product", "title", "Sand"),
                                  add("product:p", "product", "authors", "person:alice")})));
}

TEST_CASE("a researcher may not edit the unit, and the refusal names the rule") {
  Author alice = holding(kAlice, {as(Profile::researcher, kLec)});
  CHECK(refusal(alice, changeset(kAlice, kLec, {set(kLec, "structure", "city", "Pau")})) ==
        "alice@univ-garonne.fr (researcher@rnsr:202199101G) may not edit structure "
        "rnsr:202199101G: a researcher edits only their own person record and the projects they "
        "take part in, and writes the products and applications that name them");
}

TEST_CASE("a researcher may not edit another's person record nor a project they are not in") {
  Author alice = holding(kAlice, {as(Profile::researcher, kLec)});
  std::string home = establishment_id(kGaronne);
  CHECK_THAT(refusal(alice, changeset(kAlice, home, {set("person:bob", "person", "email", "x")})),
             Contains("person:bob is not their own person record"));
  CHECK_THAT(refusal(alice, changeset(kAlice, home, {set("person:bob", "person", "eppn", kAlice)})),
             Contains("may not edit person person:bob"));
  CHECK_THAT(
      refusal(alice, changeset(kAlice, kLec, {set("project:dune", "project", "acronym", "D")})),
      Contains("they take no part in project:dune"));
  CHECK_THAT(refusal(alice, changeset(kAlice, kLec, {erase("project:sable", "project")})),
             Contains("may not delete project project:sable"));
}

TEST_CASE("a team leader writes the assignments of their team and not of another team") {
  Author leader = holding(kAlice, {as(Profile::team_leader, kTeamA)});
  CHECK(allowed(
      leader, changeset(kAlice, kLec, {set("assignment:a1", "assignment", "end", "2026-12-31")})));
  CHECK(allowed(leader, changeset(kAlice, kLec,
                                  {set("assignment:a2", "assignment", "person", "person:bob"),
                                   set("assignment:a2", "assignment", "structure", kTeamA)})));
  CHECK_THAT(refusal(leader, changeset(kAlice, kLec,
                                       {set("assignment:a3", "assignment", "structure", kTeamB)})),
             Contains("as team_leader@structure:team-a, assignment:a3 does not lie within "
                      "structure:team-a"));
  CHECK_THAT(refusal(leader, changeset(kAlice, kLec,
                                       {set("assignment:a1", "assignment", "structure", kTeamB)})),
             Contains("assignment:a1 does not lie within structure:team-a"));
}

TEST_CASE("a team leader edits their team and creates structures below it, never deletes it") {
  Author leader = holding(kAlice, {as(Profile::team_leader, kTeamA)});
  CHECK(allowed(leader, changeset(kAlice, kLec, {set(kTeamA, "structure", "name", "Sables")})));
  CHECK(allowed(leader, changeset(kAlice, kLec,
                                  {set("structure:sub", "structure", "kind", "team"),
                                   add("structure:sub", "structure", "parents", kTeamA)})));
  CHECK_THAT(refusal(leader, changeset(kAlice, kLec, {erase(kTeamA, "structure")})),
             Contains("structure:team-a is their perimeter itself"));
  CHECK_THAT(refusal(leader, changeset(kAlice, kLec, {set(kTeamB, "structure", "name", "B")})),
             Contains("structure:team-b does not lie within structure:team-a"));
}

TEST_CASE("a unit director edits the unit, its teams and its assignments, not another unit") {
  Author director = holding(kAlice, {as(Profile::unit_director, kLec)});
  CHECK(allowed(director, changeset(kAlice, kLec, {set(kLec, "structure", "city", "Pau")})));
  CHECK(allowed(director, changeset(kAlice, kLec, {erase(kTeamB, "structure")})));
  CHECK(allowed(director, changeset(kAlice, kLec, {erase("assignment:a1", "assignment")})));
  CHECK(allowed(director,
                changeset(kAlice, kLec, {set("project:dune", "project", "budget", "12.50")})));
  CHECK_THAT(refusal(director, changeset(kAlice, kOtc, {set(kOtc, "structure", "city", "Caen")})),
             Contains("rnsr:202199102H does not lie within rnsr:202199101G"));
  CHECK_THAT(refusal(director, changeset(kAlice, kLec, {erase(kLec, "structure")})),
             Contains("rnsr:202199101G is their perimeter itself"));
  CHECK_THAT(refusal(director, changeset(kAlice, establishment_id(kGaronne),
                                         {set("person:bob", "person", "email", "b@x")})),
             Contains("may not edit person person:bob"));
}

TEST_CASE("a unit director grants habilitations in the unit up to unit director only") {
  Author director = holding(kAlice, {as(Profile::unit_director, kLec)});
  CHECK(allowed(director, new_habilitation(kAlice, kBob, "team_leader", kTeamA, kLec)));
  CHECK(allowed(director, new_habilitation(kAlice, kBob, "unit_director", kLec, kLec)));
  CHECK(allowed(director, changeset(kAlice, kLec, {erase("habilitation:bob", "habilitation")})));
  CHECK_THAT(refusal(director, new_habilitation(kAlice, kBob, "establishment_admin", kLec, kLec)),
             Contains("they grant only researcher, team_leader, unit_director, unit_manager"));
  CHECK_THAT(refusal(director, new_habilitation(kAlice, kBob, "unit_director", kOtc, kLec)),
             Contains("rnsr:202199102H does not lie within rnsr:202199101G"));
  CHECK_THAT(
      refusal(director, changeset(kAlice, kLec,
                                  {set("habilitation:bob", "habilitation", "perimeter", kOtc)})),
      Contains("rnsr:202199102H does not lie within rnsr:202199101G"));
}

TEST_CASE("a unit manager keeps assignments and projects but may not edit the unit") {
  Author manager = holding(kAlice, {as(Profile::unit_manager, kLec)});
  CHECK(allowed(manager,
                changeset(kAlice, kLec, {set("assignment:a1", "assignment", "role", "member")})));
  CHECK(allowed(manager,
                changeset(kAlice, kLec, {set("project:dune", "project", "status", "running")})));
  CHECK(allowed(manager, changeset(kAlice, establishment_id(kGaronne),
                                   {set("person:new", "person", "family_name", "Neveu")})));
  CHECK_THAT(refusal(manager, changeset(kAlice, kLec, {set(kLec, "structure", "city", "Pau")})),
             Contains("a unit manager writes what a researcher may"));
  CHECK_THAT(refusal(manager, new_habilitation(kAlice, kBob, "researcher", kLec, kLec)),
             Contains("may not create habilitation habilitation:new"));
}

TEST_CASE("an establishment admin writes in the units it supervises and nowhere else") {
  Author admin = holding(kAlice, {as(Profile::establishment_admin, establishment_id(kGaronne))});
  CHECK(allowed(admin, changeset(kAlice, kLec, {set(kLec, "structure", "city", "Pau")})));
  CHECK(allowed(admin, changeset(kAlice, kLec, {erase(kTeamB, "structure")})));
  CHECK(allowed(admin, changeset(kAlice, establishment_id(kGaronne),
                                 {set("person:bob", "person", "email", "b@x")})));
  CHECK(allowed(admin, changeset(kAlice, "rnsr:202199103J",
                                 {set("rnsr:202199103J", "structure", "kind", "unit"),
                                  add("rnsr:202199103J", "structure", "tutelles",
                                      establishment_id(kGaronne))})));
  CHECK_THAT(refusal(admin, changeset(kAlice, kOtc, {set(kOtc, "structure", "city", "Caen")})),
             Contains("rnsr:202199102H does not lie within uai:0339901H"));
  CHECK_THAT(refusal(admin, changeset(kAlice, establishment_id(kCnel),
                                      {set(establishment_id(kCnel), "structure", "city", "X")})),
             Contains("uai:0759901E does not lie within uai:0339901H"));
}

TEST_CASE("an establishment admin manages the establishment's habilitations, never hub admin") {
  Author admin = holding(kAlice, {as(Profile::establishment_admin, establishment_id(kGaronne))});
  CHECK(allowed(admin, new_habilitation(kAlice, kBob, "unit_director", kLec, kLec)));
  CHECK(allowed(admin, new_habilitation(kAlice, kBob, "central_services",
                                        establishment_id(kGaronne), establishment_id(kGaronne))));
  CHECK_THAT(refusal(admin, new_habilitation(kAlice, kBob, "hub_admin", kLec, kLec)),
             Contains("they grant only researcher, team_leader, unit_director, unit_manager, "
                      "establishment_admin, central_services, call_manager, partner_reader"));
  CHECK_THAT(refusal(admin, new_habilitation(kAlice, kBob, "unit_director", kOtc, kOtc)),
             Contains("rnsr:202199102H does not lie within uai:0339901H"));
  Changeset for_cnel = new_habilitation(kAlice, kBob, "researcher", kLec, kLec);
  for_cnel.operations.push_back(Operation{
      OpKind::set, "habilitation:new", "habilitation", "establishment", Value{kCnel}, {}});
  CHECK_THAT(refusal(admin, for_cnel),
             Contains("habilitation:new counts for establishment 0759901E, not 0339901H"));
}

TEST_CASE("central services write partnerships and edit projects, nothing else") {
  Author central = holding(kAlice, {as(Profile::central_services, establishment_id(kGaronne))});
  CHECK(allowed(central,
                changeset(kAlice, kLec,
                          {set("partnership:p", "partnership", "partner_name", "Ifremer"),
                           set("partnership:p", "partnership", "project", "project:sable")})));
  CHECK(allowed(central,
                changeset(kAlice, kLec, {set("project:dune", "project", "budget", "9000")})));
  CHECK_THAT(refusal(central, changeset(kAlice, kLec, {erase("project:dune", "project")})),
             Contains("central services read the whole establishment"));
  CHECK_THAT(refusal(central, changeset(kAlice, kLec, {set(kLec, "structure", "city", "Pau")})),
             Contains("may not edit structure"));
}

TEST_CASE("a call manager writes calls and edits the applications to them") {
  Author manager = holding(kAlice, {as(Profile::call_manager, establishment_id(kGaronne))});
  std::string home = establishment_id(kGaronne);
  CHECK(allowed(manager, changeset(kAlice, home, {set("call:aapi", "call", "status", "open")})));
  CHECK(allowed(manager, changeset(kAlice, home, {set("call:new", "call", "title", "AAP 2027")})));
  CHECK(allowed(manager, changeset(kAlice, kLec,
                                   {set("application:x", "application", "status", "eligible")})));
  CHECK_THAT(refusal(manager, changeset(kAlice, kLec, {erase("application:x", "application")})),
             Contains("a call manager writes the calls"));
}

TEST_CASE("a partner reader and a hub admin write nothing") {
  for (Profile profile : {Profile::partner_reader, Profile::hub_admin}) {
    Author reader = holding(kAlice, {as(profile, kLec)});
    CHECK_THAT(refusal(reader, changeset(kAlice, kLec, {set(kLec, "structure", "city", "Pau")})),
               Contains("writes nothing") || Contains("writes no record"));
  }
}

TEST_CASE("a node's steward holds establishment admin on its establishment") {
  Habilitation steward = steward_habilitation(kGaronne);
  CHECK(steward.text() == "establishment_admin@uai:0339901H");
  CHECK(steward.establishment == kGaronne);
  Author author = holding("steward@0339901H", {steward});
  CHECK(allowed(author, changeset("steward@0339901H", kLec,
                                  {set(kLec, "structure", "website", "https://lec.example")})));
}

TEST_CASE("an author without a habilitation is refused, saying none is in effect") {
  CHECK(refusal(holding(kBob, {}), changeset(kBob, kLec, {set(kLec, "structure", "city", "X")})) ==
        "bob@univ-garonne.fr (no habilitation in effect for 0339901H) may not edit structure "
        "rnsr:202199101G: a write needs a habilitation in effect on the changeset's day");
}

TEST_CASE("a habilitation counts only in the changesets of its establishment's node") {
  Author director = holding(kAlice, {as(Profile::unit_director, kLec, kGaronne)});
  Changeset from_cnel = changeset(kAlice, kLec, {set(kLec, "structure", "city", "Pau")}, kCnel);
  CHECK_THAT(refusal(director, from_cnel), Contains("(no habilitation in effect for 0759901E)"));
}

TEST_CASE("a habilitation counts only from its start day to its end day") {
  Changeset edit = changeset(kAlice, kLec, {set(kLec, "structure", "city", "Pau")});
  auto between = [&](std::string start, std::string end) {
    Habilitation dated = as(Profile::unit_director, kLec);
    dated.start = std::move(start);
    dated.end = std::move(end);
    return verdict(holding(kAlice, {dated}), edit).ok();
  };
  CHECK(between("2026-03-02", "2026-03-02"));
  CHECK(between("", "2026-12-31"));
  CHECK_FALSE(between("2026-03-03", ""));
  CHECK_FALSE(between("", "2026-03-01"));
}

TEST_CASE("a changeset is refused whole when one record it touches is refused") {
  Author alice = holding(kAlice, {as(Profile::researcher, kLec)});
  CHECK_THAT(refusal(alice, changeset(kAlice, kLec,
                                      {set("project:sable", "project", "acronym", "S"),
                                       set("project:dune", "project", "acronym", "D")})),
             Contains("may not edit project project:dune"));
}

TEST_CASE("an operation that names a record by another type is refused") {
  Author admin = holding(kAlice, {as(Profile::establishment_admin, establishment_id(kGaronne))});
  CHECK_THAT(refusal(admin, changeset(kAlice, kLec, {set(kLec, "person", "eppn", kAlice)})),
             Contains("rnsr:202199101G is a structure, not a person"));
}

TEST_CASE("a habilitation record gives its habilitation to its principal only") {
  RecordState record = make_record("habilitation:h", "habilitation", kLec,
                                   {{"principal", {kBob}},
                                    {"profile", {"unit_manager"}},
                                    {"perimeter", {kLec}},
                                    {"end", {"2027-08-31"}}});
  CHECK_FALSE(habilitation_for(record, kAlice).has_value());
  auto held = habilitation_for(record, kBob);
  REQUIRE(held.has_value());
  CHECK(held->text() == "unit_manager@rnsr:202199101G");
  CHECK(held->establishment == kGaronne);  // the establishment that wrote it
  CHECK(held->end == "2027-08-31");
  record.field_mut("establishment")
      .entries.push_back(Entry{Dot{{}, 99, 0}, kDay, kGaronne, Value{kCnel}});
  CHECK(habilitation_for(record, kBob)->establishment == kCnel);
}

TEST_CASE("a scope lies within an establishment when it is its own or a unit it supervises") {
  MapLookup lookup;
  auto within = [&](const std::string& scope, const std::string& establishment,
                    std::vector<Op> ops) {
    return within_establishment(changeset(kAlice, scope, ops, establishment), lookup);
  };
  Op city = set(kLec, "structure", "city", "Pau");
  CHECK(within(kLec, kGaronne, {city}));
  CHECK(within(kLec, kCnel, {city}));
  CHECK_FALSE(within(kOtc, kGaronne, {set(kOtc, "structure", "city", "Caen")}));
  CHECK(within(establishment_id(kGaronne), kGaronne, {set("person:bob", "person", "email", "b")}));
  CHECK(within("rnsr:202199103J", kGaronne,
               {add("rnsr:202199103J", "structure", "tutelles", establishment_id(kGaronne))}));
  CHECK_FALSE(
      within("rnsr:202199103J", kCnel,
             {add("rnsr:202199103J", "structure", "tutelles", establishment_id(kGaronne))}));
}

TEST_CASE("a cycle of parents ends the walk up and lies under nothing outside it") {
  MapLookup lookup;
  lookup.put("structure:x", "structure", kOtc, {{"parents", {"structure:y"}}});
  lookup.put("structure:y", "structure", kOtc, {{"parents", {"structure:x"}}});
  Author director = holding(kAlice, {as(Profile::unit_director, kLec)});
  Status status = authorise(
      director, changeset(kAlice, kOtc, {set("structure:x", "structure", "name", "X")}), lookup);
  REQUIRE_FALSE(status.ok());
  CHECK_THAT(status.error().message, Contains("structure:x does not lie within rnsr:202199101G"));
}
