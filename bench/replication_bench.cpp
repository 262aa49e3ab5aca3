// bench_replication: replication through the hub with real processes over loopback TLS, next to
// the limits of the machine it runs on and to PouchDB, in one run.
//
//   push      node A's `tutelle-node sync --once` of N changesets (5 operations each, one record
//             each, in a unit both establishments co-supervise): changesets/s accepted by the hub
//   pull      node B's `tutelle-node sync --once` of the same N changesets: operations/s applied
//   wire      bytes the hub read (push) and wrote (pull) per operation
//   latency   with the hub and both nodes serving, an edit committed on A until B holds it
//   limits    Ed25519 verifications/s on one core; raw LMDB puts/s of records' sizes
//   bulk      A's `tutelle-node import` of M generated records (--bulk-records), which writes
//             changesets of many records each, then A's push and B's pull of them: records/s
//   PouchDB   PouchDB.replicate() of N documents between two LevelDB databases
//
// The changesets are made in process before anything is timed (node::Node, non-durable), the
// bulk ones by the import, not timed either; every timed step is the real tutelle-node or
// tutelle-hub binary, as a child process.
//
// The federation and its push and pull live in replication_federation, the bulk run in
// replication_bulk, the machine's limits and PouchDB in replication_limits; this file makes the
// changesets, measures the latency and prints the report.

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <thread>

#include "bench/background_child.hpp"
#include "bench/harness.hpp"
#include "bench/replication_bulk.hpp"
#include "bench/replication_federation.hpp"
#include "bench/replication_limits.hpp"
#include "conflict/merge.hpp"
#include "net/sync_messages.hpp"
#include "node/node.hpp"
#include "protocol/command_line.hpp"
#include "store/lmdb.hpp"

#if !defined(TUTELLE_NODE_BINARY) || !defined(TUTELLE_POUCHDB_DIR)
#error "TUTELLE_NODE_BINARY and TUTELLE_POUCHDB_DIR come from bench/CMakeLists.txt"
#endif

namespace tutelle::bench {

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kOpsPerChangeset = 5;
// Changesets per deliver frame, which the node applies in one transaction (hub/sync_server.cpp).
constexpr std::size_t kDeliverBatch = 256;
constexpr double kAimAcceptPerVerify = 0.80;
constexpr double kAimCatchUpPerPut = 0.25;
constexpr double kAimMedianMs = 20;
constexpr double kAimPouchRatio = 10;
constexpr auto kArrivalTimeout = std::chrono::seconds(10);

struct Options {
  std::size_t changesets = 100'000;
  std::size_t edits = 1'000;
  std::size_t bulk_records = 100'000;
  bool keep = false;
};

Result<Options> parse_options(int argc, char** argv) {
  auto args = Args::parse(std::vector<std::string>(argv + 1, argv + argc), {"keep"});
  if (!args) return args.error();
  Status only = args->only({"changesets", "edits", "bulk-records", "keep"});
  if (!only) return only.error();
  Options options;
  auto changesets = args->count("changesets", options.changesets);
  auto edits = args->count("edits", options.edits);
  auto bulk = args->count("bulk-records", options.bulk_records);
  if (!changesets) return changesets.error();
  if (!edits) return edits.error();
  if (!bulk) return bulk.error();
  options.changesets = changesets.value();
  options.edits = edits.value();
  options.bulk_records = bulk.value();
  options.keep = args->has("keep");
  if (options.changesets > kMaxChangesets || options.bulk_records > kMaxChangesets) {
    return make_error(ErrorCode::invalid_argument,
                      "--changesets, --bulk-records: at most " + grouped(double(kMaxChangesets)));
  }
  return options;
}

const std::vector<std::string>& replica_tables() {
  static const std::vector<std::string> names = {"records",    "by_type", "by_ident",   "outbox",
                                                 "changesets", "applied", "tombstones", "meta"};
  return names;
}

// ---- The changesets: made in node A's store before anything is timed.

node::FieldEdit assign(const std::string& field, std::string value) {
  return node::FieldEdit{field, node::FieldEdit::Mode::assign, {std::move(value)}};
}

// A project of the shared unit, created with five fields: five operations.
node::RecordEdit project_edit(std::size_t i) {
  static const char* statuses[] = {"draft", "submitted", "accepted", "running", "finished"};
  node::RecordEdit edit;
  edit.type = "project";
  edit.fields = {assign("lead_structure", kUnit),
                 assign("title", "Projet de recherche partagé numéro " + std::to_string(i)),
                 assign("acronym", "PRJ" + std::to_string(i)),
                 assign("budget", std::to_string(10000 + (i * 7919) % 990000) + ".50"),
                 assign("status", statuses[i % 5])};
  return edit;
}

// Commits `count` batches of one project each in A's store, non-durably, then syncs the store.
Result<Filled> fill_outbox(const fs::path& a_dir, std::size_t count) {
  auto node = node::Node::open(a_dir, {map_size_for(count), false});
  if (!node) return node.error();
  Stopwatch clock;
  Filled filled;
  for (std::size_t i = 0; i < count; ++i) {
    auto batch = node.value()->begin_batch(kAuthor);
    if (!batch) return batch.error();
    auto id = batch->edit(project_edit(i));
    if (!id) return id.error();
    auto summary = batch->commit();
    if (!summary) return summary.error();
    if (summary->operations != kOpsPerChangeset || summary->seqs.size() != 1) {
      return make_error(ErrorCode::internal,
                        "a project edit made " + std::to_string(summary->operations) +
                            " operations in " + std::to_string(summary->seqs.size()) +
                            " changesets, not 5 in 1");
    }
    filled.last_seq = summary->seqs.front();
  }
  Status synced = node.value()->replica().env().sync();
  if (!synced) return synced.error();
  filled.seconds = clock.seconds();
  return filled;
}

// ---- Latency: both nodes serving; an edit on A until B holds it.

struct LatencyFigures {
  std::vector<double> arrival_ms;  // commit returned → B's store holds the value
  double commit_ms = 0;            // mean time of A's durable commit
};

// Whether B's store holds record `id` with `title` as its shown title.
Result<bool> arrived(const store::Replica& b, const std::string& id, const std::string& title) {
  auto txn = b.begin_read();
  if (!txn) return txn.error();
  auto record = b.get(txn.value(), id);
  if (!record) return record.error();
  if (!record.value()) return false;
  const FieldState* field = record.value()->field("title");
  return field != nullptr && !field->entries.empty() &&
         value_text(conflict::shown(*field, "").value) == title;
}

// Commits one edit of the probe project on A and returns the id; with `id` empty it creates it.
Result<std::string> edit_probe(node::Node& a, const std::string& id, const std::string& title) {
  node::RecordEdit edit;
  edit.type = "project";
  if (!id.empty()) edit.id = id;
  edit.fields.push_back(assign("title", title));
  if (id.empty()) edit.fields.push_back(assign("lead_structure", kUnit));
  auto batch = a.begin_batch(kAuthor);
  if (!batch) return batch.error();
  auto edited = batch->edit(edit);
  if (!edited) return edited.error();
  auto committed = batch->commit();
  if (!committed) return committed.error();
  return edited.value();
}

// Polls B's store every 0.1 ms until it holds the title: a sleep, not a spin, since the machine
// has two cores for the hub, two serving nodes and this program.
Result<double> wait_arrival(const store::Replica& b, const std::string& id,
                            const std::string& title) {
  Stopwatch clock;
  for (;;) {
    auto done = arrived(b, id, title);
    if (!done) return done.error();
    if (done.value()) return clock.seconds() * 1000;
    if (clock.seconds() > double(kArrivalTimeout.count())) {
      return make_error(ErrorCode::internal, "'" + title + "' of " + id + " never reached B");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

Result<LatencyFigures> measure_latency(const Federation& f, std::size_t edits) {
  LatencyFigures figures;
  auto a = node::Node::open(f.a_dir, {map_size_for(0), true});
  if (!a) return a.error();
  auto b = store::Replica::open(f.b_dir / "store", {map_size_for(0), true, true});
  if (!b) return b.error();
  auto id = edit_probe(*a.value(), "", "latency probe 0");
  if (!id) return id.error();
  auto first = wait_arrival(*b.value(), id.value(), "latency probe 0");
  if (!first) return first.error();

  double commits = 0;
  for (std::size_t i = 1; i <= edits; ++i) {
    std::string title = "latency probe " + std::to_string(i);
    Stopwatch commit;
    auto edited = edit_probe(*a.value(), id.value(), title);
    if (!edited) return edited.error();
    commits += commit.seconds();
    auto ms = wait_arrival(*b.value(), id.value(), title);
    if (!ms) return ms.error();
    figures.arrival_ms.push_back(ms.value());
  }
  figures.commit_ms = commits * 1000 / double(edits);
  return figures;
}

// Starts `tutelle-node serve` on both nodes, measures, stops them.
Result<LatencyFigures> latency(const Federation& f, std::size_t edits) {
  std::vector<BackgroundChild> serving;
  for (const auto& [node_dir, tag] :
       {std::pair{f.a_dir, "serve-a"}, std::pair{f.b_dir, "serve-b"}}) {
    auto child = BackgroundChild::spawn({TUTELLE_NODE_BINARY, "serve", "--dir", node_dir.string()},
                                        f.dir / (std::string(tag) + ".out"),
                                        f.dir / (std::string(tag) + ".log"));
    if (!child) return child.error();
    serving.push_back(std::move(child.value()));
    Status ready = wait_for_text(f.dir / (std::string(tag) + ".log"), "caught up", serving.back());
    if (!ready) return ready.error();
  }
  auto figures = measure_latency(f, edits);
  for (auto& child : serving) {
    auto stopped = child.stop(SIGTERM);
    if (!stopped) return stopped.error();
  }
  return figures;
}

// ---- What went over the wire, and the limits.

struct Payload {
  std::vector<std::string> changesets;    // A's project changesets, as signed
  std::uint64_t push_frame_bytes = 0;     // push frames with their 4-byte length
  std::uint64_t deliver_frame_bytes = 0;  // deliver frames of kDeliverBatch, with their length
  std::vector<std::size_t> record_sizes;  // B's project records, stored
};

// Reads A's outbox (seqs 2 … last: the unit came first) and B's records after the pull.
Result<Payload> read_payload(const Federation& f, const Filled& filled, std::size_t count) {
  Payload payload;
  auto a = store::Environment::open(f.a_dir / "store", replica_tables(),
                                    {map_size_for(count), true, true});
  if (!a) return a.error();
  auto txn = a.value()->begin_read();
  if (!txn) return txn.error();
  std::vector<net::Delivered> frame;
  Status scanned = txn->scan(a.value()->table("outbox"), "", [&](auto key, auto bytes) {
    std::uint64_t seq = store::decode_u64(key);
    if (seq < 2 || seq > filled.last_seq) return true;
    payload.changesets.emplace_back(bytes);
    payload.push_frame_bytes += 4 + net::push_message(bytes).size();
    frame.push_back({seq, kUnit, std::string(bytes)});
    if (frame.size() == kDeliverBatch || seq == filled.last_seq) {
      payload.deliver_frame_bytes += 4 + net::deliver_message(frame).size();
      frame.clear();
    }
    return true;
  });
  if (!scanned) return scanned.error();

  auto b = store::Environment::open(f.b_dir / "store", replica_tables(),
                                    {map_size_for(count), true, true});
  if (!b) return b.error();
  auto b_txn = b.value()->begin_read();
  if (!b_txn) return b_txn.error();
  scanned = b_txn->scan(b.value()->table("records"), "project:", [&](auto, auto bytes) {
    payload.record_sizes.push_back(bytes.size());
    return payload.record_sizes.size() < count;
  });
  if (!scanned) return scanned.error();
  return payload;
}

// ---- The report.

struct Figures {
  Options options;
  Filled filled;
  PushFigures push;
  PullFigures pull;
  bool converged = false;
  LatencyFigures latency;
  Payload payload;
  VerifyLimit verify;
  PutLimit puts;
  std::optional<PouchDbRun> pouchdb;
  BulkFigures bulk;
};

const char* verdict(bool met) {
  return met ? "ok" : "MISSED";
}

// The value at quantile q of sorted values (nearest rank).
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(q * double(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

// `text` followed by spaces up to `width` characters (UTF-8 aware: "≥" is one character).
std::string padded(const std::string& text, std::size_t width) {
  std::size_t characters = 0;
  for (char c : text) characters += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return text + std::string(width > characters ? width - characters : 0, ' ');
}

void row(const std::string& name, const std::string& measured, const std::string& against,
         const std::string& ratio, const std::string& aim, const std::string& met) {
  std::string ratio_column = std::string(ratio.size() < 6 ? 6 - ratio.size() : 0, ' ') + ratio;
  std::cout << padded(name, 25) << ' ' << padded(measured, 26) << ' ' << padded(against, 34) << ' '
            << ratio_column << "  " << padded(aim, 8) << met << "\n";
}

// Records per second from A's import to B's store, for records the import wrote many a
// changeset: not the case the aim above is about (one record a changeset), so it has none.
void print_bulk_row(const Figures& x) {
  const BulkFigures& b = x.bulk;
  double rate = double(b.records) / (b.push.window_seconds + b.pull.sync.seconds);
  std::string against = "PouchDB not run";
  std::string ratio;
  if (x.pouchdb) {
    against = "PouchDB " + grouped(x.pouchdb->docs_per_second) + " docs/s";
    ratio = fixed(rate / x.pouchdb->docs_per_second, 1);
  }
  row("A → B bulk-created records", grouped(rate) + " records/s", against, ratio, "none", "");
}

void print_table(const Figures& x) {
  double n = double(x.options.changesets);
  double ops = n * kOpsPerChangeset;
  double hub_cpu = x.push.hub_pushed.cpu_seconds - x.push.hub_before.cpu_seconds;
  double per_core = n / std::max(hub_cpu, 1e-9);
  double verify_rate = double(x.verify.verified) / x.verify.cpu_seconds;
  double accept_ratio = per_core / verify_rate;
  double ops_rate = ops / x.pull.sync.seconds;
  double put_rate = double(x.puts.puts) / x.puts.seconds;
  std::vector<double> sorted = x.latency.arrival_ms;
  std::sort(sorted.begin(), sorted.end());
  double median = quantile(sorted, 0.5);
  double records_rate = n / (x.push.window_seconds + x.pull.sync.seconds);

  std::cout << "\n== Tutelle replication benchmark: " << grouped(n) << " changesets of "
            << kOpsPerChangeset << " operations (" << grouped(ops) << " operations), "
            << grouped(double(x.options.edits)) << " latency edits ==\n";
  row("figure", "measured", "against", "ratio", "aim", "");
  row("hub accepts (push)", grouped(n / x.push.window_seconds) + " changesets/s",
      fixed(hub_cpu / x.push.window_seconds) + " hub cores used", "", "", "");
  row("  per hub core", grouped(per_core) + " changesets/s",
      "Ed25519 verify " + grouped(verify_rate) + "/s, 1 core", fixed(accept_ratio), "≥ 0.80",
      verdict(accept_ratio >= kAimAcceptPerVerify));
  row("catch-up (pull)", grouped(ops_rate) + " operations/s",
      "raw LMDB " + grouped(put_rate) + " puts/s", fixed(ops_rate / put_rate), "≥ 0.25",
      verdict(ops_rate / put_rate >= kAimCatchUpPerPut));
  row("latency edit → arrival", "median " + fixed(median, 1) + " ms",
      "p99 " + fixed(quantile(sorted, 0.99), 1) + " ms, max " + fixed(sorted.back(), 1) + " ms", "",
      "< 20 ms", verdict(median < kAimMedianMs));
  std::uint64_t wire = x.push.wire.received + x.pull.wire.sent;
  std::uint64_t framed = x.payload.push_frame_bytes + x.payload.deliver_frame_bytes;
  row("wire, push + pull", fixed(double(wire) / ops, 0) + " B/operation",
      "frames before TLS " + fixed(double(framed) / ops, 0) + " B/operation",
      fixed(double(wire) / double(framed)), "", "");
  if (x.pouchdb) {
    double ratio = records_rate / x.pouchdb->docs_per_second;
    row("A → B end to end", grouped(records_rate) + " records/s",
        "PouchDB " + grouped(x.pouchdb->docs_per_second) + " docs/s", fixed(ratio, 1), "≥ 10",
        verdict(ratio >= kAimPouchRatio));
  } else {
    row("A → B end to end", grouped(records_rate) + " records/s", "PouchDB not run", "", "≥ 10",
        "");
  }
  print_bulk_row(x);
}

void print_sync_details(const Figures& x) {
  double n = double(x.options.changesets);
  const PushFigures& p = x.push;
  const PullFigures& q = x.pull;
  double a_cpu = p.sync.user_seconds + p.sync.system_seconds;
  std::cout << "  setup      " << grouped(n) << " batches committed in A in process in "
            << fixed(x.filled.seconds, 1) << " s (non-durable, not timed)\n"
            << "  push       A's sync --once: hub acked seq " << x.filled.last_seq << " after "
            << fixed(p.window_seconds, 2) << " s; the whole command took "
            << fixed(p.sync.seconds, 2) << " s (after the push it pulls its own "
            << p.summary.value("received", 0) << " changesets back and skips them)\n"
            << "             hub CPU " << fixed(p.hub_pushed.cpu_seconds - p.hub_before.cpu_seconds)
            << " s during the push, " << fixed(p.hub_after.cpu_seconds - p.hub_pushed.cpu_seconds)
            << " s after; A's CPU " << fixed(p.sync.user_seconds) << " s user, "
            << fixed(p.sync.system_seconds) << " s system; A's summary " << p.summary.dump() << "\n"
            << "             per changeset: hub CPU "
            << fixed((p.hub_pushed.cpu_seconds - p.hub_before.cpu_seconds) * 1e6 / n, 0)
            << " µs (Ed25519 verify alone "
            << fixed(x.verify.cpu_seconds * 1e6 / double(x.verify.verified), 0)
            << " µs, identity::verify_changeset "
            << fixed(x.verify.changeset_cpu_seconds * 1e6 / double(x.verify.verified), 0)
            << " µs); A's CPU " << fixed(a_cpu * 1e6 / n, 0) << " µs; wall "
            << fixed(p.window_seconds * 1e3 / n, 2) << " ms\n"
            << "  pull       B's sync --once " << fixed(q.sync.seconds, 2) << " s, CPU "
            << fixed(q.sync.user_seconds) << " s user, " << fixed(q.sync.system_seconds)
            << " s system, peak RSS " << grouped(double(q.sync.peak_rss_kib) / 1024)
            << " MB; hub CPU " << fixed(q.hub_after.cpu_seconds - q.hub_before.cpu_seconds)
            << " s; B's summary " << q.summary.dump() << "\n"
            << "             per CPU second of B "
            << grouped(n * kOpsPerChangeset / (q.sync.user_seconds + q.sync.system_seconds))
            << " operations (the wall time above also holds B's fsyncs and its waits for a core)\n"
            << "             digests of A and B after the pull: "
            << (x.converged ? "equal" : "DIFFERENT") << "\n";
}

void print_bulk_details(const Figures& x) {
  const BulkFigures& b = x.bulk;
  double records = double(b.records);
  double per = records / double(std::max<std::size_t>(b.changesets, 1));
  double hub_cpu = b.push.hub_pushed.cpu_seconds - b.push.hub_before.cpu_seconds;
  std::cout << "  bulk       " << grouped(records) << " generated records (projects and people) "
            << "imported in A by tutelle-node import in " << fixed(b.import.seconds, 1)
            << " s (not timed): " << grouped(double(b.changesets)) << " changesets, "
            << fixed(per, 1) << " records per changeset\n"
            << "             push acked after " << fixed(b.push.window_seconds, 2) << " s, hub CPU "
            << fixed(hub_cpu) << " s (" << fixed(hub_cpu * 1e6 / records, 1)
            << " µs a record); B's sync --once " << fixed(b.pull.sync.seconds, 2) << " s, CPU "
            << fixed(b.pull.sync.user_seconds + b.pull.sync.system_seconds)
            << " s; digests of A and B after the pull: " << (b.converged ? "equal" : "DIFFERENT")
            << "\n";
}

void print_wire_details(const Figures& x) {
  double n = double(x.options.changesets);
  const PushFigures& p = x.push;
  const PullFigures& q = x.pull;
  std::uint64_t push_written = p.hub_pushed.written_bytes - p.hub_before.written_bytes;
  std::cout << "  wire       TCP payload (TLS records) counted by the kernel on the hub's sockets "
               "(tcp_info): A → hub until the last ack "
            << grouped(double(p.wire.received)) << " B, hub → B during the pull "
            << grouped(double(q.wire.sent)) << " B (B → hub " << grouped(double(q.wire.received))
            << " B); the frames before TLS: push " << grouped(double(x.payload.push_frame_bytes))
            << " B, deliver " << grouped(double(x.payload.deliver_frame_bytes)) << " B\n"
            << "             /proc/PID/io of the hub does not count sockets (Asio uses sendmsg and "
               "recvmsg); its write calls during the push, "
            << grouped(double(push_written)) << " B (" << grouped(double(push_written) / n)
            << " B a changeset), are LMDB pages of data.mdb\n";
}

void print_latency_and_limits(const Figures& x) {
  std::vector<double> sorted = x.latency.arrival_ms;
  std::sort(sorted.begin(), sorted.end());
  std::cout << "  latency    " << sorted.size() << " edits; A's durable commit "
            << fixed(x.latency.commit_ms, 2) << " ms on average; arrival p10 "
            << fixed(quantile(sorted, 0.1), 1) << ", p90 " << fixed(quantile(sorted, 0.9), 1)
            << " ms (B polled every 0.1 ms)\n"
            << "  limits     Ed25519: " << grouped(double(x.verify.verified))
            << " signatures of A's changesets, " << fixed(x.verify.mean_message_bytes, 0)
            << " B signed each, in " << fixed(x.verify.cpu_seconds, 2) << " s of CPU ("
            << fixed(x.verify.seconds, 2) << " s wall)\n"
            << "             raw LMDB: " << grouped(double(x.puts.puts))
            << " random keys, values of B's "
            << "record sizes (" << fixed(x.puts.mean_value_bytes, 0) << " B on average), "
            << x.puts.per_txn << " a synchronous transaction (as B's deliver frames), in "
            << fixed(x.puts.seconds, 2) << " s\n";
  if (x.pouchdb) {
    std::cout << "  PouchDB    " << grouped(double(x.pouchdb->docs)) << " docs replicated in "
              << fixed(x.pouchdb->replicate_seconds, 2) << " s (" << x.pouchdb->versions
              << "); Tutelle's pull alone "
              << grouped(double(x.options.changesets) / x.pull.sync.seconds) << " records/s\n";
  }
  std::cout << "  end to end Tutelle records/s = changesets / (push until the last ack + B's "
               "whole sync --once)\n";
}

// ---- The run.

// Sets up the federation in `dir`, runs every step through it, then stops its hub.
Status measure_federation(const Options& options, const fs::path& dir, Figures& x) {
  std::cout << "federation: hub, nodes A (" << kUaiA << ") and B (" << kUaiB << "), unit " << kUnit
            << "…" << std::endl;
  auto f = set_up_federation(dir);
  if (!f) return f.error();
  const std::size_t count = options.changesets;
  std::cout << "setup: " << grouped(double(count)) << " changesets in A…" << std::endl;
  auto filled = fill_outbox(f->a_dir, count);
  if (!filled) return filled.error();
  x.filled = filled.value();
  std::cout << "push: A's sync --once…" << std::endl;
  auto pushed = push(f.value(), x.filled, count);
  if (!pushed) return pushed.error();
  x.push = std::move(pushed.value());
  std::cout << "pull: B's sync --once…" << std::endl;
  auto pulled = pull(f.value(), count);
  if (!pulled) return pulled.error();
  x.pull = std::move(pulled.value());
  auto converged = same_digests(f.value());
  if (!converged) return converged.error();
  x.converged = converged.value();
  std::cout << "latency: " << grouped(double(options.edits)) << " edits…" << std::endl;
  auto latency_figures = latency(f.value(), options.edits);
  if (!latency_figures) return latency_figures.error();
  x.latency = std::move(latency_figures.value());
  auto payload = read_payload(f.value(), x.filled, count);
  if (!payload) return payload.error();
  x.payload = std::move(payload.value());
  std::cout << "bulk: " << grouped(double(options.bulk_records))
            << " records imported in A, then A's push and B's pull…" << std::endl;
  auto bulk_figures = bulk(f.value(), options.bulk_records);
  if (!bulk_figures) return bulk_figures.error();
  x.bulk = std::move(bulk_figures.value());
  auto stopped = f->hub->stop(SIGTERM);
  if (!stopped) return stopped.error();
  return {};
}

// What the federation's figures are set against: the machine's limits on A's changesets and B's
// record sizes (x.payload), and PouchDB on as many documents.
Status measure_limits(const Options& options, const fs::path& dir, Figures& x) {
  std::cout << "limits: Ed25519 verification, raw LMDB puts…" << std::endl;
  auto verify = measure_verify_limit(x.payload.changesets);
  if (!verify) return verify.error();
  x.verify = verify.value();
  settle_disk();
  auto puts = measure_raw_lmdb_puts(dir / "raw", x.payload.record_sizes, kDeliverBatch);
  if (!puts) return puts.error();
  x.puts = puts.value();
  std::cout << "PouchDB: " << grouped(double(options.changesets)) << " docs…" << std::endl;
  settle_disk();
  auto pouchdb = run_pouchdb(TUTELLE_POUCHDB_DIR, options.changesets, dir);
  if (!pouchdb) return pouchdb.error();
  x.pouchdb = pouchdb.value();
  return {};
}

Status measure(const Options& options, const fs::path& dir, Figures& x) {
  Status measured = measure_federation(options, dir, x);
  if (!measured) return measured;
  return measure_limits(options, dir, x);
}

// The first figure of /proc/loadavg: runnable processes, averaged over the last minute.
std::string load_average() {
  std::string text = file_head("/proc/loadavg", 64);
  return text.substr(0, text.find(' '));
}

Status run(const Options& options) {
  auto scratch = scratch_directory("tutelle-bench", options.keep);
  if (!scratch) return scratch.error();
  Figures figures;
  figures.options = options;
  std::string load_before = load_average();
  Status measured = measure(options, scratch->path(), figures);
  if (!measured) return measured;
  std::string load_after = load_average();
  print_table(figures);
  std::cout << "details\n";
  print_sync_details(figures);
  print_bulk_details(figures);
  print_wire_details(figures);
  print_latency_and_limits(figures);
  std::cout << "  machine    " << std::thread::hardware_concurrency()
            << " cores; load average (1 min) " << load_before << " at the start, " << load_after
            << " at the end: wall-clock figures count the time other processes held the cores\n";
  return {};
}

}  // namespace

}  // namespace tutelle::bench

int main(int argc, char** argv) {
  using namespace tutelle::bench;
  return bench_main("bench_replication", "[--changesets N] [--edits N] [--bulk-records N] [--keep]",
                    parse_options(argc, argv), run);
}
