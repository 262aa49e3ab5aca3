#pragma once
// The test IdP (tests/identity/idp/test_idp.py) as a real process on loopback.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "protocol/result.hpp"

namespace tutelle::identity::testing {

class IdpProcess {
 public:
  // Starts the IdP writing its keys and federation metadata into `dir`, trusting the SPs of
  // `sp_metadata`, and waits (on its stdout, no polling) until it says it answers. Its stderr
  // goes to `dir`/idp.log.
  static Result<std::unique_ptr<IdpProcess>> start(const std::filesystem::path& dir,
                                                   const std::vector<std::string>& sp_metadata);
  ~IdpProcess();  // stops the process it started, by its pid
  IdpProcess(const IdpProcess&) = delete;
  IdpProcess& operator=(const IdpProcess&) = delete;

  std::uint16_t port() const { return port_; }

 private:
  IdpProcess() = default;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace tutelle::identity::testing
