#include "bench/background_child.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tutelle::bench {

namespace {

Error system_error(int err, const std::string& what) {
  return make_error(ErrorCode::internal, what + ": " + std::strerror(err));
}

// utime + stime, fields 14 and 15 of /proc/PID/stat, counted after the command's closing
// parenthesis (a command may itself hold spaces and parentheses).
double cpu_seconds_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 1));
  std::string field;
  unsigned long long ticks = 0;
  for (int number = 3; number <= 15 && fields >> field; ++number) {
    if (number >= 14) ticks += std::stoull(field);
  }
  return double(ticks) / double(::sysconf(_SC_CLK_TCK));
}

void read_io(pid_t pid, ProcessCounters& counters) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/io");
  std::string name;
  std::uint64_t value = 0;
  while (in >> name >> value) {
    if (name == "rchar:") counters.read_bytes = value;
    if (name == "wchar:") counters.written_bytes = value;
  }
}

}  // namespace

ProcessCounters process_counters(pid_t pid) {
  ProcessCounters counters;
  if (pid <= 0) return counters;
  counters.cpu_seconds = cpu_seconds_of(pid);
  read_io(pid, counters);
  return counters;
}

Result<BackgroundChild> BackgroundChild::spawn(const std::vector<std::string>& argv,
                                               const std::filesystem::path& stdout_file,
                                               const std::filesystem::path& stderr_file) {
  auto pid = spawn_child(argv, stdout_file, stderr_file);
  if (!pid) return pid.error();
  return BackgroundChild(pid.value());
}

BackgroundChild::BackgroundChild(BackgroundChild&& other) noexcept
    : pid_(other.pid_), clock_(other.clock_), reaped_(other.reaped_), run_(other.run_) {
  other.pid_ = -1;
}

BackgroundChild::~BackgroundChild() {
  if (pid_ <= 0 || reaped_) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

void BackgroundChild::reap(int status, const rusage& usage) {
  reaped_ = true;
  record_exit(status, usage, run_);
  run_.seconds = clock_.seconds();
}

bool BackgroundChild::exited() {
  if (reaped_) return true;
  int status = 0;
  rusage usage{};
  if (::wait4(pid_, &status, WNOHANG, &usage) != pid_) return false;
  reap(status, usage);
  return true;
}

Result<ChildRun> BackgroundChild::wait() {
  while (!reaped_) {
    int status = 0;
    rusage usage{};
    pid_t done = ::wait4(pid_, &status, 0, &usage);
    if (done < 0 && errno == EINTR) continue;
    if (done < 0) return system_error(errno, "wait4 " + std::to_string(pid_));
    reap(status, usage);
  }
  return run_;
}

Result<ChildRun> BackgroundChild::stop(int signal) {
  if (!reaped_ && ::kill(pid_, signal) != 0 && errno != ESRCH) {
    return system_error(errno, "kill " + std::to_string(pid_));
  }
  return wait();
}

}  // namespace tutelle::bench
