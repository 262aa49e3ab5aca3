#include "hub/commands.hpp"

namespace tutelle::hub {

std::map<std::string, Command> identity_commands() {
  return {};
}

}  // namespace tutelle::hub
