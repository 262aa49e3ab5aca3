#pragma once
// The node's directory lock, and the rewrite of its store that erases at rest what a purge
// removed (LMDB keeps freed pages' bytes in data.mdb until it reuses them).
//
// Every process that opens a node holds a shared lock on DIR/node.lock for as long as it has
// the node open (Node::open and Node::create take it). The rewrite needs the lock alone: it
// runs only when no other process (a `serve`, a command) has the node open, and never while
// this one does.

#include <filesystem>
#include <optional>

#include "protocol/result.hpp"

namespace tutelle::node {

// A flock on DIR/node.lock, released when destroyed. Move-only.
class DirectoryLock {
 public:
  // Waits for no exclusive holder, then holds the lock shared.
  static Result<DirectoryLock> shared(const std::filesystem::path& dir);
  // The lock held exclusively, or nullopt at once when another process holds it.
  static Result<std::optional<DirectoryLock>> exclusive_if_free(const std::filesystem::path& dir);

  DirectoryLock(DirectoryLock&& other) noexcept;
  DirectoryLock& operator=(DirectoryLock&& other) noexcept;
  ~DirectoryLock();

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

enum class Rewrite { not_needed, done, busy };

// When the store of the node in `dir` has a rewrite pending (store::kRewritePending: a purge
// since the last rewrite) or
// `force`, rewrites it: a compacted copy of its live pages replaces data.mdb (renamed over it
// once synced, so a crash leaves the old store or the new one, both whole). `busy` when another
// process has the node open: the rewrite stays pending. REQUIRES: this process does not have
// the node open.
Result<Rewrite> rewrite_store(const std::filesystem::path& dir, bool force = false);

}  // namespace tutelle::node
