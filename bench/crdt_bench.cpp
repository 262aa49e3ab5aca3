// bench_crdt: Tutelle's merge against Yjs and Automerge on one workload, in one run.
//
// The workload (bench/crdt_workload.hpp): by default 1,000,000 field and set operations from
// 5 replicas editing 10,000 project records in 100 units over 20 rounds, 5% of them concurrent
// writes. Tutelle's figures:
//   merge        the signed changesets decoded and merged into a fresh in-memory replica
//                (conflict::MemoryReplica), best of three; again with each signature verified;
//                and into a fresh store (store::Writer over LMDB, 256 changesets a transaction)
//   bytes/op     the signed changesets (SignedChangeset: key, packed body, signature) that
//                replicas exchange and keep, over the operations
//   memory       the heap the merged in-memory replica holds (records, tombstones, changesets
//                applied), over the records; the store's records table too
// The same operations, written by the same replicas in the same rounds, go to Yjs and Automerge
// through bench/crdt/merge.mjs; each merges its own updates into a fresh document in a fresh
// Node.js process. Aims: merge at least twice Yjs's rate, no more bytes per operation than
// Automerge, less memory per record than either.

#include <malloc.h>

#include <charconv>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bench/crdt_workload.hpp"
#include "bench/harness.hpp"
#include "conflict/memory_replica.hpp"
#include "identity/changeset_signature.hpp"
#include "protocol/codec.hpp"
#include "protocol/command_line.hpp"
#include "store/replica.hpp"

#ifndef TUTELLE_CRDT_DIR
#error "TUTELLE_CRDT_DIR must name bench/crdt (bench/CMakeLists.txt)"
#endif

namespace tutelle::bench {

namespace {

using nlohmann::json;

constexpr std::size_t kChangesetsPerTransaction = 256;  // a deliver frame's worth
constexpr double kAimMergeRatio = 2.0;

struct Options {
  WorkloadOptions workload;
  bool libraries = true;  // false: --tutelle-only
  bool keep = false;
};

Result<Options> parse_options(int argc, char** argv) {
  auto args =
      Args::parse(std::vector<std::string>(argv + 1, argv + argc), {"keep", "tutelle-only"});
  if (!args) return args.error();
  Status only = args->only({"operations", "replicas", "records", "scopes", "rounds",
                            "concurrent-percent", "seed", "keep", "tutelle-only"});
  if (!only) return only.error();
  Options options;
  WorkloadOptions& w = options.workload;
  std::size_t percent = static_cast<std::size_t>(w.concurrent * 100);
  for (auto [name, slot] : {std::pair{"operations", &w.operations},
                            {"replicas", &w.replicas},
                            {"records", &w.records},
                            {"scopes", &w.scopes},
                            {"rounds", &w.rounds},
                            {"concurrent-percent", &percent}}) {
    auto value = args->count(name, *slot);
    if (!value) return value.error();
    *slot = value.value();
  }
  auto seed = args->count("seed", w.seed);
  if (!seed) return seed.error();
  w.seed = seed.value();
  w.concurrent = double(percent) / 100.0;
  options.libraries = !args->has("tutelle-only");
  options.keep = args->has("keep");
  return options;
}

std::size_t heap_in_use() {
  return mallinfo2().uordblks;
}

struct TutelleFigures {
  double merge_seconds = 0;     // best of three, decode and merge
  double verified_seconds = 0;  // decode, verify the signature, merge
  double store_seconds = 0;     // into LMDB
  double encode_seconds = 0;    // encode_changeset_body of every changeset
  std::size_t signed_bytes = 0;
  std::size_t body_bytes = 0;
  std::size_t memory_bytes = 0;  // heap of the merged in-memory replica
  std::size_t store_record_bytes = 0;
  std::size_t store_file_bytes = 0;
  std::size_t tombstones = 0;
};

// Decodes and merges every changeset into `replica`; `verify`: checks each signature first.
Status merge_all(const Workload& workload, conflict::MemoryReplica& replica, bool verify) {
  for (const auto& written : workload.changesets) {
    Result<Changeset> changeset = [&]() -> Result<Changeset> {
      if (verify) {
        auto verified = identity::verify_changeset(written.signed_bytes);
        if (!verified) return verified.error();
        return std::move(verified->changeset);
      }
      auto envelope = decode_signed(written.signed_bytes);
      if (!envelope) return envelope.error();
      return decode_changeset_body(envelope->body);
    }();
    if (!changeset) return changeset.error();
    auto applied = replica.apply(changeset.value());
    if (!applied) return applied.error();
  }
  return {};
}

Status merge_in_memory(const Workload& workload, TutelleFigures& figures) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::size_t before = heap_in_use();
    auto replica = std::make_unique<conflict::MemoryReplica>();
    Stopwatch clock;
    Status merged = merge_all(workload, *replica, false);
    if (!merged) return merged;
    double seconds = clock.seconds();
    if (attempt == 0 || seconds < figures.merge_seconds) figures.merge_seconds = seconds;
    figures.memory_bytes = heap_in_use() - before;
    figures.tombstones = replica->tombstones().size();
    if (replica->encoded() != workload.state) {
      return make_error(ErrorCode::internal, "the merged replica differs from the workload's");
    }
  }
  conflict::MemoryReplica verified;
  Stopwatch clock;
  Status merged = merge_all(workload, verified, true);
  if (!merged) return merged;
  figures.verified_seconds = clock.seconds();
  return {};
}

Status merge_into_store(const Workload& workload, const std::filesystem::path& dir,
                        TutelleFigures& figures) {
  std::filesystem::create_directories(dir);
  store::EnvironmentOptions options;
  options.durable = false;
  auto replica = store::Replica::open(dir, options);
  if (!replica) return replica.error();
  Stopwatch clock;
  for (std::size_t at = 0; at < workload.changesets.size();) {
    auto writer = replica.value()->begin_write();
    if (!writer) return writer.error();
    for (std::size_t n = 0; n < kChangesetsPerTransaction && at < workload.changesets.size();
         ++n, ++at) {
      const auto& written = workload.changesets[at];
      auto envelope = decode_signed(written.signed_bytes);
      if (!envelope) return envelope.error();
      auto changeset = decode_changeset_body(envelope->body);
      if (!changeset) return changeset.error();
      auto applied = writer->apply(changeset.value(), written.signed_bytes,
                                   blake2b_256(envelope->body), false);
      if (!applied) return applied.error();
    }
    Status committed = writer->commit();
    if (!committed) return committed;
  }
  figures.store_seconds = clock.seconds();

  auto txn = replica.value()->begin_read();
  if (!txn) return txn.error();
  Status scanned = txn->scan(replica.value()->table("records"), "",
                             [&](std::string_view key, std::string_view value) {
                               figures.store_record_bytes += key.size() + value.size();
                               return true;
                             });
  if (!scanned) return scanned;
  std::error_code ec;
  figures.store_file_bytes = std::filesystem::file_size(dir / "data.mdb", ec);
  return {};
}

struct LibraryFigures {
  std::string name;
  std::string version;
  double merge_seconds = 0;
  double generate_seconds = 0;
  std::size_t update_bytes = 0;
  std::size_t document_bytes = 0;
  std::size_t memory_bytes = 0;
  long peak_rss_kib = 0;
};

Result<json> run_script(const std::vector<std::string>& words, const std::filesystem::path& dir,
                        const std::string& name, long* peak_rss_kib) {
  std::vector<std::string> argv = {"/usr/bin/env", "node", "--expose-gc",
                                   std::string(TUTELLE_CRDT_DIR) + "/merge.mjs"};
  argv.insert(argv.end(), words.begin(), words.end());
  auto ran = run_child(argv, dir / (name + ".out"), dir / (name + ".err"));
  if (!ran) return ran.error();
  if (ran->exit_code != 0) {
    return make_error(ErrorCode::internal, "merge.mjs " + words[0] + " " + words[1] + " exited " +
                                               std::to_string(ran->exit_code) + ": " +
                                               file_head(dir / (name + ".err")));
  }
  if (peak_rss_kib != nullptr) *peak_rss_kib = ran->peak_rss_kib;
  json result = json::parse(file_head(dir / (name + ".out")), nullptr, false);
  if (result.is_discarded()) return make_error(ErrorCode::internal, "merge.mjs printed no JSON");
  return result;
}

Result<LibraryFigures> run_library(const std::string& library, const Workload& workload,
                                   const std::filesystem::path& dir) {
  std::string updates = (dir / (library + ".updates")).string();
  auto generated = run_script({"generate", library, (dir / "workload.txt").string(), updates}, dir,
                              library + "-generate", nullptr);
  if (!generated) return generated.error();
  LibraryFigures figures;
  auto merged = run_script({"merge", library, updates, std::to_string(workload.records.size())},
                           dir, library + "-merge", &figures.peak_rss_kib);
  if (!merged) return merged.error();
  figures.name = library;
  figures.version = merged.value()["version"];
  figures.merge_seconds = merged.value()["merge_seconds"];
  figures.generate_seconds = generated.value()["generate_seconds"];
  figures.update_bytes = generated.value()["update_bytes"];
  figures.document_bytes = merged.value()["document_bytes"];
  figures.memory_bytes = merged.value()["memory_bytes"];
  return figures;
}

// ---- The report.

const char* verdict(bool met) {
  return met ? "ok" : "MISSED";
}

void print_report(const Options& options, const Workload& workload, const TutelleFigures& tutelle,
                  const std::vector<LibraryFigures>& libraries) {
  double ops = double(workload.operations);
  double records = double(workload.records.size());
  double rate = ops / tutelle.merge_seconds;
  double bytes_per_op = double(tutelle.signed_bytes) / ops;
  double memory = double(tutelle.memory_bytes) / records;
  const WorkloadOptions& w = options.workload;
  std::cout << "\n== Tutelle merge against Yjs and Automerge: " << grouped(ops) << " operations ("
            << fixed(100.0 * double(workload.concurrent) / ops, 1) << "% concurrent writes) from "
            << w.replicas << " replicas, " << grouped(records) << " records, " << w.rounds
            << " rounds, " << grouped(double(workload.changesets.size())) << " changesets ==\n";
  std::printf("%-22s %14s %12s %16s\n", "", "merge ops/s", "bytes/op", "memory/record");
  std::printf("%-22s %14s %12s %14s B\n", "Tutelle", grouped(rate).c_str(),
              fixed(bytes_per_op, 1).c_str(), grouped(memory).c_str());
  for (const auto& lib : libraries) {
    std::string name = lib.name + " " + lib.version;
    std::printf("%-22s %14s %12s %14s B\n", name.c_str(), grouped(ops / lib.merge_seconds).c_str(),
                fixed(double(lib.update_bytes) / ops, 1).c_str(),
                grouped(double(lib.memory_bytes) / records).c_str());
  }
  for (const auto& lib : libraries) {
    double merge_ratio = rate / (ops / lib.merge_seconds);
    double bytes_ratio = bytes_per_op / (double(lib.update_bytes) / ops);
    double memory_ratio = memory / (double(lib.memory_bytes) / records);
    std::cout << "against " << lib.name << ": merge ×" << fixed(merge_ratio) << ", bytes/op ×"
              << fixed(bytes_ratio) << ", memory/record ×" << fixed(memory_ratio);
    if (lib.name == "yjs") {
      std::cout << " (aims: merge ≥ ×" << fixed(kAimMergeRatio, 0) << ": "
                << verdict(merge_ratio >= kAimMergeRatio)
                << "; memory < ×1: " << verdict(memory_ratio < 1) << ")";
    } else {
      std::cout << " (aims: bytes/op ≤ ×1: " << verdict(bytes_ratio <= 1)
                << "; memory < ×1: " << verdict(memory_ratio < 1) << ")";
    }
    std::cout << "\n";
  }
  std::cout << "details\n"
            << "  Tutelle merge  " << fixed(tutelle.merge_seconds, 2)
            << " s in memory (best of 3); " << grouped(ops / tutelle.verified_seconds)
            << " ops/s verifying each signature; " << grouped(ops / tutelle.store_seconds)
            << " ops/s into LMDB (" << kChangesetsPerTransaction << " changesets a transaction)\n"
            << "  Tutelle bytes  " << grouped(double(tutelle.signed_bytes)) << " signed ("
            << fixed(double(tutelle.body_bytes) / ops, 1) << " B/op of bodies, the rest keys and "
            << "signatures); bodies encoded at " << grouped(ops / tutelle.encode_seconds)
            << " ops/s\n"
            << "  Tutelle state  " << grouped(double(workload.conflicts)) << " conflicting fields, "
            << tutelle.tombstones << " tombstones; store records "
            << grouped(double(tutelle.store_record_bytes) / records) << " B/record, data.mdb "
            << grouped(double(tutelle.store_file_bytes) / 1048576.0)
            << " MB with every changeset\n";
  for (const auto& lib : libraries) {
    std::cout << "  " << lib.name << "  merge " << fixed(lib.merge_seconds, 2) << " s; updates "
              << grouped(double(lib.update_bytes)) << " B; document "
              << fixed(double(lib.document_bytes) / ops, 1) << " B/op saved; replay of the "
              << "workload " << fixed(lib.generate_seconds, 0) << " s; merge process peak RSS "
              << grouped(double(lib.peak_rss_kib) / 1024.0) << " MB\n";
  }
}

Status run(const Options& options) {
  auto scratch = scratch_directory("tutelle-bench-crdt", options.keep);
  if (!scratch) return scratch.error();

  Stopwatch generating;
  auto workload = generate_workload(options.workload);
  if (!workload) return workload.error();
  std::cout << "workload generated in " << fixed(generating.seconds(), 1) << " s\n";
  {
    std::ofstream out(scratch->path() / "workload.txt");
    write_workload_text(workload.value(), out);
  }

  TutelleFigures tutelle;
  Stopwatch encoding;
  for (const auto& written : workload->changesets) {
    tutelle.body_bytes += encode_changeset_body(written.changeset).size();
  }
  tutelle.encode_seconds = encoding.seconds();
  for (const auto& written : workload->changesets)
    tutelle.signed_bytes += written.signed_bytes.size();
  Status merged = merge_in_memory(workload.value(), tutelle);
  if (!merged) return merged;
  Status stored = merge_into_store(workload.value(), scratch->path() / "store", tutelle);
  if (!stored) return stored;

  std::vector<LibraryFigures> libraries;
  bool installed = std::filesystem::exists(std::string(TUTELLE_CRDT_DIR) + "/node_modules/yjs");
  if (options.libraries && !installed) {
    std::cout << "Yjs and Automerge are not installed (npm install --prefix bench/crdt): "
                 "Tutelle's figures only\n";
  }
  for (const char* library : {"yjs", "automerge"}) {
    if (!options.libraries || !installed) break;
    std::cout << "replaying the workload with " << library << "…\n" << std::flush;
    auto figures = run_library(library, workload.value(), scratch->path());
    if (!figures) return figures.error();
    libraries.push_back(figures.value());
  }
  print_report(options, workload.value(), tutelle, libraries);
  return {};
}

}  // namespace

}  // namespace tutelle::bench

int main(int argc, char** argv) {
  using namespace tutelle::bench;
  return bench_main("bench_crdt",
                    "[--operations N] [--replicas N] [--records N] [--scopes N] [--rounds N] "
                    "[--concurrent-percent N] [--seed N] [--tutelle-only] [--keep]",
                    parse_options(argc, argv), run);
}
