#include "identity/replica_lookup.hpp"

#include "conflict/merge.hpp"
#include "protocol/catalogue.hpp"

namespace tutelle::identity {

void ReplicaLookup::keep(const Status& status) const {
  if (!status && status_) status_ = status;
}

std::optional<RecordState> ReplicaLookup::record(const std::string& id) const {
  auto found = read_(id);
  if (!found) {
    keep(found.error());
    return std::nullopt;
  }
  return std::move(found.value());
}

// TODO(perf): person and habilitation records are scanned in full for one principal; fine below
// ~100k of them, an index by eppn and by principal when it shows.
std::vector<std::string> ReplicaLookup::persons_of(const std::string& principal) const {
  std::vector<std::string> ids;
  keep(scan_("person", [&](const RecordState& record) {
    const FieldState* eppn = record.field("eppn");
    if (eppn != nullptr && !eppn->entries.empty() &&
        value_text(conflict::shown(*eppn, "").value) == principal) {
      ids.push_back(record.id);
    }
    return true;
  }));
  return ids;
}

Author ReplicaLookup::author(const std::string& principal,
                             std::vector<Habilitation> implicit) const {
  Author author{principal, std::move(implicit)};
  keep(scan_("habilitation", [&](const RecordState& record) {
    if (auto held = habilitation_for(record, principal)) author.habilitations.push_back(*held);
    return true;
  }));
  return author;
}

Status ReplicaLookup::check(const Changeset& changeset, std::vector<Habilitation> implicit) const {
  Status verdict = authorise(author(changeset.author, std::move(implicit)), changeset, *this);
  if (!status_) return status_.error().context("reading the records a habilitation check needs");
  return verdict;
}

}  // namespace tutelle::identity
