#include "node/commands.hpp"

namespace tutelle::node {

std::map<std::string, Command> commands() {
  std::map<std::string, Command> all;
  all.merge(data_commands());
  all.merge(sync_commands());
  all.merge(conflict_commands());
  return all;
}

}  // namespace tutelle::node
