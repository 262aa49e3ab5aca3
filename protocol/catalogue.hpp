#pragma once
// The entity catalogue: every record type, its fields, their kinds, which are required, which
// gives a natural key, and how a new record finds its home (its scope).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/identifiers.hpp"
#include "protocol/model.hpp"
#include "protocol/result.hpp"

namespace tutelle {

enum class FieldKind {
  text,
  integer,
  decimal,        // "-12.50": digits, optional sign and fraction, no exponent
  date,           // "YYYY-MM-DD", a real calendar day
  boolean,        // true or false
  choice,         // text among FieldSpec::choices
  reference,      // the id of a record of type FieldSpec::target
  reference_set,  // a set of such ids
  text_set,       // a set of texts
  identifier,     // an identifier of FieldSpec::identifier, stored normalised
};

const char* to_string(FieldKind kind);

struct FieldSpec {
  std::string name;
  FieldKind kind = FieldKind::text;
  bool required = false;
  IdentifierKind identifier = IdentifierKind::doi;  // for FieldKind::identifier
  std::string target;                               // for references: a type, or "" for any
  std::vector<std::string> choices;                 // for FieldKind::choice

  bool is_set() const { return kind == FieldKind::reference_set || kind == FieldKind::text_set; }
  bool is_reference() const {
    return kind == FieldKind::reference || kind == FieldKind::reference_set;
  }
};

struct TypeSpec {
  std::string name;
  std::string summary;
  std::vector<FieldSpec> fields;
  // Identifier fields whose value, in this order, gives the record a natural id
  // "<identifier kind>:<normalised value>" (e.g. rnsr:195817959H).
  std::vector<std::string> natural_keys;
  // Reference fields whose target's home becomes the home of a new record, tried in order;
  // when none is set the record lives in its origin's establishment.
  std::vector<std::string> home_from;

  const FieldSpec* field(std::string_view name) const;
};

// The catalogue of DESIGN.md. Types are listed in a fixed order.
const std::vector<TypeSpec>& catalogue();
const TypeSpec* find_type(std::string_view name);
// The type, or an Error listing the known types.
Result<const TypeSpec*> require_type(std::string_view name);

// Parses the text form of one value of `field` (for a set field: one element), validating it.
// Errors name the type, the field, the value and the rule.
Result<Value> parse_value(const TypeSpec& type, const FieldSpec& field, std::string_view text);
// The text form of a value, as parse_value reads it back.
std::string value_text(const Value& value);

// The natural id of a record whose identifier fields hold `identifiers` (name → normalised
// value), if its type has one and one is given.
std::optional<std::string> natural_id(
    const TypeSpec& type, const std::vector<std::pair<std::string, std::string>>& identifiers);
// A fresh random id for a record of `type`: "<type>:<24 hex digits>", time-ordered.
std::string random_id(const TypeSpec& type, std::uint64_t millis);
// Checks the syntax of a record id: "<prefix>:<rest>", printable, at most 256 bytes.
Status check_record_id(std::string_view id);

// The id of an establishment's record in the federation: "uai:<UAI>".
std::string establishment_id(std::string_view uai);

}  // namespace tutelle

namespace tutelle {

// True when a record is the root of its own scope: an establishment or a unit, or any
// structure that has tutelles of its own. `kind` and `has_tutelles` describe the record.
bool is_scope_root(std::string_view type, std::string_view kind, bool has_tutelles);

}  // namespace tutelle

namespace tutelle {

// Checks a received changeset against the catalogue: version, scope, author, and for each
// operation its record id, type, field, and that the operation and its value fit the field's
// kind. The error names the operation's index and what is wrong.
Status check_changeset(const Changeset& changeset);

}  // namespace tutelle
