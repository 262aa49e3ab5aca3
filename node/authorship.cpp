// The node's side of habilitations. A batch begun with AuthorCheck::habilitations loads its
// author's habilitations once, then checks each edit against the rule table before staging it,
// with the same code the hub runs (identity/habilitations.hpp). An edit in a scope the node's
// establishment may not write is left to the hub: its scope check refuses it with its own
// reason, from the tutelles it knows, which may be newer than the node's.

#include "identity/replica_lookup.hpp"
#include "node/node.hpp"

namespace tutelle::node {

namespace {

constexpr const char* kStewardMeta = "steward";

std::string steward_or_default(const std::optional<std::string>& stored, const std::string& uai) {
  return stored && !stored->empty() ? *stored : "steward@" + uai;
}

identity::ReplicaLookup writer_lookup(store::Replica& replica, store::Writer& writer) {
  return identity::ReplicaLookup(
      [&writer](const std::string& id) { return writer.load(id); },
      [&replica, &writer](const std::string& type, const identity::ReplicaLookup::Visit& visit) {
        return replica.for_each_record(writer.txn(), type, visit);
      });
}

}  // namespace

Result<std::string> Node::steward() const {
  auto txn = replica_->begin_read();
  if (!txn) return txn.error();
  auto stored = replica_->meta(txn.value(), kStewardMeta);
  if (!stored) return stored.error();
  return steward_or_default(stored.value(), establishment_);
}

Status Node::set_steward(const std::string& eppn) {
  if (eppn.empty()) return make_error(ErrorCode::invalid_argument, "--steward: empty");
  auto writer = replica_->begin_write();
  if (!writer) return writer.error();
  Status set = writer->set_meta(kStewardMeta, eppn);
  if (!set) return set;
  return writer->commit();
}

Status LocalBatch::load_author() {
  auto stored = writer_.meta(kStewardMeta);
  if (!stored) return stored.error();
  std::vector<identity::Habilitation> implicit;
  if (author_ == steward_or_default(stored.value(), node_.establishment_)) {
    implicit.push_back(identity::steward_habilitation(node_.establishment_));
  }
  auto lookup = writer_lookup(node_.replica(), writer_);
  identity::Author author = lookup.author(author_, std::move(implicit));
  if (!lookup.status()) return lookup.status();
  checked_author_ = std::move(author);
  return {};
}

Status LocalBatch::check_author(const Changeset& changeset, std::size_t first) {
  if (!checked_author_) return {};
  Changeset edit = changeset;
  edit.operations.assign(changeset.operations.begin() + static_cast<std::ptrdiff_t>(first),
                         changeset.operations.end());
  auto lookup = writer_lookup(node_.replica(), writer_);
  if (!identity::within_establishment(edit, lookup)) return lookup.status();
  Status verdict = identity::authorise(*checked_author_, edit, lookup);
  if (!lookup.status()) return lookup.status();
  return verdict;
}

}  // namespace tutelle::node
