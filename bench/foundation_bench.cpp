// bench_foundation: the foundation's two write paths, each measured beside raw LMDB doing the
// same puts on this machine, in one run.
//
//   bulk import  `tutelle-node import` of N generated records (a child process: its wall time
//                and peak RSS), against raw LMDB puts of the same keys and value sizes, as
//                many per transaction as the import's batch (--batch, default 1000).
//   durable put  one record per LocalBatch commit, in process, fsync on each commit, against
//                raw LMDB with one put per transaction and LMDB's default (synchronous) commit.
//
// Both raw runs write only the `records` table, with no Tutelle code around the puts: the ratio
// is what the rest of a Tutelle write (parsing, merge, signing, indexes, changeset log) costs.

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "bench/generated_records.hpp"
#include "bench/harness.hpp"
#include "bench/raw_lmdb.hpp"
#include "node/import.hpp"
#include "node/node.hpp"
#include "protocol/command_line.hpp"
#include "store/lmdb.hpp"

#ifndef TUTELLE_NODE_BINARY
#error "TUTELLE_NODE_BINARY must name the tutelle-node executable (bench/CMakeLists.txt)"
#endif

namespace tutelle::bench {

namespace {

constexpr const char* kEstablishment = "0339901H";
constexpr double kAimRatio = 0.5;
constexpr double kAimPeakMb = 200;
// The durable puts' people are numbered from here, the import's from 0 (generated_records.hpp).
constexpr std::uint64_t kPutPersonBase = 19'000'000;
constexpr std::size_t kMaxRecords = 40'000'000;  // about 16·10^6 people, below kPutPersonBase

struct Options {
  std::size_t records = 1'000'000;
  std::size_t batch = 1'000;  // lines a transaction, import and raw: ImportOptions' default
  std::size_t puts = 2'000;
  std::uint64_t seed = 20240601;
  bool keep = false;  // leave the scratch directory for inspection
};

Result<Options> parse_options(int argc, char** argv) {
  auto args = Args::parse(std::vector<std::string>(argv + 1, argv + argc), {"keep"});
  if (!args) return args.error();
  Status only = args->only({"records", "puts", "batch", "seed", "keep"});
  if (!only) return only.error();
  Options options;
  auto records = args->count("records", options.records);
  auto puts = args->count("puts", options.puts);
  auto batch = args->count("batch", options.batch);
  auto seed = args->count("seed", options.seed);
  if (!records) return records.error();
  if (!puts) return puts.error();
  if (!batch) return batch.error();
  if (!seed) return seed.error();
  options.records = records.value();
  options.puts = puts.value();
  options.batch = batch.value();
  options.seed = seed.value();
  options.keep = args->has("keep");
  if (options.records > kMaxRecords) {
    return make_error(ErrorCode::invalid_argument,
                      "--records: at most " + std::to_string(kMaxRecords) +
                          " (the generator's distinct ORCIDs run out beyond)");
  }
  return options;
}

// Room for the store: generous, since a map is only reserved address space. An imported record
// takes about 5 KB of data.mdb (the record, its share of a changeset, indexes, page slack).
std::size_t map_size_for(std::size_t records) {
  return std::max<std::size_t>(std::size_t{1} << 30, records * 16384);
}

// Writes every dirty page of the system back before a timed run, so that the writeback of an
// earlier run (gigabytes, after a bulk import) does not slow the next one's fsyncs.
void settle_disk() {
  ::sync();
}

// ---- The records: generated, written as JSON Lines, read back from a store.

struct GeneratedFile {
  std::filesystem::path path;
  std::uintmax_t bytes = 0;
  double seconds = 0;
  // Per line: the person's natural id, or "" for a project (whose id its node mints).
  std::vector<std::string> natural_ids;
};

Result<GeneratedFile> write_records(const std::filesystem::path& path, std::size_t count,
                                    std::uint64_t seed) {
  Stopwatch clock;
  GeneratedFile file{path, 0, 0, {}};
  file.natural_ids.reserve(count);
  std::ofstream out(path, std::ios::binary);
  RecordGenerator generator(seed, 0);
  for (std::size_t i = 0; i < count && out; ++i) {
    GeneratedRecord record = generator.next();
    out << record.line << '\n';
    file.natural_ids.push_back(std::move(record.natural_id));
  }
  out.close();
  if (!out) return make_error(ErrorCode::storage, path.string() + ": cannot write");
  file.bytes = std::filesystem::file_size(path);
  file.seconds = clock.seconds();
  return file;
}

// The keys and value lengths of a table, in key order.
Result<std::vector<KeyedSize>> table_sizes(const store::Txn& txn, const store::Table& table) {
  std::vector<KeyedSize> entries;
  Status scanned = txn.scan(table, "", [&](std::string_view key, std::string_view value) {
    entries.push_back(KeyedSize{std::string(key), value.size()});
    return true;
  });
  if (!scanned) return scanned.error();
  return entries;
}

// The `records` entries in the order the lines wrote them: a person's by its natural id; the
// projects' in key order, which is their creation order to the millisecond (random_id() leads
// with the clock), the order within one batch aside.
Result<std::vector<KeyedSize>> in_write_order(const std::vector<KeyedSize>& sorted,
                                              const std::vector<std::string>& natural_ids) {
  auto by_key = [](const KeyedSize& a, const std::string& key) { return a.key < key; };
  auto project = std::lower_bound(sorted.begin(), sorted.end(), std::string("project:"), by_key);
  std::vector<KeyedSize> ordered;
  ordered.reserve(natural_ids.size());
  for (const auto& id : natural_ids) {
    if (id.empty()) {
      if (project == sorted.end() || project->key.rfind("project:", 0) != 0) break;
      ordered.push_back(*project++);
      continue;
    }
    auto found = std::lower_bound(sorted.begin(), sorted.end(), id, by_key);
    if (found == sorted.end() || found->key != id) {
      return make_error(ErrorCode::not_found, "records lacks " + id);
    }
    ordered.push_back(*found);
  }
  if (ordered.size() != natural_ids.size() || sorted.size() != natural_ids.size()) {
    return make_error(ErrorCode::internal, std::to_string(natural_ids.size()) +
                                               " lines written but records holds " +
                                               std::to_string(sorted.size()) + " entries");
  }
  return ordered;
}

// ---- What a Tutelle store holds after a run.

struct TableFootprint {
  std::string name;
  std::size_t entries = 0;
  std::size_t bytes = 0;  // keys and values
};

struct StoreContents {
  std::vector<KeyedSize> records;  // in key order
  std::vector<TableFootprint> tables;
  std::uintmax_t file_bytes = 0;  // data.mdb
};

// The tables of a node's replica, as store/replica.hpp lists them. A table added there and not
// here is left out of the footprint; one named here and missing there fails the read-only open.
const std::vector<std::string>& replica_tables() {
  static const std::vector<std::string> names = {"records",    "by_type", "by_ident",   "outbox",
                                                 "changesets", "applied", "tombstones", "meta"};
  return names;
}

Result<StoreContents> read_store(
    const store::Txn& txn, const std::function<const store::Table&(const std::string&)>& table) {
  StoreContents contents;
  for (const auto& name : replica_tables()) {
    auto entries = table_sizes(txn, table(name));
    if (!entries) return entries.error();
    TableFootprint footprint{name, entries->size(), 0};
    for (const auto& entry : entries.value()) footprint.bytes += entry.key.size() + entry.size;
    contents.tables.push_back(footprint);
    if (name == "records") contents.records = std::move(entries.value());
  }
  return contents;
}

// Opens a node's store read-only, as nothing else has it open, and reads it.
Result<StoreContents> read_node_store(const std::filesystem::path& node_dir, std::size_t map_size) {
  std::filesystem::path dir = node_dir / "store";
  auto env = store::Environment::open(dir, replica_tables(), {map_size, true, true});
  if (!env) return env.error();
  auto txn = env.value()->begin_read();
  if (!txn) return txn.error();
  auto contents = read_store(txn.value(), [&](const std::string& name) -> const store::Table& {
    return env.value()->table(name);
  });
  if (!contents) return contents.error();
  contents->file_bytes = std::filesystem::file_size(dir / "data.mdb");
  return contents;
}

// ---- tutelle-node as a child process.

Result<ChildRun> run_node_command(const std::vector<std::string>& words,
                                  const std::filesystem::path& scratch, const std::string& tag) {
  std::vector<std::string> argv = {TUTELLE_NODE_BINARY};
  argv.insert(argv.end(), words.begin(), words.end());
  std::filesystem::path out = scratch / (tag + ".out");
  std::filesystem::path err = scratch / (tag + ".err");
  auto run = run_child(argv, out, err);
  if (!run) return run.error();
  if (run->exit_code != 0) {
    return make_error(ErrorCode::internal, "tutelle-node " + words.front() + " exited with " +
                                               std::to_string(run->exit_code) + ": " +
                                               file_head(err));
  }
  return run;
}

Status init_node(const std::filesystem::path& dir, const std::filesystem::path& scratch) {
  auto run = run_node_command(
      {"init", "--dir", dir.string(), "--establishment", kEstablishment, "--name", "bench"},
      scratch, "init");
  if (!run) return run.error();
  return {};
}

// Imports `file`, of options.records lines, into the node at `dir`, options.batch lines a
// transaction; every line must be written.
Result<ChildRun> import_records(const std::filesystem::path& dir, const std::filesystem::path& file,
                                const Options& options, std::size_t map_size,
                                const std::filesystem::path& scratch) {
  std::string map = std::to_string(map_size >> 20) + "M";
  auto run = run_node_command({"import", "--dir", dir.string(), file.string(), "--map-size", map,
                               "--batch", std::to_string(options.batch)},
                              scratch, "import");
  if (!run) return run.error();
  auto summary = nlohmann::json::parse(file_head(scratch / "import.out"), nullptr, false);
  if (summary.is_discarded() || summary.value("written", std::size_t{0}) != options.records) {
    return make_error(ErrorCode::internal,
                      "import did not write every line: " + file_head(scratch / "import.out") +
                          file_head(scratch / "import.err"));
  }
  return run;
}

// ---- Raw LMDB: the same puts with nothing around them.

struct RawRun {
  double seconds = 0;
  std::uint64_t written_bytes = 0;  // passed to write calls during the puts
};

// Puts `entries` into a fresh raw store at `dir`.
Result<RawRun> time_raw_puts(const std::filesystem::path& dir,
                             const std::vector<KeyedSize>& entries, std::size_t per_txn,
                             std::size_t map_size) {
  auto raw = RawStore::open(dir, map_size);
  if (!raw) return raw.error();
  std::uint64_t written = own_written_bytes();
  Stopwatch clock;
  Status put = raw.value()->put_all(entries, per_txn);
  if (!put) return put.error();
  return RawRun{clock.seconds(), own_written_bytes() - written};
}

// ---- The two benchmarks.

struct BulkFigures {
  std::size_t records = 0;
  GeneratedFile file;
  ChildRun import;
  RawRun raw;
  std::uintmax_t raw_file_bytes = 0;  // the raw store's data.mdb
  StoreContents store;
};

Result<BulkFigures> bulk_import(const Options& options, const std::filesystem::path& scratch) {
  BulkFigures figures;
  figures.records = options.records;
  std::size_t map_size = map_size_for(options.records);
  std::cout << "bulk import: generating " << grouped(double(options.records)) << " records…"
            << std::endl;
  auto file = write_records(scratch / "records.jsonl", options.records, options.seed);
  if (!file) return file.error();
  figures.file = std::move(file.value());

  std::filesystem::path node_dir = scratch / "bulk-node";
  Status ready = init_node(node_dir, scratch);
  if (!ready) return ready.error();
  std::cout << "bulk import: tutelle-node import…" << std::endl;
  settle_disk();
  auto run = import_records(node_dir, figures.file.path, options, map_size, scratch);
  if (!run) return run.error();
  figures.import = run.value();

  auto contents = read_node_store(node_dir, map_size);
  if (!contents) return contents.error();
  figures.store = std::move(contents.value());
  auto ordered = in_write_order(figures.store.records, figures.file.natural_ids);
  if (!ordered) return ordered.error();
  std::cout << "bulk import: raw LMDB puts…" << std::endl;
  settle_disk();
  auto raw = time_raw_puts(scratch / "raw-bulk", ordered.value(), options.batch, map_size);
  if (!raw) return raw.error();
  figures.raw = raw.value();
  figures.raw_file_bytes = std::filesystem::file_size(scratch / "raw-bulk" / "data.mdb");
  return figures;
}

struct PutFigures {
  std::size_t commits = 0;
  double seconds = 0;
  std::uint64_t written_bytes = 0;  // passed to write calls during the commits
  RawRun raw;
};

// The edits of `count` generated records, parsed before any clock starts.
Result<std::vector<node::RecordEdit>> generated_edits(std::size_t count, std::uint64_t seed) {
  RecordGenerator generator(seed, kPutPersonBase);
  std::vector<node::RecordEdit> edits;
  for (std::size_t i = 0; i < count; ++i) {
    auto edit = node::edit_from_json(nlohmann::json::parse(generator.next().line));
    if (!edit) return edit.error();
    edits.push_back(std::move(edit.value()));
  }
  return edits;
}

// Commits edits [begin, end) one to a batch, durably, timing them into `figures`; returns
// the records written and the lengths of their stored values.
Result<std::vector<KeyedSize>> node_round(node::Node& node,
                                          const std::vector<node::RecordEdit>& edits,
                                          std::size_t begin, std::size_t end, PutFigures& figures) {
  std::vector<KeyedSize> written;
  std::uint64_t wrote = own_written_bytes();
  Stopwatch clock;
  for (std::size_t i = begin; i < end; ++i) {
    auto batch = node.begin_batch("bench@univ-exemple.fr");
    if (!batch) return batch.error();
    auto id = batch->edit(edits[i]);
    if (!id) return id.error();
    auto committed = batch->commit();
    if (!committed) return committed.error();
    written.push_back(KeyedSize{id.value(), 0});
  }
  figures.seconds += clock.seconds();
  figures.written_bytes += own_written_bytes() - wrote;

  auto txn = node.replica().begin_read();
  if (!txn) return txn.error();
  for (auto& entry : written) {
    auto value = txn->get(node.replica().table("records"), entry.key);
    if (!value || !value.value()) {
      return make_error(ErrorCode::internal, "records lacks " + entry.key + " after its commit");
    }
    entry.size = value.value()->size();
  }
  return written;
}

Result<PutFigures> durable_puts(const Options& options, const std::filesystem::path& scratch) {
  // Rounds alternate between Tutelle and raw LMDB, so that both meet the same disk: fsync
  // latency on a shared machine drifts by a factor of ten within minutes.
  constexpr std::size_t kRounds = 10;
  PutFigures figures;
  figures.commits = options.puts;
  auto edits = generated_edits(options.puts, options.seed + 1);
  if (!edits) return edits.error();
  auto node = node::Node::create(scratch / "put-node", {kEstablishment, "bench", false, ""});
  if (!node) return node.error();
  auto raw = RawStore::open(scratch / "raw-put", map_size_for(0));
  if (!raw) return raw.error();

  std::cout << "durable put: " << grouped(double(options.puts)) << " commits each…" << std::endl;
  settle_disk();
  for (std::size_t round = 0; round < kRounds; ++round) {
    std::size_t begin = options.puts * round / kRounds;
    std::size_t end = options.puts * (round + 1) / kRounds;
    auto written = node_round(*node.value(), edits.value(), begin, end, figures);
    if (!written) return written.error();
    std::uint64_t wrote = own_written_bytes();
    Stopwatch clock;
    Status put = raw.value()->put_all(written.value(), 1);
    if (!put) return put.error();
    figures.raw.seconds += clock.seconds();
    figures.raw.written_bytes += own_written_bytes() - wrote;
  }
  return figures;
}

// ---- The report.

double megabytes(double bytes) {
  return bytes / (1024.0 * 1024.0);
}

const char* verdict(bool met) {
  return met ? "ok" : "MISSED";
}

double mib(long kib) {
  return double(kib) / 1024.0;
}

std::string mb(double bytes) {
  return grouped(megabytes(bytes)) + " MB";
}

// "ratio 0.53, aim ≥ 0.50: ok"
std::string ratio_text(double ratio) {
  return "ratio " + fixed(ratio) + ", aim ≥ " + fixed(kAimRatio) + ": " +
         verdict(ratio >= kAimRatio);
}

void print_bulk_line(const BulkFigures& bulk) {
  double rate = double(bulk.records) / bulk.import.seconds;
  double raw_rate = double(bulk.records) / bulk.raw.seconds;
  double peak = mib(bulk.import.peak_rss_kib);
  double anon = mib(bulk.import.peak_anon_kib);
  std::cout << "bulk import: " << grouped(rate) << " records/s (raw LMDB " << grouped(raw_rate)
            << " puts/s, " << ratio_text(rate / raw_rate) << ") peak " << fixed(peak, 0)
            << " MB (aim < " << fixed(kAimPeakMb, 0) << " MB: " << verdict(peak < kAimPeakMb)
            << "; anonymous " << fixed(anon, 0) << " MB: " << verdict(anon < kAimPeakMb) << ")\n";
}

void print_puts_line(const PutFigures& puts) {
  double rate = double(puts.commits) / puts.seconds;
  double raw_rate = double(puts.commits) / puts.raw.seconds;
  std::cout << "durable put: " << grouped(rate) << " commits/s (raw LMDB " << grouped(raw_rate)
            << " commits/s, " << ratio_text(rate / raw_rate) << ")\n";
}

void print_bulk_details(const BulkFigures& bulk) {
  const ChildRun& run = bulk.import;
  std::cout << "  bulk import  " << fixed(run.seconds, 1) << " s wall, "
            << fixed(run.user_seconds, 1) << " s user, " << fixed(run.system_seconds, 1)
            << " s system; raw LMDB " << fixed(bulk.raw.seconds, 1) << " s wall\n"
            << "               written (write calls) " << mb(double(run.written_bytes)) << " (raw "
            << mb(double(bulk.raw.written_bytes)) << "); data.mdb "
            << mb(double(bulk.store.file_bytes)) << " (raw " << mb(double(bulk.raw_file_bytes))
            << ") from " << mb(double(bulk.file.bytes)) << " of JSON Lines (generated in "
            << fixed(bulk.file.seconds, 1) << " s)\n"
            << "               peak RSS " << fixed(mib(run.peak_rss_kib), 0)
            << " MB (ru_maxrss); sampled every 20 ms: " << fixed(mib(run.peak_anon_kib), 0)
            << " MB anonymous, " << fixed(mib(run.peak_file_kib), 0)
            << " MB file-backed (the mapped store)\n";
  std::cout << "  tables after import (keys and values; raw LMDB writes `records` only)\n";
  for (const auto& table : bulk.store.tables) {
    if (table.entries == 0) continue;
    std::printf("    %-10s %11s entries %9s  %6s B/entry\n", table.name.c_str(),
                grouped(double(table.entries)).c_str(), mb(double(table.bytes)).c_str(),
                grouped(double(table.bytes) / double(table.entries)).c_str());
  }
}

void print_puts_details(const PutFigures& puts) {
  double commits = double(puts.commits);
  std::cout << "  durable put  " << fixed(puts.seconds * 1e6 / commits, 0) << " µs and "
            << grouped(double(puts.written_bytes) / commits / 1024) << " KB written a commit (raw "
            << fixed(puts.raw.seconds * 1e6 / commits, 0) << " µs, "
            << grouped(double(puts.raw.written_bytes) / commits / 1024) << " KB)\n";
}

Status run(const Options& options) {
  auto scratch = scratch_directory("tutelle-bench", options.keep);
  if (!scratch) return scratch.error();

  auto bulk = bulk_import(options, scratch->path());
  if (!bulk) return bulk.error();
  auto puts = durable_puts(options, scratch->path());
  if (!puts) return puts.error();

  std::cout << "\n== Tutelle foundation benchmark: " << grouped(double(options.records))
            << " records in batches of " << grouped(double(options.batch)) << ", "
            << grouped(double(options.puts)) << " durable puts ==\n";
  print_bulk_line(bulk.value());
  print_puts_line(puts.value());
  std::cout << "details\n";
  print_bulk_details(bulk.value());
  print_puts_details(puts.value());
  return {};
}

}  // namespace

}  // namespace tutelle::bench

int main(int argc, char** argv) {
  using namespace tutelle::bench;
  return bench_main("bench_foundation", "[--records N] [--batch N] [--puts N] [--seed N] [--keep]",
                    parse_options(argc, argv), run);
}
