// Hub::check_author: a pushed changeset's author against the rule table of habilitations
// (identity/habilitations.hpp), over the records the hub holds. The steward the origin was
// enrolled with holds establishment_admin on its establishment without a record.

#include "hub/hub.hpp"
#include "identity/replica_lookup.hpp"

namespace tutelle::hub {

Status Hub::check_author(const Changeset& changeset) {
  auto txn = replica_->begin_read();
  if (!txn) return txn.error();
  auto info = node_info(txn.value(), changeset.origin);
  if (!info) return info.error();

  std::vector<identity::Habilitation> implicit;
  if (info.value() && !info.value()->steward.empty() && info.value()->steward == changeset.author) {
    implicit.push_back(identity::steward_habilitation(info.value()->establishment));
  }
  const store::Txn& reading = txn.value();
  identity::ReplicaLookup lookup(
      [&](const std::string& id) { return replica_->get(reading, id); },
      [&](const std::string& type, const identity::ReplicaLookup::Visit& visit) {
        return replica_->for_each_record(reading, type, visit);
      });
  return lookup.check(changeset, std::move(implicit));
}

}  // namespace tutelle::hub
