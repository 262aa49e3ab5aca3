#pragma once
// bench_replication's bulk run: records created many a changeset by A's `tutelle-node import`,
// then pushed by A and pulled by B through the hub, as the first run's one-record changesets.

#include <cstddef>

#include "bench/harness.hpp"
#include "bench/replication_federation.hpp"
#include "protocol/result.hpp"

namespace tutelle::bench {

struct BulkFigures {
  std::size_t records = 0;
  std::size_t changesets = 0;  // the import's: one per scope and type of each batch
  ChildRun import;             // not timed in the figure, as the first run's fill is not
  PushFigures push;
  PullFigures pull;
  bool converged = false;
};

// Imports `count` generated records in A (`tutelle-node import`, its default batch; the JSON
// Lines file under f.dir), then times A's push and B's pull of the changesets it wrote and
// compares the digests. REQUIRES: f's hub serving, A's earlier changesets all pushed. Error
// internal when the import does not write `count` records.
Result<BulkFigures> bulk(const Federation& f, std::size_t count);

}  // namespace tutelle::bench
