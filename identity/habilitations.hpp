#pragma once
// Habilitations (DESIGN.md, "Scopes and access"): a profile a person holds on a perimeter, a
// structure and what lies under it, and the rule table that says which profile may create, edit
// or delete which record types there. identity/HABILITATIONS.md states the table in prose.
//
// A habilitation is a record of type `habilitation` (protocol/catalogue.cpp) that replicates like
// any other and lives in the scope of its perimeter. It counts only in the changesets of its
// establishment's node (its `establishment` field, else the establishment that wrote its
// principal), so a node cannot borrow the habilitations another establishment gave. The steward
// a hub enrols with each node holds establishment_admin on that establishment without a record:
// that is how a new federation starts.
//
// What lies under a structure S: S, every structure whose parents or tutelles lead to S, and
// every record whose home or whose anchoring references (TypeSpec::home_from) lead to one of
// them. So an establishment's perimeter is every unit of which it is a tutelle and all below.
//
// authorise() is pure: it reads records through RecordLookup only, so the hub (over its replica)
// and a node (over its write transaction) run the same code, and tests run it over a map.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/model.hpp"
#include "protocol/result.hpp"

namespace tutelle::identity {

// The profiles of DESIGN.md; their names are the choices of habilitation.profile.
enum class Profile {
  researcher,
  team_leader,
  unit_director,  // the unit director or a delegate
  unit_manager,
  establishment_admin,
  central_services,
  call_manager,
  partner_reader,
  hub_admin,
};

const char* to_string(Profile profile);
std::optional<Profile> profile_from(std::string_view name);
const std::vector<Profile>& all_profiles();

enum class Action { create, edit, erase };
const char* to_string(Action action);  // "create", "edit", "delete"

struct Habilitation {
  Profile profile = Profile::researcher;
  std::string perimeter;      // a structure id, e.g. rnsr:202199101G or uai:0339901H
  std::string establishment;  // UAI: it counts in this establishment's changesets only
  std::string start;          // YYYY-MM-DD, the first day it holds; empty: always held before
  std::string end;            // YYYY-MM-DD, the last day it holds; empty: no end

  // "profile@perimeter", the spelling of session tokens (identity/token.hpp).
  std::string text() const;
};

// Who wrote a changeset, with every habilitation they hold (in effect or not).
struct Author {
  std::string principal;  // eduPersonPrincipalName
  std::vector<Habilitation> habilitations;
};

// What a check reads of the replica it runs on.
class RecordLookup {
 public:
  virtual ~RecordLookup() = default;
  // The merged record, or nullopt when it is unknown or deleted.
  virtual std::optional<RecordState> record(const std::string& id) const = 0;
  // The ids of the person records whose eppn is `principal`.
  virtual std::vector<std::string> persons_of(const std::string& principal) const = 0;
};

// What must hold of a record, as it stands and as the changeset leaves it, for a rule to allow.
enum class Condition {
  perimeter,            // it lies under the habilitation's perimeter
  below_perimeter,      // it lies under the perimeter and is not the perimeter itself
  own_person,           // a person record whose eppn is the author's principal
  takes_part,           // a project, product or application naming the author's person record
  establishment_scope,  // it lives in the scope of the habilitation's establishment
  grants,               // a habilitation of one of `grants`, on a perimeter under the author's,
                        // of the author's establishment
};

struct Rule {
  Profile profile = Profile::researcher;
  std::string type;
  std::vector<Action> actions;
  Condition condition = Condition::perimeter;
  std::vector<Profile> grants;  // Condition::grants: the profiles it may give
};

// The rule table: a profile may do an action on a type when one of its rules says so.
const std::vector<Rule>& rules();
// What a profile may write, in one sentence: the reason a refusal gives.
const char* summary(Profile profile);

// The establishment admin habilitation a node's steward holds on its establishment `uai`.
Habilitation steward_habilitation(const std::string& uai);
// The habilitation a `habilitation` record gives, if it is one held by `principal`.
std::optional<Habilitation> habilitation_for(const RecordState& record, std::string_view principal);

// Checks each record `changeset` touches against the rule table: the author must hold, on the
// changeset's day (its hybrid clock) and for its establishment, a habilitation with a rule for
// the record's type and action whose condition holds of the record as `lookup` holds it and as
// the changeset leaves it. REQUIRES: check_changeset(changeset) passed.
// A refusal is ErrorCode::refused and names the author, the habilitations in effect, the action,
// the record and the rule, e.g. "alice@univ.fr (researcher@rnsr:202199101G) may not edit
// structure rnsr:202199101G: a researcher edits only …".
Status authorise(const Author& author, const Changeset& changeset, const RecordLookup& lookup);

// True when the changeset's scope, as the changeset leaves it, lies under the establishment of
// the changeset's origin (uai:<establishment>): a scope that establishment may write in.
bool within_establishment(const Changeset& changeset, const RecordLookup& lookup);

}  // namespace tutelle::identity
