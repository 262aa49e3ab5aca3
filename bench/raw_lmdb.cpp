#include "bench/raw_lmdb.hpp"

#include <algorithm>
#include <system_error>

#include "store/lmdb.hpp"

namespace tutelle::bench {

Result<std::unique_ptr<RawStore>> RawStore::open(const std::filesystem::path& dir,
                                                 std::size_t map_size) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::storage, dir.string() + ": " + ec.message());
  std::unique_ptr<RawStore> raw(new RawStore());
  int rc = mdb_env_create(&raw->env_);
  if (rc == 0) rc = mdb_env_set_maxdbs(raw->env_, 1);
  if (rc == 0) rc = mdb_env_set_mapsize(raw->env_, map_size);
  if (rc == 0) rc = mdb_env_open(raw->env_, dir.c_str(), 0, 0600);
  if (rc != 0) return store::lmdb_error(rc, "open raw store in", dir.string());

  MDB_txn* txn = nullptr;
  rc = mdb_txn_begin(raw->env_, nullptr, 0, &txn);
  if (rc == 0) rc = mdb_dbi_open(txn, "records", MDB_CREATE, &raw->dbi_);
  if (rc == 0) rc = mdb_txn_commit(txn);
  if (rc != 0) return store::lmdb_error(rc, "create table records in", dir.string());
  return raw;
}

Status RawStore::put_range(const std::vector<KeyedSize>& entries, std::size_t begin,
                           std::size_t end, const std::string& filler) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
  if (rc != 0) return store::lmdb_error(rc, "begin", "raw transaction");
  for (std::size_t i = begin; i < end && rc == 0; ++i) {
    MDB_val key{entries[i].key.size(), const_cast<char*>(entries[i].key.data())};
    MDB_val value{entries[i].size, const_cast<char*>(filler.data())};
    rc = mdb_put(txn, dbi_, &key, &value, 0);
  }
  if (rc != 0) {
    mdb_txn_abort(txn);
    return store::lmdb_error(rc, "put into", "raw records");
  }
  rc = mdb_txn_commit(txn);
  if (rc != 0) return store::lmdb_error(rc, "commit", "raw transaction");
  return {};
}

Status RawStore::put_all(const std::vector<KeyedSize>& entries, std::size_t per_txn) {
  std::size_t longest = 0;
  for (const auto& entry : entries) longest = std::max(longest, entry.size);
  std::string filler(longest, 'v');
  for (std::size_t begin = 0; begin < entries.size(); begin += per_txn) {
    Status put = put_range(entries, begin, std::min(entries.size(), begin + per_txn), filler);
    if (!put) return put;
  }
  return {};
}

}  // namespace tutelle::bench
