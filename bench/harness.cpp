#include "bench/harness.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

extern char** environ;

namespace tutelle::bench {

namespace {

Error system_error(int err, const std::string& what) {
  return make_error(ErrorCode::storage, what + ": " + std::strerror(err));
}

// The number on the line `name:` of a /proc file, or 0 when it cannot be read (a process may
// have exited between two samples).
long long proc_value(const std::string& file, const std::string& name) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, name.size(), name) == 0 && line.size() > name.size() &&
        line[name.size()] == ':') {
      return std::atoll(line.c_str() + name.size() + 1);
    }
  }
  return 0;
}

long status_kib(pid_t pid, const std::string& name) {
  return static_cast<long>(proc_value("/proc/" + std::to_string(pid) + "/status", name));
}

double seconds_of(const timeval& time) {
  return double(time.tv_sec) + double(time.tv_usec) / 1e6;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Waits for `pid`, sampling its resident memory and its writes meanwhile. A 20 ms period costs
// nothing measurable and catches any peak that lasts longer than a few batches.
Status wait_measuring(pid_t pid, ChildRun& run) {
  constexpr auto kPeriod = std::chrono::milliseconds(20);
  for (;;) {
    int status = 0;
    rusage usage{};
    pid_t done = ::wait4(pid, &status, WNOHANG, &usage);
    if (done == pid) {
      record_exit(status, usage, run);
      return {};
    }
    if (done < 0 && errno != EINTR) return system_error(errno, "wait4");
    run.peak_anon_kib = std::max(run.peak_anon_kib, status_kib(pid, "RssAnon"));
    run.peak_file_kib = std::max(run.peak_file_kib, status_kib(pid, "RssFile"));
    auto wrote = proc_value("/proc/" + std::to_string(pid) + "/io", "wchar");
    run.written_bytes = std::max(run.written_bytes, static_cast<std::uint64_t>(wrote));
    std::this_thread::sleep_for(kPeriod);
  }
}

}  // namespace

Result<TempDir> TempDir::create(const std::string& prefix) {
  std::string pattern = "/tmp/" + prefix + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return system_error(errno, "mkdtemp " + pattern);
  return TempDir(pattern);
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)), keep_(other.keep_) {
  other.path_.clear();
}

TempDir::~TempDir() {
  if (path_.empty() || keep_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  if (ec) {
    std::fprintf(stderr, "bench: cannot remove %s: %s\n", path_.c_str(), ec.message().c_str());
  }
}

Result<pid_t> spawn_child(const std::vector<std::string>& argv,
                          const std::filesystem::path& stdout_file,
                          const std::filesystem::path& stderr_file) {
  std::vector<char*> words;
  for (const auto& word : argv) words.push_back(const_cast<char*>(word.c_str()));
  words.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  constexpr int kFlags = O_WRONLY | O_CREAT | O_TRUNC;
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_file.c_str(), kFlags, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_file.c_str(), kFlags, 0644);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, words[0], &actions, nullptr, words.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return system_error(rc, "spawn " + argv[0]);
  return pid;
}

void record_exit(int status, const rusage& usage, ChildRun& run) {
  run.exit_code = exit_code_of(status);
  run.peak_rss_kib = usage.ru_maxrss;
  run.user_seconds = seconds_of(usage.ru_utime);
  run.system_seconds = seconds_of(usage.ru_stime);
}

Result<ChildRun> run_child(const std::vector<std::string>& argv,
                           const std::filesystem::path& stdout_file,
                           const std::filesystem::path& stderr_file) {
  ChildRun run;
  Stopwatch clock;
  auto pid = spawn_child(argv, stdout_file, stderr_file);
  if (!pid) return pid.error();
  Status waited = wait_measuring(pid.value(), run);
  if (!waited) return waited.error();
  run.seconds = clock.seconds();
  return run;
}

Result<TempDir> scratch_directory(const std::string& prefix, bool keep) {
  auto scratch = TempDir::create(prefix);
  if (!scratch) return scratch;
  if (keep) scratch->keep();
  std::cout << "scratch directory " << scratch->path().string() << "\n";
  return scratch;
}

std::uint64_t own_written_bytes() {
  return static_cast<std::uint64_t>(proc_value("/proc/self/io", "wchar"));
}

std::string file_head(const std::filesystem::path& file, std::size_t max_bytes) {
  std::ifstream in(file, std::ios::binary);
  std::string text(max_bytes, '\0');
  in.read(text.data(), static_cast<std::streamsize>(max_bytes));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

std::string grouped(double value) {
  auto whole = static_cast<long long>(std::llround(value));
  std::string digits = std::to_string(whole < 0 ? -whole : whole);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return whole < 0 ? "-" + out : out;
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

int options_refused(const std::string& program, const Error& error, const std::string& usage) {
  std::cerr << program << ": " << error.message << "\nusage: " << program << " " << usage << "\n";
  return 2;
}

int exit_status(const std::string& program, const Status& ran) {
  if (ran) return 0;
  std::cerr << program << ": " << ran.error().message << "\n";
  return 1;
}

}  // namespace tutelle::bench
