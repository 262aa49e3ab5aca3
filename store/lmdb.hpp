#pragma once
// A thin, error-as-value layer over LMDB: an environment with named tables, read and write
// transactions, and ordered scans. Every LMDB failure becomes an Error naming the operation and
// the table; a full map becomes ErrorCode::map_full with what to do about it.
//
// Thread-safety: an Environment may be shared by threads; a Txn belongs to the thread that
// began it. Only one write transaction is open at a time (LMDB serialises writers).

#include <lmdb.h>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/result.hpp"

namespace tutelle::store {

struct EnvironmentOptions {
  // Bytes; the store refuses to grow past it. The map only reserves address space, so the
  // default is generous.
  std::size_t map_size = std::size_t{64} << 30;
  bool durable = true;  // false: commits skip fsync (bulk loads that a caller re-runs on crash)
  bool read_only = false;
  // false: commits sync the data but not the meta page (MDB_NOMETASYNC): a machine crash may
  // undo the last transaction, never corrupt the store. For bulk imports that sync at the end.
  bool meta_sync = true;
};

// A named table of an Environment. Cheap to copy; valid while its Environment lives.
struct Table {
  MDB_dbi dbi = 0;
  std::string name;
};

// Turns an LMDB return code into an Error naming `operation` and `object`.
Error lmdb_error(int rc, std::string_view operation, std::string_view object,
                 std::size_t map_size = 0);

class Txn;

class Environment {
 public:
  // Opens (creating if needed) the store in `dir` with the given tables.
  static Result<std::unique_ptr<Environment>> open(const std::filesystem::path& dir,
                                                   const std::vector<std::string>& tables,
                                                   EnvironmentOptions options = {});
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  // REQUIRES: `name` was given to open().
  const Table& table(const std::string& name) const;

  Result<Txn> begin_write();
  Result<Txn> begin_read() const;

  // Forces buffered commits to disk (useful after non-durable bulk loads).
  Status sync();
  // Writes a compacted copy of the store, live pages only (what freed pages held is not
  // copied), as `to`/data.mdb; the caller syncs it. REQUIRES: `to` exists, without data.mdb.
  Status copy_compact(const std::filesystem::path& to) const;

  std::size_t map_size() const { return options_.map_size; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  Environment() = default;

  MDB_env* env_ = nullptr;
  std::filesystem::path dir_;
  EnvironmentOptions options_;
  std::map<std::string, Table> tables_;
};

// A transaction. A write Txn that is destroyed without commit() is aborted: nothing it wrote
// survives. Views returned by get() and scans are valid until the Txn ends or writes again.
class Txn {
 public:
  Txn(Txn&& other) noexcept;
  Txn& operator=(Txn&& other) noexcept;
  ~Txn();

  Result<std::optional<std::string_view>> get(const Table& table, std::string_view key) const;
  Status put(const Table& table, std::string_view key, std::string_view value);
  // Returns true if the key existed.
  Result<bool> erase(const Table& table, std::string_view key);

  // Calls `visit(key, value)` for each key starting with `prefix`, in key order, until it
  // returns false.
  Status scan(const Table& table, std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& visit) const;
  // Calls `visit(key, value)` for each key from `start` on, in key order, until it returns
  // false.
  Status scan_from(const Table& table, std::string_view start,
                   const std::function<bool(std::string_view, std::string_view)>& visit) const;
  // The last key of the table with that prefix, if any.
  Result<std::optional<std::string>> last_key(const Table& table, std::string_view prefix) const;
  Result<std::size_t> count(const Table& table) const;
  // Removes every key of the table.
  Status clear(const Table& table);

  Status commit();
  void abort();

  bool writable() const { return writable_; }

 private:
  friend class Environment;
  Txn(MDB_txn* txn, bool writable, std::size_t map_size)
      : txn_(txn), writable_(writable), map_size_(map_size) {}

  MDB_txn* txn_ = nullptr;
  bool writable_ = false;
  std::size_t map_size_ = 0;
};

// Big-endian encodings, so that integer keys sort in numeric order.
std::string encode_u64(std::uint64_t value);
std::uint64_t decode_u64(std::string_view bytes);

}  // namespace tutelle::store
