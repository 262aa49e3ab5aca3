#pragma once
// The commands of tutelle-node. Every command takes --dir DIR; output is JSON where a program
// reads it; errors go to stderr with a non-zero exit.

#include <map>
#include <string>

#include "protocol/command_line.hpp"

namespace tutelle::node {

std::map<std::string, Command> commands();

// Defined in data_commands.cpp: init, put, get, list, delete, import, import-rnsr, export,
// digest, log.
std::map<std::string, Command> data_commands();

// Defined in sync_commands.cpp: join, sync, serve, status.
std::map<std::string, Command> sync_commands();

// Defined in conflict_commands.cpp: conflicts, resolve, duplicates, merge, compact.
std::map<std::string, Command> conflict_commands();

}  // namespace tutelle::node
