#include "node/store_rewrite.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/maintenance.hpp"
#include "store/replica.hpp"

namespace tutelle::node {

namespace {

constexpr const char* kLockFile = "node.lock";
constexpr const char* kStoreDir = "store";
constexpr const char* kRewriteDir = "store.rewrite";

Result<int> open_lock_file(const std::filesystem::path& dir) {
  std::filesystem::path path = dir / kLockFile;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return system_call_error("cannot open", path);
  return fd;
}

Status sync_path(const std::filesystem::path& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return system_call_error("cannot open", path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return system_call_error("cannot sync", path);
  return {};
}

// Writes the compacted copy of `store` into `scratch`, then clears the pending mark in the copy
// (a commit, which syncs it). The store itself is not written. The page the commit frees in the
// copy held only the meta table, the mark's value ("1", no scope's name) included.
Status write_copy(const std::filesystem::path& store, const std::filesystem::path& scratch) {
  {
    auto replica = store::Replica::open(store);
    if (!replica) return replica.error();
    Status copied = replica.value()->env().copy_compact(scratch);
    if (!copied) return copied;
  }
  auto copy = store::Replica::open(scratch);
  if (!copy) return copy.error();
  auto writer = copy.value()->begin_write();
  if (!writer) return writer.error();
  auto erased = writer->txn().erase(copy.value()->table("meta"), store::kRewritePending);
  if (!erased) return erased.error();
  Status committed = writer->commit();
  if (!committed) return committed;
  return copy.value()->env().sync();  // a commit that changed nothing does not sync
}

Result<bool> pending(const std::filesystem::path& store) {
  auto replica = store::Replica::open(store);
  if (!replica) return replica.error();
  auto txn = replica.value()->begin_read();
  if (!txn) return txn.error();
  auto mark = replica.value()->meta(txn.value(), store::kRewritePending);
  if (!mark) return mark.error();
  return mark.value().has_value();
}

}  // namespace

Result<DirectoryLock> DirectoryLock::shared(const std::filesystem::path& dir) {
  auto fd = open_lock_file(dir);
  if (!fd) return fd.error();
  if (::flock(fd.value(), LOCK_SH) != 0) {
    Error error = system_call_error("cannot lock", dir / kLockFile);
    ::close(fd.value());
    return error;
  }
  return DirectoryLock(fd.value());
}

Result<std::optional<DirectoryLock>> DirectoryLock::exclusive_if_free(
    const std::filesystem::path& dir) {
  auto fd = open_lock_file(dir);
  if (!fd) return fd.error();
  if (::flock(fd.value(), LOCK_EX | LOCK_NB) == 0) {
    return std::optional<DirectoryLock>(DirectoryLock(fd.value()));
  }
  int reason = errno;
  ::close(fd.value());
  if (reason == EWOULDBLOCK) return std::optional<DirectoryLock>();
  errno = reason;
  return system_call_error("cannot lock", dir / kLockFile);
}

DirectoryLock::DirectoryLock(DirectoryLock&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

DirectoryLock& DirectoryLock::operator=(DirectoryLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

Result<Rewrite> rewrite_store(const std::filesystem::path& dir, bool force) {
  auto lock = DirectoryLock::exclusive_if_free(dir);
  if (!lock) return lock.error();
  if (!lock.value()) return Rewrite::busy;
  std::filesystem::path store = dir / kStoreDir;
  if (!force) {
    auto needed = pending(store);
    if (!needed) return needed.error();
    if (!needed.value()) return Rewrite::not_needed;
  }

  std::filesystem::path scratch = dir / kRewriteDir;
  std::error_code ec;
  std::filesystem::remove_all(scratch, ec);  // what a crash during an earlier rewrite left
  std::filesystem::create_directory(scratch, ec);
  if (ec) return make_error(ErrorCode::storage, "cannot create " + scratch.string());
  Status written = write_copy(store, scratch);
  if (!written) return written.error().context("rewrite of " + store.string());

  std::filesystem::rename(scratch / "data.mdb", store / "data.mdb", ec);
  if (ec) return make_error(ErrorCode::storage, "cannot replace " + (store / "data.mdb").string());
  Status synced = sync_path(store, O_RDONLY | O_DIRECTORY);
  if (!synced) return synced.error();
  std::filesystem::remove(store / "lock.mdb", ec);  // its reader table named the old file
  std::filesystem::remove_all(scratch, ec);
  return Rewrite::done;
}

}  // namespace tutelle::node
