#pragma once
// The node's side of replication (protocol/wire.capnp, "Sync"): push the outbox in seq order,
// pull every changeset after the node's cursors, then, when serving, stay live.
//
// Meta entries it keeps: hub (HOST:PORT), fingerprint (pinned), hub_key (hex, learnt at the
// first handshake and checked after), pushed (last seq the hub acknowledged), cursor:<scope>
// (last hub seq applied in that scope), refused:<seq> (the hub's reason), last_error.

#include <cstdint>
#include <string>

#include "node/node.hpp"

namespace tutelle::node {

struct SyncSummary {
  std::uint64_t pushed = 0;  // changesets sent
  std::uint64_t accepted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t refused = 0;
  std::uint64_t received = 0;            // changesets delivered
  std::uint64_t applied = 0;             // of which new here
  std::uint64_t tombstones_dropped = 0;  // by compaction once caught up
};

Status join(Node& node, const std::string& hub, const std::string& fingerprint);

// One session: push, pull, exit once caught up.
Result<SyncSummary> sync_once(Node& node);

// Stays connected and live; reconnects with exponential backoff and jitter after any failure.
// Returns only on SIGTERM or SIGINT.
int serve(Node& node);

}  // namespace tutelle::node
