#pragma once
// The merge of operations into record state (DESIGN.md, "Merge and conflicts").
//
// A field's state is the set of entries whose dots no applied operation has superseded. A set
// operation supersedes the dots its author saw; an add is tagged by its own dot and a remove
// names the dots it saw, so a concurrent add survives a remove (observed-remove set); a delete
// supersedes every dot its author saw in the record, so a concurrent edit survives it too. A
// resolve is a set that saw every value of a conflict. A merge is a delete of a duplicate that
// leaves behind one entry, in the field kMergedInto, naming the record that survives it.
//
// A superseded dot whose own changeset has not arrived yet is remembered as a tombstone; when
// that changeset arrives its operation finds the tombstone, consumes it and is not applied. A
// tombstone is needed only until then: once the changeset (origin, seq) is applied here, a
// second copy is refused as a duplicate before it reaches the merge. So the memory of
// superseded dots holds exactly the dots superseded ahead of their arrival, and the state is a
// function of the set of changesets applied, whatever their order. A tombstone whose
// changeset will never arrive (the hub refused it) is dropped by compaction
// (conflict/compaction.hpp).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/model.hpp"

namespace tutelle::conflict {

// The field of a merged duplicate that names its survivor. No catalogue field has this name.
inline constexpr std::string_view kMergedInto = "@merged_into";

// What the merge needs to know about dots outside the record being merged.
class DotOracle {
 public:
  virtual ~DotOracle() = default;
  // True when changeset (origin, seq) has been applied here (not counting the one in progress).
  virtual bool applied(const KeyBytes& origin, std::uint64_t seq) = 0;
  // If `dot` is remembered as superseded, forgets it and returns true.
  virtual bool take_tombstone(const Dot& dot) = 0;
  // Remembers `dot` as superseded by an operation of scope `scope`.
  virtual void add_tombstone(const Dot& dot, const std::string& scope) = 0;
};

// Applies the index-th operation of `changeset` to `record`.
// REQUIRES: record.id == the operation's record; the changeset's dots were never applied here.
void apply_operation(RecordState& record, const Changeset& changeset, std::uint32_t index,
                     DotOracle& oracle);

// The entry shown for a single-valued field: the lead tutelle's first (an entry whose
// establishment is `lead_uai`), then the later clock, then the greater origin key.
// REQUIRES: the field has at least one entry.
const Entry& shown(const FieldState& field, std::string_view lead_uai);

// The distinct values of a set field, sorted.
std::vector<Value> set_values(const FieldState& field);

// True when `field` of a record of type `type` is a conflict: a single-valued field (of the
// catalogue) holding more than one value. Two entries of one value (two tutelles that said the
// same) are no conflict; both stay, for provenance.
bool is_conflict(std::string_view type, const FieldState& field);

// The record a merged duplicate leads to (the shown entry of kMergedInto), if it is one.
std::optional<std::string> merged_into(const RecordState& record);

// Every dot present in the record (what an author who deletes it has seen).
std::vector<Dot> all_dots(const RecordState& record);
// The dots of a field's entries, or of the entries of a set field holding `value`.
std::vector<Dot> field_dots(const FieldState* field);
std::vector<Dot> element_dots(const FieldState* field, const Value& value);

}  // namespace tutelle::conflict
