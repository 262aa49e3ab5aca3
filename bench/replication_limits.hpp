#pragma once
// What bench_replication measures its figures against, on the same machine in the same run:
// the libsodium Ed25519 verification rate on one core, the raw LMDB put rate, and PouchDB
// replicating between two LevelDB databases (bench/pouchdb/replicate.js).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "protocol/result.hpp"

namespace tutelle::bench {

struct VerifyLimit {
  std::size_t verified = 0;
  double seconds = 0;                // wall time of crypto_sign_verify_detached alone
  double cpu_seconds = 0;            // the same, CPU time of this thread: one core's work
  double mean_message_bytes = 0;     // context, a zero byte and a changeset body
  double changeset_cpu_seconds = 0;  // identity::verify_changeset of the same changesets
};

// On this thread alone: crypto_sign_verify_detached of one message of each changeset's size
// (its body after the signature context, signed beforehand with a fresh key), then
// identity::verify_changeset of each changeset as it is (decoding, hash, signature: the hub's
// check). Rates per core are verified / CPU seconds: on a busy machine the wall time also counts
// the time other processes had the core. Error corrupt if one does not verify.
Result<VerifyLimit> measure_verify_limit(const std::vector<std::string>& signed_changesets);

struct PutLimit {
  std::size_t puts = 0;
  std::size_t per_txn = 0;
  double seconds = 0;
  double mean_value_bytes = 0;
};

// Puts one random key for each entry of `value_sizes`, a value of that size, into a fresh LMDB
// environment at `dir` with LMDB's default (synchronous) commits, `per_txn` puts a transaction.
Result<PutLimit> measure_raw_lmdb_puts(const std::filesystem::path& dir,
                                       const std::vector<std::size_t>& value_sizes,
                                       std::size_t per_txn);

struct PouchDbRun {
  std::size_t docs = 0;
  double replicate_seconds = 0;
  double docs_per_second = 0;
  std::string versions;  // "pouchdb 9.0.0, adapter leveldb, node v20…"
};

// Runs `node replicate.js --docs N` from `script_dir` with its databases under `work_dir`.
// nullopt, with a note on stderr, when the script's node_modules is not installed (bench/run.sh
// installs it).
Result<std::optional<PouchDbRun>> run_pouchdb(const std::filesystem::path& script_dir,
                                              std::size_t docs,
                                              const std::filesystem::path& work_dir);

}  // namespace tutelle::bench
