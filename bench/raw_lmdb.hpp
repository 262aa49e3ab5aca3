#pragma once
// Raw LMDB, with no Tutelle code around the puts: what the benchmarks set a Tutelle write
// against on the same machine.

#include <lmdb.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "protocol/result.hpp"

namespace tutelle::bench {

// A key of the `records` table and the length of its value.
struct KeyedSize {
  std::string key;
  std::size_t size = 0;
};

// A fresh LMDB environment with one named table, opened with LMDB's default flags: commits are
// synchronous, as a durable Tutelle store's are. Closed when destroyed. Not thread-safe.
class RawStore {
 public:
  // Creates `dir` if need be and opens the environment in it, with a map of `map_size` bytes.
  static Result<std::unique_ptr<RawStore>> open(const std::filesystem::path& dir,
                                                std::size_t map_size);
  ~RawStore() {
    if (env_ != nullptr) mdb_env_close(env_);
  }
  RawStore(const RawStore&) = delete;
  RawStore& operator=(const RawStore&) = delete;

  // Puts every entry, `per_txn` to a transaction, values of the entry's size.
  Status put_all(const std::vector<KeyedSize>& entries, std::size_t per_txn);

  // One transaction putting entries [begin, end), each with the first `size` bytes of `filler`.
  // REQUIRES: `filler` at least as long as the longest of them.
  Status put_range(const std::vector<KeyedSize>& entries, std::size_t begin, std::size_t end,
                   const std::string& filler);

 private:
  RawStore() = default;

  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
};

}  // namespace tutelle::bench
