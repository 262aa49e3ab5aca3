#pragma once
// What every benchmark program needs: a scratch directory, a wall clock, child processes whose
// peak memory is measured, and figures printed the way people read them.

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "protocol/result.hpp"

namespace tutelle::bench {

// A fresh directory under /tmp, removed with everything in it when the TempDir is destroyed
// (unless keep() was called). Move-only.
class TempDir {
 public:
  static Result<TempDir> create(const std::string& prefix);
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir();

  const std::filesystem::path& path() const { return path_; }
  void keep() { keep_ = true; }

 private:
  explicit TempDir(std::filesystem::path path) : path_(std::move(path)) {}

  std::filesystem::path path_;
  bool keep_ = false;
};

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// How a child process ran. Memory in KiB.
struct ChildRun {
  int exit_code = -1;         // the exit status, or 128 + the signal that ended it
  double seconds = 0;         // wall time from spawn to exit
  long peak_rss_kib = 0;      // ru_maxrss from wait4(): anonymous and file-backed pages
  long peak_anon_kib = 0;     // the largest RssAnon seen in /proc/PID/status (sampled)
  long peak_file_kib = 0;     // the largest RssFile seen: the mapped store, mostly
  double user_seconds = 0;    // CPU time in the process
  double system_seconds = 0;  // CPU time in the kernel on its behalf (writes, page faults)
  // Bytes passed to write calls (wchar of /proc/PID/io, sampled: the last 20 ms may be
  // missing). Not ru_oublock: with large page-cache folios the kernel counts a whole folio
  // (up to 1 MiB here) for each 4 KiB page LMDB rewrites, and writes back far less.
  std::uint64_t written_bytes = 0;
};

// Starts `argv` (argv[0] a path) with stdout and stderr sent to the given files (created or
// truncated) and returns its pid at once. The caller must reap it.
Result<pid_t> spawn_child(const std::vector<std::string>& argv,
                          const std::filesystem::path& stdout_file,
                          const std::filesystem::path& stderr_file);

// Fills what wait4() tells of an ended child into `run`: exit_code, peak_rss_kib, user_seconds
// and system_seconds. Leaves the other fields alone.
void record_exit(int status, const rusage& usage, ChildRun& run);

// Runs `argv` (argv[0] a path) with stdout and stderr sent to the given files, waits for it and
// measures it. An exit code other than 0 is not an error here; failing to start is.
Result<ChildRun> run_child(const std::vector<std::string>& argv,
                           const std::filesystem::path& stdout_file,
                           const std::filesystem::path& stderr_file);

// The bytes this process has passed to write calls so far (wchar of /proc/self/io), or 0 where
// the kernel does not account them.
std::uint64_t own_written_bytes();

// A TempDir named /tmp/PREFIX-XXXXXX, kept after the run when `keep` is set, announced on stdout
// as "scratch directory PATH".
Result<TempDir> scratch_directory(const std::string& prefix, bool keep);

// The first `max_bytes` of a file, for error messages.
std::string file_head(const std::filesystem::path& file, std::size_t max_bytes = 2000);

// 1234567.8 → "1,234,568".
std::string grouped(double value);
// 0.5312 → "0.53".
std::string fixed(double value, int decimals = 2);

// What a benchmark's main() returns once its options are parsed and, if they were, `run` has run:
// 2 with "PROGRAM: message" and "usage: PROGRAM USAGE" on stderr when the options were refused,
// 1 with "PROGRAM: message" when the run failed, 0 otherwise.
int options_refused(const std::string& program, const Error& error, const std::string& usage);
int exit_status(const std::string& program, const Status& ran);

template <typename Options, typename Run>
int bench_main(const std::string& program, const std::string& usage, const Result<Options>& options,
               Run run) {
  if (!options) return options_refused(program, options.error(), usage);
  return exit_status(program, run(options.value()));
}

}  // namespace tutelle::bench
