#pragma once
// A RecordLookup over the reads of a replica, given as two functions, so that identity/ needs no
// store/ and the hub (over a read transaction) and a node (over its write transaction) share one
// way of finding a changeset's author and their habilitations.
//
// The first read that fails is kept: a check that read through a failing store reports that
// error, not a verdict built on records it could not read.

#include <functional>

#include "identity/habilitations.hpp"

namespace tutelle::identity {

class ReplicaLookup : public RecordLookup {
 public:
  using Read = std::function<Result<std::optional<RecordState>>(const std::string& id)>;
  using Visit = std::function<bool(const RecordState&)>;
  using Scan = std::function<Status(const std::string& type, const Visit& visit)>;

  ReplicaLookup(Read read, Scan scan) : read_(std::move(read)), scan_(std::move(scan)) {}

  std::optional<RecordState> record(const std::string& id) const override;
  std::vector<std::string> persons_of(const std::string& principal) const override;

  // `principal` with every habilitation the replica's records give them, and `implicit` besides
  // (a steward's, for one).
  Author author(const std::string& principal, std::vector<Habilitation> implicit = {}) const;
  // authorise() for the changeset's author, or the first read error it met.
  Status check(const Changeset& changeset, std::vector<Habilitation> implicit = {}) const;

  const Status& status() const { return status_; }

 private:
  void keep(const Status& status) const;

  Read read_;
  Scan scan_;
  mutable Status status_;  // the first read error
};

}  // namespace tutelle::identity
