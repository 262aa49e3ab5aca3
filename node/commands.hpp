#pragma once
// The commands of tutelle-node. Every command takes --dir DIR; output is JSON where a program
// reads it; errors go to stderr with a non-zero exit.

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "node/node.hpp"
#include "protocol/command_line.hpp"

namespace tutelle::node {

// What the command files share (commands.cpp).
// The words of a command, refusing options it does not know; --dir is required, --map-size is
// known to every command.
Result<Args> parse(const std::vector<std::string>& words, const std::set<std::string>& options,
                   const std::set<std::string>& flags = {});
// The value of --`option`: "64", "512M", "2G" (a size in bytes; M and G are binary).
Result<std::size_t> parse_size(const std::string& option, const std::string& text);
// Opens the node of --dir, with the map size of --map-size if given.
Result<std::unique_ptr<Node>> open_node(const Args& args, OpenOptions options = {});
// The author of an edit: --author, else $TUTELLE_AUTHOR, else the node's steward.
std::string author_of(const Args& args, const Node& node);
// Prints `value` as one JSON line on stdout; returns 0.
int print(const nlohmann::json& value);

std::map<std::string, Command> commands();

// Defined in data_commands.cpp: init, put, get, list, delete, import, import-rnsr, export,
// digest, log.
std::map<std::string, Command> data_commands();

// Defined in sync_commands.cpp: join, sync, serve, status.
std::map<std::string, Command> sync_commands();

// Defined in conflict_commands.cpp: conflicts, resolve, duplicates, merge, compact.
std::map<std::string, Command> conflict_commands();

}  // namespace tutelle::node
