#include "support/idp_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>

extern char** environ;

namespace tutelle::identity::testing {

namespace {

constexpr int kStartTimeoutMs = 60000;

// Reads one line from `fd`, waiting at most kStartTimeoutMs in all.
Result<std::string> read_line(int fd) {
  std::string line;
  char c = 0;
  while (true) {
    pollfd ready{fd, POLLIN, 0};
    if (::poll(&ready, 1, kStartTimeoutMs) <= 0) {
      return make_error(ErrorCode::network, "test IdP: no answer within a minute");
    }
    if (::read(fd, &c, 1) != 1) return make_error(ErrorCode::network, "test IdP: exited");
    if (c == '\n') return line;
    line.push_back(c);
  }
}

}  // namespace

Result<std::unique_ptr<IdpProcess>> IdpProcess::start(const std::filesystem::path& dir,
                                                      const std::vector<std::string>& sp_metadata) {
  std::vector<std::string> words = {"/usr/bin/python3",
                                    TUTELLE_SOURCE_DIR "/tests/identity/idp/test_idp.py", "--dir",
                                    dir.string()};
  for (const auto& file : sp_metadata) {
    words.push_back("--sp-metadata");
    words.push_back(file);
  }
  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);

  int out[2];
  if (::pipe(out) != 0) return make_error(ErrorCode::internal, "test IdP: pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::string log = (dir / "idp.log").string();
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);

  std::unique_ptr<IdpProcess> process(new IdpProcess());
  int rc = posix_spawn(&process->pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    return make_error(ErrorCode::internal, "test IdP: cannot start /usr/bin/python3");
  }

  auto line = read_line(out[0]);
  ::close(out[0]);
  if (!line) return line.error().context("see " + log);
  if (line->rfind("ready ", 0) != 0) {
    return make_error(ErrorCode::network, "test IdP said '" + line.value() + "'");
  }
  process->port_ = static_cast<std::uint16_t>(std::stoi(line->substr(6)));
  return process;
}

IdpProcess::~IdpProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
}

}  // namespace tutelle::identity::testing
