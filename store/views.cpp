#include "store/views.hpp"

#include <sodium.h>

#include "conflict/hlc.hpp"
#include "conflict/merge.hpp"

namespace tutelle::store {

namespace {

using nlohmann::json;

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

json View::record_json(const RecordState& record) {
  const TypeSpec* type = find_type(record.type);
  json out = {{"id", record.id}, {"type", record.type}, {"home", record.home}};
  json fields = json::object();
  json conflicts = json::object();
  for (const auto& field : record.fields) {
    fields[field.name] = shown_json(type, field, record.home);
    const FieldSpec* spec = type ? type->field(field.name) : nullptr;
    if ((spec != nullptr && spec->is_set()) || field.entries.size() < 2) continue;
    json values = json::array();
    for (const auto& entry : field.entries) {
      values.push_back({{"value", value_json(spec, entry.value)},
                        {"establishment", entry.establishment},
                        {"hlc_ms", conflict::HybridClock::millis_of(entry.hlc)},
                        {"origin", hex(entry.dot.origin)},
                        {"seq", entry.dot.seq}});
    }
    conflicts[field.name] = values;
  }
  out["fields"] = fields;
  if (!conflicts.empty()) out["conflicts"] = conflicts;
  return out;
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
