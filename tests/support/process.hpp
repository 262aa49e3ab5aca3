#pragma once
// Running the project's binaries from tests: real processes, their output and exit codes.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace tutelle::testing {

struct Run {
  int exit_code = -1;  // the exit status, or 128 + signal
  std::string out;
  std::string err;
};

// Runs `argv` to completion, optionally feeding `input` on its standard input.
Run run(const std::vector<std::string>& argv, const std::string& input = "");

// A process running in the background; killed (SIGKILL) when destroyed if still running.
class Background {
 public:
  explicit Background(const std::vector<std::string>& argv, const std::filesystem::path& log = {});
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  pid_t pid() const { return pid_; }
  void kill(int signal);
  // Waits for the exit; returns the exit status or 128 + signal.
  int wait();
  bool running();

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// The path of a built binary of the project, e.g. binary("node/tutelle-node").
std::string binary(const std::string& relative);

// A fresh directory under /tmp, removed when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace tutelle::testing
