#pragma once
// A child process left running while a benchmark watches it from outside (a hub, a node that
// serves, a sync whose progress is sampled): its CPU time and its read and write calls read from
// /proc while it runs, then the same ChildRun as run_child() once it has ended.

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/harness.hpp"

namespace tutelle::bench {

// What /proc says of a running process. All zero once it has exited.
struct ProcessCounters {
  double cpu_seconds = 0;           // utime + stime of /proc/PID/stat
  std::uint64_t read_bytes = 0;     // rchar of /proc/PID/io: bytes returned by read calls
  std::uint64_t written_bytes = 0;  // wchar: bytes passed to write calls
};

// Counters of `pid` now; zeros when the process is gone or the kernel does not account them.
ProcessCounters process_counters(pid_t pid);

// Owns a running child. Destroying one that still runs sends it SIGKILL and reaps it, so that a
// failed benchmark leaves no process behind. Move-only.
class BackgroundChild {
 public:
  // Starts `argv` (argv[0] a path) with stdout and stderr sent to the given files.
  static Result<BackgroundChild> spawn(const std::vector<std::string>& argv,
                                       const std::filesystem::path& stdout_file,
                                       const std::filesystem::path& stderr_file);
  BackgroundChild(BackgroundChild&& other) noexcept;
  BackgroundChild& operator=(BackgroundChild&&) = delete;
  ~BackgroundChild();

  pid_t pid() const { return pid_; }
  ProcessCounters counters() const { return process_counters(pid_); }
  // Whether it has exited; reaps it if so (wait() then returns at once).
  bool exited();

  // Waits for it to exit by itself.
  Result<ChildRun> wait();
  // Sends `signal` and waits for it to exit.
  Result<ChildRun> stop(int signal);

 private:
  explicit BackgroundChild(pid_t pid) : pid_(pid) {}
  void reap(int status, const rusage& usage);

  pid_t pid_ = -1;
  Stopwatch clock_;
  bool reaped_ = false;
  ChildRun run_;
};

}  // namespace tutelle::bench
