#pragma once
// How a serving node learns at once that another process of the same node (a `put`, an
// `import`, a `resolve`) added to its outbox: every commit of own changesets then writes a
// byte to DIR/outbox.changed (notify_outbox), and `serve` holds an inotify watch on that file
// (OutboxWatch). The byte is written after the commit, so a wake-up never comes before the
// changesets can be read. Linux only.
//
// Usage, in a coroutine on a single-threaded io_context:
//   auto watch = OutboxWatch::open(co_await this_coro::executor, node.dir());
//   for (;;) { co_await watch->wait(1s); …read the outbox… }
//   …from any other coroutine of that io_context: watch->poke();  // the next wait() ends

#include <chrono>
#include <filesystem>
#include <memory>
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "protocol/result.hpp"

namespace tutelle::node {

// The file that notify_outbox() writes, in a node's data directory.
std::filesystem::path outbox_signal_file(const std::filesystem::path& dir);

// Tells a serving node that the outbox of the node in `dir` grew. Error storage, naming the
// file, when it cannot be written; the commit it follows stands either way.
Status notify_outbox(const std::filesystem::path& dir);

// Not thread-safe: use it from the io_context it was opened on. At most one wait() at a time.
class OutboxWatch {
 public:
  // Creates the signal file if needed and watches it. Without inotify (logged) only poke() and
  // the fallback end a wait. Error storage when the file cannot be created.
  static Result<std::unique_ptr<OutboxWatch>> open(const boost::asio::any_io_executor& executor,
                                                   const std::filesystem::path& dir);

  // Returns once the file was written since the last wait() returned, or poke() was called,
  // or `fallback` has passed (a wake-up inotify missed, a writer that does not notify).
  boost::asio::awaitable<void> wait(std::chrono::milliseconds fallback);

  // Ends the wait in progress, or the next one at once.
  void poke();

 private:
  explicit OutboxWatch(boost::asio::posix::stream_descriptor descriptor)
      : descriptor_(std::move(descriptor)) {}
  // Reads the events waiting, without blocking; true if there were any.
  bool drain();

  boost::asio::posix::stream_descriptor descriptor_;
  bool poked_ = false;
};

}  // namespace tutelle::node
