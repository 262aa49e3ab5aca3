#include "conflict/merge.hpp"

#include <algorithm>
#include <tuple>

namespace tutelle::conflict {

namespace {

// Removes the entries whose dots are in `dots`; a dot found nowhere in the record is
// remembered as a tombstone unless its changeset was applied here already (then it was
// superseded before, by another operation).
void supersede(RecordState& record, const std::vector<Dot>& dots, const std::string* only_field,
               DotOracle& oracle) {
  for (const Dot& dot : dots) {
    bool found = false;
    for (auto& field : record.fields) {
      if (only_field != nullptr && field.name != *only_field) continue;
      auto it = std::find_if(field.entries.begin(), field.entries.end(),
                             [&](const Entry& e) { return e.dot == dot; });
      if (it != field.entries.end()) {
        field.entries.erase(it);
        found = true;
        break;
      }
    }
    if (!found && !oracle.applied(dot.origin, dot.seq)) oracle.add_tombstone(dot);
  }
}

void insert_entry(RecordState& record, const std::string& field_name, Entry entry) {
  FieldState& field = record.field_mut(field_name);
  auto at = std::lower_bound(field.entries.begin(), field.entries.end(), entry.dot,
                             [](const Entry& e, const Dot& d) { return e.dot < d; });
  field.entries.insert(at, std::move(entry));
}

void drop_empty_fields(RecordState& record) {
  record.fields.erase(std::remove_if(record.fields.begin(), record.fields.end(),
                                     [](const FieldState& f) { return f.entries.empty(); }),
                      record.fields.end());
}

}  // namespace

void apply_operation(RecordState& record, const Changeset& changeset, std::uint32_t index,
                     DotOracle& oracle) {
  const Operation& op = changeset.operations[index];
  Dot dot = changeset.dot(index);

  switch (op.kind) {
    case OpKind::set:
    case OpKind::resolve:
      supersede(record, op.dots, &op.field, oracle);
      if (!oracle.take_tombstone(dot)) {
        insert_entry(record, op.field,
                     Entry{dot, changeset.hlc, changeset.establishment, op.value});
      }
      break;
    case OpKind::add:
      if (!oracle.take_tombstone(dot)) {
        insert_entry(record, op.field,
                     Entry{dot, changeset.hlc, changeset.establishment, op.value});
      }
      break;
    case OpKind::remove: supersede(record, op.dots, &op.field, oracle); break;
    case OpKind::delete_record: supersede(record, op.dots, nullptr, oracle); break;
  }

  drop_empty_fields(record);
}

const Entry& shown(const FieldState& field, std::string_view lead_uai) {
  auto rank = [&](const Entry& e) {
    return std::make_tuple(!lead_uai.empty() && e.establishment == lead_uai, e.hlc, e.dot.origin,
                           e.dot.seq, e.dot.index);
  };
  return *std::max_element(field.entries.begin(), field.entries.end(),
                           [&](const Entry& a, const Entry& b) { return rank(a) < rank(b); });
}

std::vector<Value> set_values(const FieldState& field) {
  std::vector<Value> values;
  values.reserve(field.entries.size());
  for (const auto& entry : field.entries) values.push_back(entry.value);
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

std::vector<Dot> all_dots(const RecordState& record) {
  std::vector<Dot> dots;
  for (const auto& field : record.fields) {
    for (const auto& entry : field.entries) dots.push_back(entry.dot);
  }
  std::sort(dots.begin(), dots.end());
  return dots;
}

std::vector<Dot> field_dots(const FieldState* field) {
  std::vector<Dot> dots;
  if (field == nullptr) return dots;
  for (const auto& entry : field->entries) dots.push_back(entry.dot);
  return dots;
}

std::vector<Dot> element_dots(const FieldState* field, const Value& value) {
  std::vector<Dot> dots;
  if (field == nullptr) return dots;
  for (const auto& entry : field->entries) {
    if (entry.value == value) dots.push_back(entry.dot);
  }
  return dots;
}

}  // namespace tutelle::conflict
