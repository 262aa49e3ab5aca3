#pragma once
// bench_replication's federation: a tutelle-hub and two tutelle-node stores (A and B), run as
// the real binaries in a scratch directory, and the timed steps that move changesets through
// it: A's push to the hub, B's pull from it. Not thread-safe: one benchmark drives one
// federation from one thread.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench/background_child.hpp"
#include "bench/harness.hpp"
#include "bench/tcp_traffic.hpp"
#include "protocol/result.hpp"

namespace tutelle::bench {

inline constexpr const char* kUaiA = "0339901H";
inline constexpr const char* kUaiB = "0759901E";
inline constexpr const char* kUnit = "rnsr:202199101G";
inline constexpr const char* kAuthor = "steward@0339901H";  // the enrolment's default steward
inline constexpr std::size_t kMaxChangesets = 1'000'000;    // beyond, a run would take hours

// Room for a node's store: a map is only reserved address space. A changeset of this benchmark
// takes about 2 KB of data.mdb on a node (its record, the changeset, the indexes, page slack).
std::size_t map_size_for(std::size_t changesets);

// Writes every dirty page back before a timed step, so that it does not pay for the last one's.
void settle_disk();

// The first line of a tool's output as JSON; discarded (is_discarded()) when it is not JSON.
nlohmann::json first_line_json(const std::string& out);

struct Federation {
  std::filesystem::path dir;  // the scratch directory: the stores, and every tool's output
  std::filesystem::path hub_dir, a_dir, b_dir;
  std::string fingerprint;
  std::string address;  // HOST:PORT the hub listens on
  std::uint16_t port = 0;
  std::optional<BackgroundChild> hub;  // `tutelle-hub serve`, running until stopped
};

// Runs `tutelle-node WORDS…` or `tutelle-hub WORDS…` to its end, its output under f.dir, and
// returns the first line it printed, as JSON. Error internal when it fails or prints no JSON.
Result<nlohmann::json> node_tool(const Federation& f, const std::vector<std::string>& words);
Result<nlohmann::json> hub_tool(const Federation& f, const std::vector<std::string>& words);

// Waits until `file` holds `text`. Error internal when `child` exits first or 30 s pass.
Status wait_for_text(const std::filesystem::path& file, const std::string& text,
                     BackgroundChild& child);

// In `dir`: a hub serving on a free port of the loopback, two enrolled and joined nodes, and the
// unit both co-supervise, created by A and synced to both.
Result<Federation> set_up_federation(const std::filesystem::path& dir);

// What A's store holds to push.
struct Filled {
  std::uint64_t last_seq = 0;  // A's last own seq: the push is done when the hub acked it
  double seconds = 0;
};

struct PushFigures {
  std::size_t changesets = 0;
  double window_seconds = 0;  // spawn of A's sync until A had the hub's ack of its last seq
  ProcessCounters hub_before, hub_pushed, hub_after;
  TcpBytes wire;  // the hub's end of A's connection when the last ack was in
  ChildRun sync;  // all of A's sync --once: the push, then the pull of its own changesets back
  nlohmann::json summary;
};

// Runs A's sync --once, watching A's `pushed` mark to learn when the hub acked
// filled.last_seq. Error internal unless the hub accepted exactly `count` changesets.
Result<PushFigures> push(const Federation& f, const Filled& filled, std::size_t count);

struct PullFigures {
  ChildRun sync;
  ProcessCounters hub_before, hub_after;
  TcpBytes wire;  // the hub's end of B's connection, at its last sample
  nlohmann::json summary;
};

// Runs B's sync --once, sampling its connection's byte counters every millisecond. Error
// internal unless B applied exactly `count` changesets.
Result<PullFigures> pull(const Federation& f, std::size_t count);

// Whether both nodes' digests are equal, as they must be after a pull.
Result<bool> same_digests(const Federation& f);

}  // namespace tutelle::bench
