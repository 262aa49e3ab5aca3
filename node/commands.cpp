#include "node/commands.hpp"

#include <charconv>
#include <cstdlib>
#include <iostream>

namespace tutelle::node {

Result<std::size_t> parse_size(const std::string& option, const std::string& text) {
  std::size_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value == 0) {
    return make_error(ErrorCode::invalid_argument,
                      "--" + option + ": '" + text + "' is not a positive whole number");
  }
  std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  if (unit == "M" || unit == "MiB") return value << 20;
  if (unit == "G" || unit == "GiB") return value << 30;
  if (unit.empty()) return value;
  return make_error(ErrorCode::invalid_argument,
                    "--" + option + ": unit '" + std::string(unit) + "' (use M or G)");
}

Result<Args> parse(const std::vector<std::string>& words, const std::set<std::string>& options,
                   const std::set<std::string>& flags) {
  auto args = Args::parse(words, flags);
  if (!args) return args.error();
  std::set<std::string> known = options;
  known.insert(flags.begin(), flags.end());
  known.insert("dir");
  known.insert("map-size");
  Status only = args->only(known);
  if (!only) return only.error();
  if (!args->has("dir")) return make_error(ErrorCode::invalid_argument, "--dir is required");
  return args;
}

Result<std::unique_ptr<Node>> open_node(const Args& args, OpenOptions options) {
  if (auto size = args.get("map-size")) {
    auto bytes = parse_size("map-size", *size);
    if (!bytes) return bytes.error();
    options.map_size = bytes.value();
  }
  return Node::open(*args.get("dir"), options);
}

std::string author_of(const Args& args, const Node& node) {
  if (auto author = args.get("author")) return *author;
  if (const char* env = std::getenv("TUTELLE_AUTHOR")) return env;
  auto steward = node.steward();
  return steward ? steward.value() : "steward@" + node.establishment();
}

int print(const nlohmann::json& value) {
  std::cout << value.dump() << "\n";
  return 0;
}

std::map<std::string, Command> commands() {
  std::map<std::string, Command> all;
  all.merge(data_commands());
  all.merge(sync_commands());
  all.merge(conflict_commands());
  return all;
}

}  // namespace tutelle::node
