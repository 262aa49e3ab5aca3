#pragma once
// What a replica shows: records as JSON with their shown values and conflicts, the export form
// that `import` reads back, and the digest of the whole state.

#include <nlohmann/json.hpp>

#include <functional>
#include <string>

#include "store/replica.hpp"

namespace tutelle::store {

// Shows records of one read transaction; caches the lead tutelle of each home it meets.
class View {
 public:
  View(const store::Replica& replica, const store::Txn& txn) : replica_(replica), txn_(txn) {}

  // {"id","type","home","fields":{…},"conflicts":{field:[{value, establishment, hlc, origin,
  // seq}]}} — conflicts only when a single-valued field holds several values.
  nlohmann::json record_json(const RecordState& record);
  // The export line: {"type","id","home", field: shown value or sorted array…}.
  nlohmann::json export_json(const RecordState& record);
  // Every field value with the establishment, author and time of the operation that wrote it.
  Result<nlohmann::json> provenance_json(const RecordState& record);

  // The UAI of the lead tutelle of `home`, or "" when unknown.
  const std::string& lead_uai(const std::string& home);

 private:
  nlohmann::json value_json(const FieldSpec* spec, const Value& value) const;
  nlohmann::json shown_json(const TypeSpec* type, const FieldState& field, const std::string& home);
  Result<std::string> changeset_author(const Dot& dot);

  const store::Replica& replica_;
  const store::Txn& txn_;
  std::map<std::string, std::string> leads_;
  std::map<std::pair<KeyBytes, std::uint64_t>, std::string> authors_;
};

// Calls `line` with each record's export line, in id order; only the records whose home is
// `scope` when it is not empty.
Status export_records(const store::Replica& replica, const store::Txn& txn,
                      const std::function<void(const std::string&)>& line,
                      const std::string& scope = "");

// BLAKE2b-256, as hex, of the export lines joined by newlines: equal for equal states.
Result<std::string> state_digest(const store::Replica& replica, const store::Txn& txn,
                                 const std::string& scope = "");

}  // namespace tutelle::store
