// The commands of tutelle-hub for conflicts and duplicates across the federation: conflicts,
// duplicates (merge candidates), compact.

#include <iostream>
#include <nlohmann/json.hpp>

#include "hub/commands.hpp"
#include "hub/hub.hpp"
#include "store/maintenance.hpp"
#include "store/views.hpp"

namespace tutelle::hub {

namespace {

using nlohmann::json;

constexpr const char* kTool = "tutelle-hub";

Result<Args> parse(const std::vector<std::string>& words, std::set<std::string> options) {
  auto args = Args::parse(words);
  if (!args) return args.error();
  options.insert("dir");
  Status only = args->only(options);
  if (!only) return only.error();
  if (!args->has("dir")) return make_error(ErrorCode::invalid_argument, "--dir is required");
  if (!args->positional().empty()) {
    return make_error(ErrorCode::invalid_argument, "unexpected '" + args->positional()[0] + "'");
  }
  return args;
}

int run_conflicts(const std::vector<std::string>& words) {
  auto args = parse(words, {"scope"});
  if (!args) return fail(kTool, args.error());
  auto hub = Hub::open(*args->get("dir"));
  if (!hub) return fail(kTool, hub.error());
  Status listed =
      store::write_conflicts(hub.value()->replica(), std::cout, args->get("scope").value_or(""));
  return listed ? 0 : fail(kTool, listed.error());
}

int run_duplicates(const std::vector<std::string>& words) {
  auto args = parse(words, {"scope"});
  if (!args) return fail(kTool, args.error());
  auto hub = Hub::open(*args->get("dir"));
  if (!hub) return fail(kTool, hub.error());
  Status listed =
      store::write_duplicates(hub.value()->replica(), std::cout, args->get("scope").value_or(""));
  return listed ? 0 : fail(kTool, listed.error());
}

int run_compact(const std::vector<std::string>& words) {
  auto args = parse(words, {});
  if (!args) return fail(kTool, args.error());
  auto hub = Hub::open(*args->get("dir"));
  if (!hub) return fail(kTool, hub.error());
  auto compacted = store::compact(hub.value()->replica());
  if (!compacted) return fail(kTool, compacted.error());
  std::cout << json{{"tombstones_dropped", compacted->dropped},
                    {"tombstones_left", compacted->left}}
                   .dump()
            << "\n";
  return 0;
}

}  // namespace

std::map<std::string, Command> conflict_commands() {
  return {
      {"conflicts", {"conflicts --dir DIR [--scope S]", run_conflicts}},
      {"duplicates", {"duplicates --dir DIR [--scope S]", run_duplicates}},
      {"compact", {"compact --dir DIR", run_compact}},
  };
}

}  // namespace tutelle::hub
