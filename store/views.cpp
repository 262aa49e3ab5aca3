#include "store/views.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <ostream>
#include <set>

#include "conflict/hlc.hpp"
#include "conflict/merge.hpp"

namespace tutelle::store {

namespace {

using nlohmann::json;

// "2024-06-01T12:34:56.789Z" for milliseconds since the epoch.
std::string utc_time(std::uint64_t millis) {
  std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &parts);
  char out[40];
  std::snprintf(out, sizeof(out), "%s.%03uZ", text, static_cast<unsigned>(millis % 1000));
  return out;
}

std::string shown_text(const FieldState* field, std::string_view lead) {
  if (field == nullptr || field->entries.empty()) return "";
  return value_text(conflict::shown(*field, lead).value);
}

}  // namespace

const std::string& View::lead_uai(const std::string& home) {
  auto cached = leads_.find(home);
  if (cached != leads_.end()) return cached->second;
  std::string uai;
  auto home_record = replica_.get(txn_, home);
  if (home_record && home_record.value()) {
    std::string lead = shown_text(home_record.value()->field("lead_tutelle"), "");
    auto lead_record =
        lead.empty() ? Result<std::optional<RecordState>>(std::nullopt) : replica_.get(txn_, lead);
    if (lead_record && lead_record.value()) {
      uai = shown_text(lead_record.value()->field("uai"), "");
    }
  }
  return leads_.emplace(home, uai).first->second;
}

json View::value_json(const FieldSpec* spec, const Value& value) const {
  if (auto* integer = std::get_if<std::int64_t>(&value.data)) return *integer;
  if (auto* boolean = std::get_if<bool>(&value.data)) return *boolean;
  (void)spec;
  return value_text(value);
}

json View::shown_json(const TypeSpec* type, const FieldState& field, const std::string& home) {
  const FieldSpec* spec = type ? type->field(field.name) : nullptr;
  if (spec != nullptr && spec->is_set()) {
    json values = json::array();
    for (const auto& value : conflict::set_values(field)) values.push_back(value_json(spec, value));
    return values;
  }
  return value_json(spec, conflict::shown(field, lead_uai(home)).value);
}

const std::string& View::survivor(const std::string& id) {
  auto cached = survivors_.find(id);
  if (cached != survivors_.end()) return cached->second;
  std::vector<std::string> chain{id};
  for (;;) {
    auto record = replica_.get(txn_, chain.back());
    auto next = record && record.value() ? conflict::merged_into(*record.value()) : std::nullopt;
    if (!next) break;
    if (std::find(chain.begin(), chain.end(), *next) != chain.end()) {
      auto cycle = std::find(chain.begin(), chain.end(), *next);
      chain.push_back(*std::min_element(cycle, chain.end()));
      break;
    }
    chain.push_back(*next);
  }
  return survivors_.emplace(id, chain.back()).first->second;
}

json View::conflict_json(const RecordState& record, const FieldState& field) {
  const TypeSpec* type = find_type(record.type);
  const FieldSpec* spec = type ? type->field(field.name) : nullptr;
  const Entry& chosen = conflict::shown(field, lead_uai(record.home));
  json values = json::array();
  for (const auto& entry : field.entries) {
    auto author = changeset_author(entry.dot);
    values.push_back({{"value", value_json(spec, entry.value)},
                      {"establishment", entry.establishment},
                      {"author", author ? author.value() : ""},
                      {"hlc_ms", conflict::HybridClock::millis_of(entry.hlc)},
                      {"time", utc_time(conflict::HybridClock::millis_of(entry.hlc))},
                      {"origin", hex(entry.dot.origin)},
                      {"seq", entry.dot.seq},
                      {"shown", entry.dot == chosen.dot}});
  }
  return values;
}

json View::record_json(const RecordState& record) {
  const TypeSpec* type = find_type(record.type);
  json out = {{"id", record.id}, {"type", record.type}, {"home", record.home}};
  json fields = json::object();
  json conflicts = json::object();
  for (const auto& field : record.fields) {
    if (field.name == conflict::kMergedInto) continue;
    const FieldSpec* spec = type ? type->field(field.name) : nullptr;
    fields[field.name] = shown_json(type, field, record.home);
    if (spec != nullptr && spec->is_reference()) redirect_references(fields[field.name]);
    if (conflict::is_conflict(record.type, field)) {
      conflicts[field.name] = conflict_json(record, field);
    }
  }
  out["fields"] = fields;
  if (!conflicts.empty()) out["conflicts"] = conflicts;
  if (auto merged = conflict::merged_into(record)) out["merged_into"] = survivor(*merged);
  return out;
}

void View::redirect_references(json& shown) {
  if (shown.is_string()) {
    shown = survivor(shown.get<std::string>());
    return;
  }
  if (!shown.is_array()) return;
  std::set<std::string> targets;
  for (const auto& value : shown) {
    if (value.is_string()) targets.insert(survivor(value.get<std::string>()));
  }
  shown = json::array();
  for (const auto& target : targets) shown.push_back(target);
}

json View::export_json(const RecordState& record) {
  const TypeSpec* type = find_type(record.type);
  json out = {{"type", record.type}, {"id", record.id}, {"home", record.home}};
  for (const auto& field : record.fields) out[field.name] = shown_json(type, field, record.home);
  return out;
}

Result<json> View::provenance_json(const RecordState& record) {
  json out = {{"id", record.id}, {"type", record.type}, {"home", record.home}};
  json fields = json::object();
  for (const auto& field : record.fields) {
    json entries = json::array();
    for (const auto& entry : field.entries) {
      json item = {{"value", value_json(nullptr, entry.value)},
                   {"establishment", entry.establishment},
                   {"hlc_ms", conflict::HybridClock::millis_of(entry.hlc)},
                   {"origin", hex(entry.dot.origin)},
                   {"seq", entry.dot.seq}};
      auto author = changeset_author(entry.dot);
      if (!author) return author.error();
      item["author"] = author.value();
      entries.push_back(item);
    }
    fields[field.name] = entries;
  }
  out["fields"] = fields;
  return out;
}

Result<std::string> View::changeset_author(const Dot& dot) {
  auto key = std::make_pair(dot.origin, dot.seq);
  auto cached = authors_.find(key);
  if (cached != authors_.end()) return cached->second;
  auto own = replica_.meta(txn_, "origin");
  if (!own) return own.error();
  bool is_own =
      own.value() && own.value()->size() == 32 &&
      std::equal(own.value()->begin(), own.value()->end(), dot.origin.begin(),
                 [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; });
  auto bytes = replica_.signed_changeset(txn_, dot.origin, dot.seq, is_own);
  if (!bytes) return bytes.error();
  std::string author;
  if (bytes.value()) {
    auto envelope = decode_signed(*bytes.value());
    if (!envelope) return envelope.error();
    auto body = decode_changeset_body(envelope->body);
    if (!body) return body.error();
    author = body->author;
  }
  return authors_.emplace(key, author).first->second;
}

Status export_records(const store::Replica& replica, const store::Txn& txn,
                      const std::function<void(const std::string&)>& line,
                      const std::string& scope) {
  View view(replica, txn);
  return replica.for_each_record(txn, "", [&](const RecordState& record) {
    if (!scope.empty() && record.home != scope) return true;
    line(view.export_json(record).dump());
    return true;
  });
}

Status for_each_conflict(const store::Replica& replica, const store::Txn& txn,
                         const std::function<void(const json&)>& line, const std::string& scope) {
  View view(replica, txn);
  return replica.for_each_record(txn, "", [&](const RecordState& record) {
    if (!scope.empty() && record.home != scope) return true;
    for (const auto& field : record.fields) {
      if (!conflict::is_conflict(record.type, field)) continue;
      json shown = view.record_json(record)["fields"][field.name];
      line({{"id", record.id},
            {"type", record.type},
            {"home", record.home},
            {"field", field.name},
            {"shown", shown},
            {"values", view.conflict_json(record, field)}});
    }
    return true;
  });
}

namespace {

// The identifiers of the by_ident index that name at least one record: "kind:value".
Result<std::vector<std::string>> indexed_identifiers(const store::Replica& replica,
                                                     const store::Txn& txn) {
  std::vector<std::string> keys;
  Status scanned =
      txn.scan(replica.table("by_ident"), "", [&](std::string_view key, std::string_view) {
        std::string identifier(key.substr(0, key.find('\0')));
        if (keys.empty() || keys.back() != identifier) keys.push_back(std::move(identifier));
        return true;
      });
  if (!scanned) return scanned.error();
  return keys;
}

}  // namespace

Result<std::vector<json>> duplicate_candidates(const store::Replica& replica, const store::Txn& txn,
                                               const std::string& scope) {
  auto identifiers = indexed_identifiers(replica, txn);
  if (!identifiers) return identifiers.error();
  std::vector<json> groups;
  for (const auto& identifier : identifiers.value()) {
    auto colon = identifier.find(':');
    auto kind = identifier_kind_from(identifier.substr(0, colon));
    if (!kind || colon == std::string::npos) continue;
    auto ids = replica.ids_by_identifier(txn, *kind, identifier.substr(colon + 1));
    if (!ids) return ids.error();
    json records = json::array();
    bool in_scope = scope.empty();
    for (const auto& id : ids.value()) {
      auto record = replica.get(txn, id);
      if (!record) return record.error();
      if (!record.value() || conflict::merged_into(*record.value())) continue;
      in_scope = in_scope || record.value()->home == scope;
      records.push_back(
          {{"id", id}, {"type", record.value()->type}, {"home", record.value()->home}});
    }
    if (records.size() < 2 || !in_scope) continue;
    groups.push_back({{"identifier", identifier}, {"records", records}});
  }
  return groups;
}

Status write_conflicts(const store::Replica& replica, std::ostream& out, const std::string& scope) {
  auto txn = replica.begin_read();
  if (!txn) return txn.error();
  return for_each_conflict(
      replica, txn.value(), [&](const nlohmann::json& line) { out << line.dump() << "\n"; }, scope);
}

Status write_duplicates(const store::Replica& replica, std::ostream& out,
                        const std::string& scope) {
  auto txn = replica.begin_read();
  if (!txn) return txn.error();
  auto groups = duplicate_candidates(replica, txn.value(), scope);
  if (!groups) return groups.error();
  for (const auto& group : groups.value()) out << group.dump() << "\n";
  return {};
}

Result<std::string> state_digest(const store::Replica& replica, const store::Txn& txn,
                                 const std::string& scope) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, 32);
  Status exported = export_records(
      replica, txn,
      [&](const std::string& line) {
        crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(line.data()),
                                  line.size());
        crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>("\n"), 1);
      },
      scope);
  if (!exported) return exported.error();
  HashBytes digest{};
  crypto_generichash_final(&state, digest.data(), digest.size());
  return hex(digest);
}

}  // namespace tutelle::store
