#include "hub/commands.hpp"

namespace tutelle::hub {

std::map<std::string, Command> commands() {
  std::map<std::string, Command> all;
  all.merge(sync_commands());
  all.merge(share_commands());
  all.merge(identity_commands());
  all.merge(conflict_commands());
  return all;
}

}  // namespace tutelle::hub
