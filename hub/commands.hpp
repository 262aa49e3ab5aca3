#pragma once
// The commands of tutelle-hub. Each area of the hub contributes its own table; commands()
// gathers them.

#include <map>
#include <string>

#include "protocol/command_line.hpp"

namespace tutelle::hub {

std::map<std::string, Command> commands();

// Defined in sync_commands.cpp: init, enroll, revoke, nodes, serve, digest, log, status.
std::map<std::string, Command> sync_commands();

// Defined in identity_commands.cpp: `federation …`, `accounts …`.
std::map<std::string, Command> identity_commands();

}  // namespace tutelle::hub
