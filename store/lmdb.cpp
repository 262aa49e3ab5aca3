#include "store/lmdb.hpp"

#include <sys/stat.h>

#include <stdexcept>

namespace tutelle::store {

namespace {

MDB_val to_val(std::string_view bytes) {
  return MDB_val{bytes.size(), const_cast<char*>(bytes.data())};
}

std::string_view from_val(const MDB_val& val) {
  return {static_cast<const char*>(val.mv_data), val.mv_size};
}

}  // namespace

Error lmdb_error(int rc, std::string_view operation, std::string_view object,
                 std::size_t map_size) {
  std::string where = std::string(operation) + " " + std::string(object);
  if (rc == MDB_MAP_FULL) {
    return make_error(ErrorCode::map_full,
                      where + ": the store is full (map size " + std::to_string(map_size >> 20) +
                          " MiB); nothing was written. Re-run with a larger --map-size.");
  }
  return make_error(ErrorCode::storage, where + ": " + mdb_strerror(rc));
}

Result<std::unique_ptr<Environment>> Environment::open(const std::filesystem::path& dir,
                                                       const std::vector<std::string>& tables,
                                                       EnvironmentOptions options) {
  std::unique_ptr<Environment> env(new Environment());
  env->dir_ = dir;
  env->options_ = options;

  int rc = mdb_env_create(&env->env_);
  if (rc != 0) return lmdb_error(rc, "create environment", dir.string());
  mdb_env_set_maxdbs(env->env_, static_cast<MDB_dbi>(tables.size() + 1));
  rc = mdb_env_set_mapsize(env->env_, options.map_size);
  if (rc != 0) return lmdb_error(rc, "set map size of", dir.string());

  unsigned flags = MDB_NOTLS;
  if (!options.durable) flags |= MDB_NOSYNC;
  if (options.durable && !options.meta_sync) flags |= MDB_NOMETASYNC;
  if (options.read_only) flags |= MDB_RDONLY;
  rc = mdb_env_open(env->env_, dir.c_str(), flags, 0600);
  if (rc != 0) return lmdb_error(rc, "open store in", dir.string());

  MDB_txn* txn = nullptr;
  rc = mdb_txn_begin(env->env_, nullptr, options.read_only ? MDB_RDONLY : 0, &txn);
  if (rc != 0) return lmdb_error(rc, "begin opening tables of", dir.string());
  for (const auto& name : tables) {
    MDB_dbi dbi = 0;
    rc = mdb_dbi_open(txn, name.c_str(), options.read_only ? 0 : MDB_CREATE, &dbi);
    if (rc != 0) {
      mdb_txn_abort(txn);
      return lmdb_error(rc, "open table", name, options.map_size);
    }
    env->tables_[name] = Table{dbi, name};
  }
  rc = mdb_txn_commit(txn);
  if (rc != 0) return lmdb_error(rc, "commit opening tables of", dir.string(), options.map_size);
  return env;
}

Environment::~Environment() {
  if (env_ != nullptr) mdb_env_close(env_);
}

const Table& Environment::table(const std::string& name) const {
  auto found = tables_.find(name);
  if (found == tables_.end()) throw std::logic_error("store: no table named " + name);
  return found->second;
}

Result<Txn> Environment::begin_write() {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
  if (rc != 0) return lmdb_error(rc, "begin write transaction in", dir_.string());
  return Txn(txn, true, options_.map_size);
}

Result<Txn> Environment::begin_read() const {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  if (rc != 0) return lmdb_error(rc, "begin read transaction in", dir_.string());
  return Txn(txn, false, options_.map_size);
}

Status Environment::sync() {
  int rc = mdb_env_sync(env_, 1);
  if (rc != 0) return lmdb_error(rc, "sync", dir_.string());
  return {};
}

Status Environment::copy_compact(const std::filesystem::path& to) const {
  int rc = mdb_env_copy2(env_, to.c_str(), MDB_CP_COMPACT);
  if (rc != 0) return lmdb_error(rc, "compacting copy to " + to.string(), dir_.string());
  return {};
}

Txn::Txn(Txn&& other) noexcept
    : txn_(other.txn_), writable_(other.writable_), map_size_(other.map_size_) {
  other.txn_ = nullptr;
}

Txn& Txn::operator=(Txn&& other) noexcept {
  if (this != &other) {
    abort();
    txn_ = other.txn_;
    writable_ = other.writable_;
    map_size_ = other.map_size_;
    other.txn_ = nullptr;
  }
  return *this;
}

Txn::~Txn() {
  abort();
}

void Txn::abort() {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
  txn_ = nullptr;
}

Result<std::optional<std::string_view>> Txn::get(const Table& table, std::string_view key) const {
  MDB_val k = to_val(key);
  MDB_val v{};
  int rc = mdb_get(txn_, table.dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string_view>();
  if (rc != 0) return lmdb_error(rc, "read from", table.name);
  return std::optional<std::string_view>(from_val(v));
}

Status Txn::put(const Table& table, std::string_view key, std::string_view value) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  int rc = mdb_put(txn_, table.dbi, &k, &v, 0);
  if (rc != 0) return lmdb_error(rc, "write to", table.name, map_size_);
  return {};
}

Result<bool> Txn::erase(const Table& table, std::string_view key) {
  MDB_val k = to_val(key);
  int rc = mdb_del(txn_, table.dbi, &k, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  if (rc != 0) return lmdb_error(rc, "delete from", table.name, map_size_);
  return true;
}

Status Txn::scan(const Table& table, std::string_view prefix,
                 const std::function<bool(std::string_view, std::string_view)>& visit) const {
  MDB_cursor* cursor = nullptr;
  int rc = mdb_cursor_open(txn_, table.dbi, &cursor);
  if (rc != 0) return lmdb_error(rc, "open cursor on", table.name);

  MDB_val k = to_val(prefix);
  MDB_val v{};
  rc = mdb_cursor_get(cursor, &k, &v, prefix.empty() ? MDB_FIRST : MDB_SET_RANGE);
  while (rc == 0) {
    std::string_view key = from_val(k);
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!visit(key, from_val(v))) break;
    rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
  }
  mdb_cursor_close(cursor);
  if (rc != 0 && rc != MDB_NOTFOUND) return lmdb_error(rc, "scan", table.name);
  return {};
}

Status Txn::scan_from(const Table& table, std::string_view start,
                      const std::function<bool(std::string_view, std::string_view)>& visit) const {
  MDB_cursor* cursor = nullptr;
  int rc = mdb_cursor_open(txn_, table.dbi, &cursor);
  if (rc != 0) return lmdb_error(rc, "open cursor on", table.name);
  MDB_val k = to_val(start);
  MDB_val v{};
  rc = mdb_cursor_get(cursor, &k, &v, start.empty() ? MDB_FIRST : MDB_SET_RANGE);
  while (rc == 0 && visit(from_val(k), from_val(v))) {
    rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
  }
  mdb_cursor_close(cursor);
  if (rc != 0 && rc != MDB_NOTFOUND) return lmdb_error(rc, "scan", table.name);
  return {};
}

Result<std::optional<std::string>> Txn::last_key(const Table& table,
                                                 std::string_view prefix) const {
  if (prefix.empty()) {
    MDB_cursor* cursor = nullptr;
    int rc = mdb_cursor_open(txn_, table.dbi, &cursor);
    if (rc != 0) return lmdb_error(rc, "open cursor on", table.name);
    MDB_val k{};
    MDB_val v{};
    rc = mdb_cursor_get(cursor, &k, &v, MDB_LAST);
    std::optional<std::string> last;
    if (rc == 0) last = std::string(from_val(k));
    mdb_cursor_close(cursor);
    if (rc != 0 && rc != MDB_NOTFOUND) return lmdb_error(rc, "read the last key of", table.name);
    return last;
  }
  std::optional<std::string> last;
  Status scanned = scan(table, prefix, [&](std::string_view key, std::string_view) {
    last = std::string(key);
    return true;
  });
  if (!scanned) return scanned.error();
  return last;
}

Result<std::size_t> Txn::count(const Table& table) const {
  MDB_stat stat{};
  int rc = mdb_stat(txn_, table.dbi, &stat);
  if (rc != 0) return lmdb_error(rc, "count", table.name);
  return static_cast<std::size_t>(stat.ms_entries);
}

Status Txn::clear(const Table& table) {
  int rc = mdb_drop(txn_, table.dbi, 0);
  if (rc != 0) return lmdb_error(rc, "clear", table.name, map_size_);
  return {};
}

Status Txn::commit() {
  if (txn_ == nullptr) return make_error(ErrorCode::internal, "commit of an ended transaction");
  int rc = mdb_txn_commit(txn_);
  txn_ = nullptr;
  if (rc != 0) return lmdb_error(rc, "commit", "transaction", map_size_);
  return {};
}

std::string encode_u64(std::uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

std::uint64_t decode_u64(std::string_view bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < 8 && i < bytes.size(); ++i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return value;
}

}  // namespace tutelle::store
