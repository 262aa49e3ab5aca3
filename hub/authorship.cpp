// Hub::check_author: a pushed changeset's author against the rule table of habilitations
// (identity/habilitations.hpp), over the records the hub holds. The steward the origin was
// enrolled with holds establishment_admin on its establishment without a record.

#include "hub/hub.hpp"
#include "identity/replica_lookup.hpp"

namespace tutelle::hub {

Status Hub::check_author(const store::Txn& txn, RecordCache& records, const Changeset& changeset,
                         const std::optional<NodeInfo>& info) {
  std::vector<identity::Habilitation> implicit;
  if (info && !info->steward.empty() && info->steward == changeset.author) {
    implicit.push_back(identity::steward_habilitation(info->establishment));
  }
  auto read = [&](const std::string& id) -> Result<std::optional<RecordState>> {
    if (auto known = records.find(id); known != records.end()) return known->second;
    auto record = replica_->get(txn, id);
    if (record) records.emplace(id, record.value());
    return record;
  };
  identity::ReplicaLookup lookup(
      read, [&](const std::string& type, const identity::ReplicaLookup::Visit& visit) {
        return replica_->for_each_record(txn, type, visit);
      });
  return lookup.check(changeset, std::move(implicit));
}

}  // namespace tutelle::hub
