#include "identity/habilitations.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <set>

#include "conflict/hlc.hpp"
#include "conflict/merge.hpp"
#include "protocol/catalogue.hpp"

namespace tutelle::identity {

namespace {

using enum Action;
using enum Condition;
using enum Profile;

// How many records a walk up from one record reads at most: far more than any real org chart
// is deep, and a bound on what a cycle or a hostile graph costs.
constexpr std::size_t kMaxWalk = 256;

const std::vector<Action> kEveryAction = {create, edit, erase};

// Every type of the catalogue but habilitation, whose rules are grants.
std::vector<std::string> every_type() {
  std::vector<std::string> types;
  for (const auto& type : catalogue()) {
    if (type.name != "habilitation") types.push_back(type.name);
  }
  return types;
}

struct ProfileText {
  Profile profile;
  const char* name;
  const char* summary;
};

const std::vector<ProfileText>& profile_texts() {
  static const std::vector<ProfileText> texts = {
      {researcher, "researcher",
       "a researcher edits only their own person record and the projects they take part in, "
       "and writes the products and applications that name them"},
      {team_leader, "team_leader",
       "a team leader writes what a researcher may, the team's sub-structures, assignments, "
       "projects and products, and creates person records"},
      {unit_director, "unit_director",
       "a unit director writes what a researcher may, the unit and its teams, its assignments, "
       "projects, products, applications and partnerships, creates person records, and grants "
       "researcher, team leader, unit director and unit manager habilitations in the unit"},
      {unit_manager, "unit_manager",
       "a unit manager writes what a researcher may, the unit's assignments, projects, "
       "products, applications and partnerships, and creates person records"},
      {establishment_admin, "establishment_admin",
       "an establishment admin writes every record within the establishment and grants every "
       "habilitation of it but hub_admin"},
      {central_services, "central_services",
       "central services read the whole establishment and write only its partnerships and the "
       "projects' records"},
      {call_manager, "call_manager",
       "a call manager writes the calls within their perimeter and edits the applications to "
       "them"},
      {partner_reader, "partner_reader",
       "a partner reader reads what is shared with their partner and writes nothing"},
      {hub_admin, "hub_admin",
       "a hub admin runs the hub (enrolment, quarantine) and writes no record through a node"},
  };
  return texts;
}

void add(std::vector<Rule>& table, Profile profile, const std::vector<std::string>& types,
         const std::vector<Action>& actions, Condition condition,
         const std::vector<Profile>& gives = {}) {
  for (const auto& type : types) table.push_back(Rule{profile, type, actions, condition, gives});
}

// What every profile of a unit's staff may write about themselves.
void add_personal(std::vector<Rule>& table, Profile profile) {
  add(table, profile, {"person"}, {create, edit}, own_person);
  add(table, profile, {"project"}, {edit}, takes_part);
  add(table, profile, {"product"}, kEveryAction, takes_part);
  add(table, profile, {"application"}, {create, edit}, takes_part);
}

std::vector<Rule> make_rules() {
  std::vector<Rule> table;
  for (Profile staff : {researcher, team_leader, unit_director, unit_manager}) {
    add_personal(table, staff);
  }

  add(table, team_leader, {"structure"}, {edit}, perimeter);
  add(table, team_leader, {"structure"}, {create, erase}, below_perimeter);
  add(table, team_leader, {"assignment", "product"}, kEveryAction, perimeter);
  add(table, team_leader, {"project"}, {create, edit}, perimeter);
  add(table, team_leader, {"person"}, {create}, establishment_scope);

  add(table, unit_director, {"structure"}, {edit}, perimeter);
  add(table, unit_director, {"structure"}, {create, erase}, below_perimeter);
  add(table, unit_director, {"assignment", "project", "product", "application", "partnership"},
      kEveryAction, perimeter);
  add(table, unit_director, {"person"}, {create}, establishment_scope);
  add(table, unit_director, {"habilitation"}, kEveryAction, grants,
      {researcher, team_leader, unit_director, unit_manager});

  add(table, unit_manager, {"assignment", "project", "product", "application", "partnership"},
      kEveryAction, perimeter);
  add(table, unit_manager, {"person"}, {create}, establishment_scope);

  add(table, establishment_admin, every_type(), kEveryAction, perimeter);
  add(table, establishment_admin, {"habilitation"}, kEveryAction, grants,
      {researcher, team_leader, unit_director, unit_manager, establishment_admin, central_services,
       call_manager, partner_reader});

  add(table, central_services, {"partnership"}, kEveryAction, perimeter);
  add(table, central_services, {"project"}, {edit}, perimeter);

  add(table, call_manager, {"call"}, kEveryAction, perimeter);
  add(table, call_manager, {"application"}, {edit}, perimeter);
  return table;
}

// The day `hlc` falls on, YYYY-MM-DD in UTC.
std::string day_of(std::uint64_t hlc) {
  namespace chrono = std::chrono;
  auto millis = chrono::milliseconds(conflict::HybridClock::millis_of(hlc));
  chrono::year_month_day day{
      chrono::floor<chrono::days>(chrono::sys_time<chrono::milliseconds>(millis))};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(day.year()),
                static_cast<unsigned>(day.month()), static_cast<unsigned>(day.day()));
  return text;
}

std::string shown_text(const RecordState& record, const std::string& field) {
  const FieldState* state = record.field(field);
  if (state == nullptr || state->entries.empty()) return "";
  return value_text(conflict::shown(*state, "").value);
}

// The texts a field holds: every element of a set field, the shown value of another.
std::vector<std::string> field_texts(const RecordState& record, const std::string& field) {
  const FieldState* state = record.field(field);
  std::vector<std::string> texts;
  if (state == nullptr || state->entries.empty()) return texts;
  const TypeSpec* type = find_type(record.type);
  const FieldSpec* spec = type ? type->field(field) : nullptr;
  if (spec == nullptr || !spec->is_set()) return {shown_text(record, field)};
  for (const auto& value : conflict::set_values(*state)) texts.push_back(value_text(value));
  return texts;
}

// The establishment a habilitation record counts for: its own field, else the one that wrote
// its principal.
std::string establishment_of(const RecordState& record) {
  std::string named = shown_text(record, "establishment");
  if (!named.empty()) return named;
  const FieldState* principal = record.field("principal");
  if (principal == nullptr || principal->entries.empty()) return "";
  return conflict::shown(*principal, "").establishment;
}

// The merge needs no memory to project a changeset onto a copy of a record.
class NoMemory : public conflict::DotOracle {
 public:
  bool applied(const KeyBytes&, std::uint64_t) override { return true; }
  bool take_tombstone(const Dot&) override { return false; }
  void add_tombstone(const Dot&, const std::string&) override {}
};

enum class Side { before, after };

// The records as they stand (before) and as the changeset leaves them (after).
class States {
 public:
  States(const Changeset& changeset, const RecordLookup& lookup) : lookup_(lookup) {
    NoMemory memory;
    for (std::uint32_t i = 0; i < changeset.operations.size(); ++i) {
      const Operation& op = changeset.operations[i];
      auto [at, fresh] = after_.try_emplace(op.record);
      if (fresh) {
        order_.push_back(op.record);
        at->second = lookup_.record(op.record).value_or(
            RecordState{op.record, op.type, changeset.scope, {}});
      }
      conflict::apply_operation(at->second, changeset, i, memory);
      if (op.kind == OpKind::delete_record) deleted_.insert(op.record);
    }
  }

  std::optional<RecordState> get(const std::string& id, Side side) const {
    auto projected = after_.find(id);
    if (side == Side::before || projected == after_.end()) return lookup_.record(id);
    if (projected->second.deleted()) return std::nullopt;
    return projected->second;
  }
  // The records the changeset touches, in the order it first touches them, as it leaves them.
  const std::vector<std::string>& touched() const { return order_; }
  const RecordState& after(const std::string& id) const { return after_.at(id); }
  const RecordLookup& lookup() const { return lookup_; }
  // Whether the changeset deletes the record (entries a concurrent edit wrote may survive).
  bool deletes(const std::string& id) const { return deleted_.count(id) > 0; }

 private:
  const RecordLookup& lookup_;
  std::map<std::string, RecordState> after_;
  std::vector<std::string> order_;
  std::set<std::string> deleted_;
};

// The ids a record links up to: its home, and its parents and tutelles or its anchoring
// references.
std::vector<std::string> links_up(const RecordState& record) {
  std::vector<std::string> ids;
  if (!record.home.empty()) ids.push_back(record.home);
  const TypeSpec* type = find_type(record.type);
  std::vector<std::string> fields = {"parents", "tutelles"};
  if (record.type != "structure") fields = type ? type->home_from : std::vector<std::string>{};
  for (const auto& field : fields) {
    for (auto& id : field_texts(record, field)) ids.push_back(std::move(id));
  }
  return ids;
}

// Every structure `start` lies under, itself included, on the given side. A structure with a
// UAI is also known by uai:<UAI>, the id tutelles and perimeters use.
std::set<std::string> lying_under(const RecordState& start, const States& states, Side side) {
  std::set<std::string> found = {start.id};
  // A deque keeps `record` valid while the walk grows: no copy of each record walked.
  std::deque<RecordState> walk = {start};
  for (std::size_t next = 0; next < walk.size() && next < kMaxWalk; ++next) {
    const RecordState& record = walk[next];
    std::string uai = record.type == "structure" ? shown_text(record, "uai") : "";
    if (!uai.empty()) found.insert(establishment_id(uai));
    for (const auto& id : links_up(record)) {
      if (!found.insert(id).second) continue;
      if (auto up = states.get(id, side)) walk.push_back(std::move(*up));
    }
  }
  return found;
}

std::set<std::string> lying_under(const std::string& id, const States& states, Side side) {
  auto record = states.get(id, side);
  if (!record) return {id};
  return lying_under(*record, states, side);
}

bool in_effect(const Habilitation& habilitation, const Changeset& changeset,
               const std::string& day) {
  if (habilitation.establishment != changeset.establishment) return false;
  if (!habilitation.start.empty() && day < habilitation.start) return false;
  return habilitation.end.empty() || day <= habilitation.end;
}

std::string profile_list(const std::vector<Profile>& profiles) {
  std::string list;
  for (Profile profile : profiles)
    list += (list.empty() ? "" : ", ") + std::string(to_string(profile));
  return list;
}

// One check of one changeset: the author's habilitations in effect and the states it reads.
class Check {
 public:
  Check(const Author& author, const Changeset& changeset, const RecordLookup& lookup)
      : author_(author), changeset_(changeset), states_(changeset, lookup) {
    std::string day = day_of(changeset.hlc);
    for (const auto& habilitation : author.habilitations) {
      if (in_effect(habilitation, changeset, day)) held_.push_back(habilitation);
    }
  }

  Status run() {
    for (const auto& op : changeset_.operations) {
      const std::string& type = states_.after(op.record).type;
      if (type != op.type) {
        return make_error(ErrorCode::refused, op.record + " is a " + type + ", not a " + op.type);
      }
    }
    for (const auto& id : states_.touched()) {
      Status allowed = record(id);
      if (!allowed) return allowed;
    }
    return {};
  }

 private:
  using Failure = std::optional<std::string>;  // why a condition does not hold; none: it holds

  Status record(const std::string& id) {
    const RecordState& after = states_.after(id);
    std::optional<RecordState> before = states_.lookup().record(id);
    Action action = states_.deletes(id) ? erase : !before ? create : edit;
    std::vector<std::pair<const RecordState*, Side>> sides;
    if (before) sides.emplace_back(&*before, Side::before);
    if (!after.deleted() || !before) sides.emplace_back(&after, Side::after);

    std::vector<std::string> reasons;
    for (const auto& habilitation : held_) {
      Failure failure = allows(habilitation, after.type, action, sides);
      if (!failure) return {};
      if (std::find(reasons.begin(), reasons.end(), *failure) == reasons.end()) {
        reasons.push_back(*failure);
      }
    }
    return refusal(action, after, reasons);
  }

  // Whether a rule of `habilitation` allows `action` on the record in every one of `sides`.
  Failure allows(const Habilitation& habilitation, const std::string& type, Action action,
                 const std::vector<std::pair<const RecordState*, Side>>& sides) {
    Failure failure = std::string(summary(habilitation.profile));
    for (const auto& rule : rules()) {
      if (rule.profile != habilitation.profile || rule.type != type ||
          std::find(rule.actions.begin(), rule.actions.end(), action) == rule.actions.end()) {
        continue;
      }
      failure.reset();
      for (const auto& [state, side] : sides) {
        failure = holds(rule, habilitation, *state, side);
        if (failure) break;
      }
      if (!failure) return failure;
      failure = "as " + habilitation.text() + ", " + *failure;
    }
    return failure;
  }

  Failure holds(const Rule& rule, const Habilitation& habilitation, const RecordState& state,
                Side side) {
    switch (rule.condition) {
      case perimeter:
      case below_perimeter: return within(habilitation, state, side, rule.condition);
      case own_person:
        if (state.type == "person" && shown_text(state, "eppn") == author_.principal) return {};
        return state.id + " is not their own person record";
      case takes_part: return taking_part(state);
      case establishment_scope:
        if (state.home == establishment_id(habilitation.establishment)) return {};
        return state.id + " does not live in the scope of " +
               establishment_id(habilitation.establishment);
      case grants: return granting(rule, habilitation, state, side);
    }
    return "no condition";
  }

  Failure within(const Habilitation& habilitation, const RecordState& state, Side side,
                 Condition condition) {
    if (condition == below_perimeter && state.id == habilitation.perimeter) {
      return state.id + " is their perimeter itself";
    }
    if (lying_under(state, states_, side).count(habilitation.perimeter) > 0) return {};
    return state.id + " does not lie within " + habilitation.perimeter;
  }

  Failure taking_part(const RecordState& state) {
    static const std::map<std::string, std::string> naming = {
        {"project", "people"}, {"product", "authors"}, {"application", "applicant"}};
    auto field = naming.find(state.type);
    if (field != naming.end()) {
      if (!persons_) persons_ = states_.lookup().persons_of(author_.principal);
      for (const auto& person : field_texts(state, field->second)) {
        if (std::find(persons_->begin(), persons_->end(), person) != persons_->end()) return {};
      }
    }
    return "they take no part in " + state.id;
  }

  Failure granting(const Rule& rule, const Habilitation& habilitation, const RecordState& state,
                   Side side) {
    auto profile = profile_from(shown_text(state, "profile"));
    if (!profile ||
        std::find(rule.grants.begin(), rule.grants.end(), *profile) == rule.grants.end()) {
      return std::string("they grant only ") + profile_list(rule.grants);
    }
    std::string target = shown_text(state, "perimeter");
    if (lying_under(target, states_, side).count(habilitation.perimeter) == 0) {
      return target + " does not lie within " + habilitation.perimeter;
    }
    std::string establishment = establishment_of(state);
    if (establishment != habilitation.establishment) {
      return state.id + " counts for establishment " + establishment + ", not " +
             habilitation.establishment;
    }
    return {};
  }

  Error refusal(Action action, const RecordState& record,
                const std::vector<std::string>& reasons) const {
    std::string held;
    for (const auto& habilitation : held_) held += (held.empty() ? "" : ", ") + habilitation.text();
    if (held.empty()) held = "no habilitation in effect for " + changeset_.establishment;
    std::string why;
    for (const auto& reason : reasons) why += (why.empty() ? "" : "; ") + reason;
    if (why.empty()) why = "a write needs a habilitation in effect on the changeset's day";
    return make_error(ErrorCode::refused, author_.principal + " (" + held + ") may not " +
                                              to_string(action) + " " + record.type + " " +
                                              record.id + ": " + why);
  }

  const Author& author_;
  const Changeset& changeset_;
  States states_;
  std::vector<Habilitation> held_;
  std::optional<std::vector<std::string>> persons_;
};

}  // namespace

const char* to_string(Profile profile) {
  for (const auto& text : profile_texts()) {
    if (text.profile == profile) return text.name;
  }
  return "unknown";
}

std::optional<Profile> profile_from(std::string_view name) {
  for (const auto& text : profile_texts()) {
    if (text.name == name) return text.profile;
  }
  return std::nullopt;
}

const std::vector<Profile>& all_profiles() {
  static const std::vector<Profile> profiles = [] {
    std::vector<Profile> all;
    for (const auto& text : profile_texts()) all.push_back(text.profile);
    return all;
  }();
  return profiles;
}

const char* to_string(Action action) {
  switch (action) {
    case create: return "create";
    case edit: return "edit";
    case erase: return "delete";
  }
  return "unknown";
}

std::string Habilitation::text() const {
  return std::string(to_string(profile)) + "@" + perimeter;
}

const std::vector<Rule>& rules() {
  static const std::vector<Rule> table = make_rules();
  return table;
}

const char* summary(Profile profile) {
  for (const auto& text : profile_texts()) {
    if (text.profile == profile) return text.summary;
  }
  return "an unknown profile writes nothing";
}

Habilitation steward_habilitation(const std::string& uai) {
  return Habilitation{establishment_admin, establishment_id(uai), uai, "", ""};
}

std::optional<Habilitation> habilitation_for(const RecordState& record,
                                             std::string_view principal) {
  if (record.type != "habilitation" || record.deleted()) return std::nullopt;
  if (shown_text(record, "principal") != principal) return std::nullopt;
  auto profile = profile_from(shown_text(record, "profile"));
  std::string where = shown_text(record, "perimeter");
  if (!profile || where.empty()) return std::nullopt;
  return Habilitation{*profile, where, establishment_of(record), shown_text(record, "start"),
                      shown_text(record, "end")};
}

Status authorise(const Author& author, const Changeset& changeset, const RecordLookup& lookup) {
  return Check(author, changeset, lookup).run();
}

bool within_establishment(const Changeset& changeset, const RecordLookup& lookup) {
  States states(changeset, lookup);
  auto scope = states.get(changeset.scope, Side::after);
  RecordState root = scope.value_or(RecordState{changeset.scope, "structure", changeset.scope, {}});
  return lying_under(root, states, Side::after).count(establishment_id(changeset.establishment)) >
         0;
}

}  // namespace tutelle::identity
