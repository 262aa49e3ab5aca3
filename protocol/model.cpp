#include "protocol/model.hpp"

#include <algorithm>

namespace tutelle {

const FieldState* RecordState::field(const std::string& name) const {
  auto found =
      std::lower_bound(fields.begin(), fields.end(), name,
                       [](const FieldState& f, const std::string& n) { return f.name < n; });
  if (found == fields.end() || found->name != name) return nullptr;
  return &*found;
}

FieldState& RecordState::field_mut(const std::string& name) {
  auto found =
      std::lower_bound(fields.begin(), fields.end(), name,
                       [](const FieldState& f, const std::string& n) { return f.name < n; });
  if (found == fields.end() || found->name != name) {
    found = fields.insert(found, FieldState{name, {}});
  }
  return *found;
}

}  // namespace tutelle
