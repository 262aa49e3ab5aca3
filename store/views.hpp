#pragma once
// What a replica shows: records as JSON with their shown values and conflicts, the export form
// that `import` reads back, and the digest of the whole state.

#include <nlohmann/json.hpp>

#include <functional>
#include <ostream>
#include <string>

#include "store/replica.hpp"

namespace tutelle::store {

// Shows records of one read transaction; caches the lead tutelle of each home it meets.
class View {
 public:
  View(const store::Replica& replica, const store::Txn& txn) : replica_(replica), txn_(txn) {}

  // {"id","type","home","fields":{…},"conflicts":{field:[{value, establishment, author,
  // hlc_ms, time, origin, seq, shown}]}} — conflicts only when a single-valued field holds
  // several values; "merged_into" when the record is a merged duplicate. A reference to a
  // merged duplicate shows the record it was merged into.
  nlohmann::json record_json(const RecordState& record);
  // The values of one conflicting field, as record_json lists them.
  nlohmann::json conflict_json(const RecordState& record, const FieldState& field);
  // The export line: {"type","id","home", field: shown value or sorted array…}.
  nlohmann::json export_json(const RecordState& record);
  // Every field value with the establishment, author and time of the operation that wrote it.
  Result<nlohmann::json> provenance_json(const RecordState& record);

  // The UAI of the lead tutelle of `home`, or "" when unknown.
  const std::string& lead_uai(const std::string& home);
  // The record a reference to `id` leads to: `id` itself, or, when it is a merged duplicate,
  // the end of its chain of merges (in a cycle of concurrent merges, the least id of it).
  const std::string& survivor(const std::string& id);

 private:
  nlohmann::json value_json(const FieldSpec* spec, const Value& value) const;
  nlohmann::json shown_json(const TypeSpec* type, const FieldState& field, const std::string& home);
  // Replaces each record id of a shown reference value (an id or an array) by its survivor.
  void redirect_references(nlohmann::json& shown);
  Result<std::string> changeset_author(const Dot& dot);

  const store::Replica& replica_;
  const store::Txn& txn_;
  std::map<std::string, std::string> leads_;
  std::map<std::string, std::string> survivors_;
  std::map<std::pair<KeyBytes, std::uint64_t>, std::string> authors_;
};

// Calls `line` with each record's export line, in id order; only the records whose home is
// `scope` when it is not empty.
Status export_records(const store::Replica& replica, const store::Txn& txn,
                      const std::function<void(const std::string&)>& line,
                      const std::string& scope = "");

// Calls `line` with one JSON object for each conflicting field, in record id order, of the
// records whose home is `scope` (every record when empty): {"id","type","home","field",
// "shown", "values": [as View::conflict_json]}.
Status for_each_conflict(const store::Replica& replica, const store::Txn& txn,
                         const std::function<void(const nlohmann::json&)>& line,
                         const std::string& scope = "");

// Records that share an identifier under different ids: {"identifier": "orcid:…", "records":
// [{"id","type","home"}…]} for each identifier held by two records or more, merged duplicates
// left out; only the groups with a record in `scope` when it is not empty.
Result<std::vector<nlohmann::json>> duplicate_candidates(const store::Replica& replica,
                                                         const store::Txn& txn,
                                                         const std::string& scope = "");

// for_each_conflict() and duplicate_candidates() as the conflicts and duplicates commands
// print them: one JSON object a line on `out`, read in a transaction of their own.
Status write_conflicts(const store::Replica& replica, std::ostream& out, const std::string& scope);
Status write_duplicates(const store::Replica& replica, std::ostream& out, const std::string& scope);

// BLAKE2b-256, as hex, of the export lines joined by newlines: equal for equal states.
Result<std::string> state_digest(const store::Replica& replica, const store::Txn& txn,
                                 const std::string& scope = "");

}  // namespace tutelle::store
