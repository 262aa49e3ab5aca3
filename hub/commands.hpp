#pragma once
// The commands of tutelle-hub. Each area of the hub contributes its own table; commands()
// gathers them.

#include <map>
#include <memory>
#include <string>

#include "protocol/command_line.hpp"

namespace boost::asio {
class io_context;
}

namespace tutelle::hub {

std::map<std::string, Command> commands();

// Defined in sync_commands.cpp: init, enroll, revoke, nodes, serve, digest, log, status.
std::map<std::string, Command> sync_commands();

// Defined in share_commands.cpp: share, unshare, purges.
std::map<std::string, Command> share_commands();

// Defined in identity_commands.cpp: `federation …`, `accounts …`.
std::map<std::string, Command> identity_commands();

// Defined in conflict_commands.cpp: conflicts, duplicates, compact.
std::map<std::string, Command> conflict_commands();

// The SAML endpoints over HTTPS, served on an io_context beside the sync port (defined in
// identity_commands.cpp). Destroying it, or stop(), stops accepting.
class IdentityEndpoints {
 public:
  class Running;
  explicit IdentityEndpoints(std::unique_ptr<Running> running);
  ~IdentityEndpoints();
  void stop();
  const std::string& listening() const;  // "HOST:PORT as PUBLIC_URL"

 private:
  std::unique_ptr<Running> running_;
};

// `http` is HOST:PORT; `public_url` defaults to https://HOST:PORT.
Result<std::unique_ptr<IdentityEndpoints>> start_identity_endpoints(boost::asio::io_context& io,
                                                                    const std::string& dir,
                                                                    const std::string& http,
                                                                    std::string public_url);

}  // namespace tutelle::hub
