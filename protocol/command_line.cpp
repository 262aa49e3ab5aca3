#include "protocol/command_line.hpp"

#include <charconv>
#include <iostream>

namespace tutelle {

Result<Args> Args::parse(const std::vector<std::string>& argv, const std::set<std::string>& flags) {
  Args args;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& word = argv[i];
    if (word.rfind("--", 0) != 0 || word.size() == 2) {
      args.positional_.push_back(word);
      continue;
    }
    std::string name = word.substr(2);
    auto equals = name.find('=');
    if (equals != std::string::npos) {
      args.options_.emplace(name.substr(0, equals), name.substr(equals + 1));
    } else if (flags.count(name) > 0) {
      args.options_.emplace(name, "");
    } else if (i + 1 < argv.size()) {
      args.options_.emplace(name, argv[++i]);
    } else {
      return make_error(ErrorCode::invalid_argument, "--" + name + " needs a value");
    }
  }
  return args;
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto found = options_.find(name);
  if (found == options_.end()) return std::nullopt;
  return found->second;
}

std::vector<std::string> Args::all(const std::string& name) const {
  std::vector<std::string> values;
  auto [begin, end] = options_.equal_range(name);
  for (auto it = begin; it != end; ++it) values.push_back(it->second);
  return values;
}

Result<std::string> Args::require(const std::string& name) const {
  auto value = get(name);
  if (!value) return make_error(ErrorCode::invalid_argument, "--" + name + " is required");
  return *value;
}

Result<std::size_t> Args::count(const std::string& name, std::size_t fallback) const {
  auto text = get(name);
  if (!text) return fallback;
  std::size_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value == 0) {
    return make_error(ErrorCode::invalid_argument,
                      "--" + name + ": '" + *text + "' is not a positive whole number");
  }
  return value;
}

Status Args::only(const std::set<std::string>& known) const {
  for (const auto& [name, value] : options_) {
    if (known.count(name) == 0) {
      return make_error(ErrorCode::invalid_argument, "unknown option --" + name);
    }
  }
  return {};
}

int fail(const std::string& tool, const Error& error) {
  std::cerr << tool << ": " << error.message << "\n";
  return error.code == ErrorCode::invalid_argument ? 2 : 1;
}

int dispatch(const std::string& tool, const std::map<std::string, Command>& commands, int argc,
             char** argv) {
  auto usage = [&](std::ostream& out) {
    out << "usage: " << tool << " COMMAND [ARGS]\n";
    for (const auto& [name, command] : commands) out << "  " << command.usage << "\n";
  };
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "help") {
    usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  auto found = commands.find(argv[1]);
  if (found == commands.end()) {
    std::cerr << tool << ": unknown command '" << argv[1] << "'\n";
    usage(std::cerr);
    return 2;
  }
  std::vector<std::string> rest(argv + 2, argv + argc);
  try {
    return found->second.run(rest);
  } catch (const std::exception& bug) {
    std::cerr << tool << ": internal error in " << argv[1] << ": " << bug.what() << "\n";
    return 70;
  }
}

}  // namespace tutelle
