#include "node/outbox_watch.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>

#include "net/log.hpp"

namespace tutelle::node {

namespace asio = boost::asio;

std::filesystem::path outbox_signal_file(const std::filesystem::path& dir) {
  return dir / "outbox.changed";
}

Status notify_outbox(const std::filesystem::path& dir) {
  std::filesystem::path file = outbox_signal_file(dir);
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return system_call_error("open", file);
  // One byte rewritten in place: an IN_MODIFY event, and a file that never grows.
  bool written = ::pwrite(fd, "\n", 1, 0) == 1;
  Status status = written ? Status{} : Status(system_call_error("write", file));
  ::close(fd);
  return status;
}

Result<std::unique_ptr<OutboxWatch>> OutboxWatch::open(const asio::any_io_executor& executor,
                                                       const std::filesystem::path& dir) {
  std::filesystem::path file = outbox_signal_file(dir);
  int created = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (created < 0) return system_call_error("open", file);
  ::close(created);

  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd >= 0 && ::inotify_add_watch(fd, file.c_str(), IN_MODIFY) >= 0) {
    return std::unique_ptr<OutboxWatch>(
        new OutboxWatch(asio::posix::stream_descriptor(executor, fd)));
  }
  log::warning("node", system_call_error("watch", file).message +
                           "; commits of other processes will be pushed within the fallback delay");
  if (fd >= 0) ::close(fd);

  // A descriptor that never becomes readable: wait() then ends by poke() or the fallback.
  int never = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (never < 0) return system_call_error("eventfd beside", file);
  return std::unique_ptr<OutboxWatch>(
      new OutboxWatch(asio::posix::stream_descriptor(executor, never)));
}

bool OutboxWatch::drain() {
  alignas(inotify_event) std::array<char, 4096> events{};
  bool any = false;
  for (;;) {
    ssize_t got = ::read(descriptor_.native_handle(), events.data(), events.size());
    if (got > 0) {
      any = true;
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    return any;  // EAGAIN: nothing more for now
  }
}

asio::awaitable<void> OutboxWatch::wait(std::chrono::milliseconds fallback) {
  if (poked_ || drain()) {
    poked_ = false;
    co_return;
  }

  // `finished` keeps a timer handler already queued from cancelling a later wait, or touching
  // a watch gone by the time it runs.
  struct Race {
    bool finished = false;
  };
  auto race = std::make_shared<Race>();
  asio::steady_timer timer(descriptor_.get_executor(), fallback);
  timer.async_wait([race, this](const boost::system::error_code& ec) {
    if (ec || race->finished) return;
    descriptor_.cancel();
  });
  boost::system::error_code ignored;
  co_await descriptor_.async_wait(asio::posix::stream_descriptor::wait_read,
                                  asio::redirect_error(asio::use_awaitable, ignored));
  race->finished = true;
  timer.cancel();
  poked_ = false;
  drain();
}

void OutboxWatch::poke() {
  poked_ = true;
  boost::system::error_code ignored;
  descriptor_.cancel(ignored);
}

}  // namespace tutelle::node
