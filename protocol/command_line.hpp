#pragma once
// The command lines of tutelle-node and tutelle-hub: `tool COMMAND [ARGS…] [--option VALUE]
// [--flag]`. Options are named by the command that reads them; a flag is an option the command
// declares as taking no value.

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "protocol/result.hpp"

namespace tutelle {

class Args {
 public:
  // Splits `argv` (without the tool and command names). `flags` lists the options that take no
  // value; every other `--name` takes the next word. An option given twice keeps every value.
  static Result<Args> parse(const std::vector<std::string>& argv,
                            const std::set<std::string>& flags = {});

  const std::vector<std::string>& positional() const { return positional_; }
  bool has(const std::string& name) const { return options_.count(name) > 0; }
  std::optional<std::string> get(const std::string& name) const;
  std::vector<std::string> all(const std::string& name) const;
  // The option's value, or an Error naming the missing option.
  Result<std::string> require(const std::string& name) const;
  // The option's value as a positive whole number, `fallback` when it is absent; an Error
  // naming the option and the text otherwise.
  Result<std::size_t> count(const std::string& name, std::size_t fallback) const;
  // Refuses an option that is not in `known` (a typo must not pass silently).
  Status only(const std::set<std::string>& known) const;

 private:
  std::vector<std::string> positional_;
  std::multimap<std::string, std::string> options_;
};

// A command of a tool: its one-line usage and its body, which returns the exit code.
struct Command {
  std::string usage;
  std::function<int(const std::vector<std::string>&)> run;
};

// Runs argv[1] from `commands`, printing usage on a missing or unknown command.
int dispatch(const std::string& tool, const std::map<std::string, Command>& commands, int argc,
             char** argv);

// Prints "tool: message" to stderr and returns the exit code for it (1; 2 for a bad argument).
int fail(const std::string& tool, const Error& error);

}  // namespace tutelle
