#include "conflict/merge.hpp"

#include <algorithm>
#include <tuple>

#include "protocol/catalogue.hpp"

namespace tutelle::conflict {

namespace {

// Erases the entry of `field` whose dot is `dot`, if any. Entries are sorted by dot.
bool erase_dot(FieldState& field, const Dot& dot) {
  auto at = std::lower_bound(field.entries.begin(), field.entries.end(), dot,
                             [](const Entry& e, const Dot& d) { return e.dot < d; });
  if (at == field.entries.end() || at->dot != dot) return false;
  field.entries.erase(at);
  return true;
}

FieldState* find_field(RecordState& record, const std::string& name) {
  auto at = std::lower_bound(record.fields.begin(), record.fields.end(), name,
                             [](const FieldState& f, const std::string& n) { return f.name < n; });
  return at != record.fields.end() && at->name == name ? &*at : nullptr;
}

// The operation in progress: its changeset and index.
struct Current {
  const Changeset& changeset;
  std::uint32_t index;

  // True when `dot` is of an operation already applied: of an applied changeset, or an earlier
  // operation of the changeset in progress.
  bool applied(const Dot& dot, DotOracle& oracle) const {
    if (dot.origin == changeset.origin && dot.seq == changeset.seq) return dot.index < index;
    return oracle.applied(dot.origin, dot.seq);
  }
};

// Removes the entries whose dots are in `dots` (in `only_field`, or anywhere in the record); a
// dot found nowhere is remembered as a tombstone unless its operation was applied here already
// (then it was superseded before, by another operation).
void supersede(RecordState& record, const std::vector<Dot>& dots, const std::string* only_field,
               const Current& current, DotOracle& oracle) {
  FieldState* field = only_field != nullptr ? find_field(record, *only_field) : nullptr;
  for (const Dot& dot : dots) {
    bool found = false;
    if (only_field != nullptr) {
      found = field != nullptr && erase_dot(*field, dot);
    } else {
      for (auto& each : record.fields) {
        if ((found = erase_dot(each, dot))) break;
      }
    }
    if (!found && !current.applied(dot, oracle)) {
      oracle.add_tombstone(dot, current.changeset.scope);
    }
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
  Current current{changeset, index};
  auto insert_unless_superseded = [&](const std::string& field) {
    if (oracle.take_tombstone(dot)) return;
    insert_entry(record, field, Entry{dot, changeset.hlc, changeset.establishment, op.value});
  };

  switch (op.kind) {
    case OpKind::set:
    case OpKind::resolve:
      supersede(record, op.dots, &op.field, current, oracle);
      insert_unless_superseded(op.field);
      break;
    case OpKind::add: insert_unless_superseded(op.field); break;
    case OpKind::remove: supersede(record, op.dots, &op.field, current, oracle); break;
    case OpKind::delete_record: supersede(record, op.dots, nullptr, current, oracle); break;
    case OpKind::merge:
      supersede(record, op.dots, nullptr, current, oracle);
      insert_unless_superseded(std::string(kMergedInto));
      break;
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

bool is_conflict(std::string_view type, const FieldState& field) {
  if (field.entries.size() < 2) return false;
  const TypeSpec* spec = find_type(type);
  const FieldSpec* field_spec = spec != nullptr ? spec->field(field.name) : nullptr;
  if (field_spec == nullptr || field_spec->is_set()) return false;
  auto differs = [&](const Entry& e) { return e.value != field.entries.front().value; };
  return std::any_of(field.entries.begin(), field.entries.end(), differs);
}

std::optional<std::string> merged_into(const RecordState& record) {
  const FieldState* field = record.field(std::string(kMergedInto));
  if (field == nullptr || field->entries.empty()) return std::nullopt;
  return value_text(shown(*field, "").value);
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
