// The hub's commands for partners: share, unshare, purges.

#include <iostream>
#include <nlohmann/json.hpp>

#include "hub/commands.hpp"
#include "hub/hub.hpp"

namespace tutelle::hub {

namespace {

using nlohmann::json;

constexpr const char* kTool = "tutelle-hub";

Result<std::pair<Args, std::unique_ptr<Hub>>> open_with(const std::vector<std::string>& words,
                                                        std::set<std::string> options) {
  auto args = Args::parse(words);
  if (!args) return args.error();
  options.insert("dir");
  Status only = args->only(options);
  if (!only) return only.error();
  auto dir = args->require("dir");
  if (!dir) return dir.error();
  auto hub = Hub::open(dir.value());
  if (!hub) return hub.error();
  return std::make_pair(std::move(args.value()), std::move(hub.value()));
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  for (std::size_t comma; (comma = text.find(',', start)) != std::string::npos; start = comma + 1) {
    if (comma > start) items.push_back(text.substr(start, comma - start));
  }
  if (start < text.size()) items.push_back(text.substr(start));
  return items;
}

// share --scope S --partner NAME [--types project,product]: the partner's node may read the
// scope's records of those types (all types without --types).
int run_share(const std::vector<std::string>& words, bool sharing) {
  auto opened = open_with(words, {"scope", "partner", "types"});
  if (!opened) return fail(kTool, opened.error());
  auto& [args, hub] = opened.value();
  auto scope = args.require("scope");
  auto partner = args.require("partner");
  if (!scope) return fail(kTool, scope.error());
  if (!partner) return fail(kTool, partner.error());
  std::vector<std::string> types = split(args.get("types").value_or(""));
  Status done = sharing ? hub->share(scope.value(), partner.value(), types)
                        : hub->unshare(scope.value(), partner.value());
  if (!done) return fail(kTool, done.error());
  std::cout << json{{sharing ? "shared" : "unshared", scope.value()},
                    {"partner", partner.value()},
                    {"types", types}}
                   .dump()
            << "\n";
  return 0;
}

int run_purges(const std::vector<std::string>& words) {
  auto opened = open_with(words, {});
  if (!opened) return fail(kTool, opened.error());
  auto purges = opened.value().second->purges();
  if (!purges) return fail(kTool, purges.error());
  for (const auto& [key, scope, millis] : purges.value()) {
    std::cout << json{{"key", key}, {"scope", scope}, {"confirmed_ms", millis}}.dump() << "\n";
  }
  return 0;
}

}  // namespace

std::map<std::string, Command> share_commands() {
  return {
      {"share",
       {"share --dir DIR --scope S --partner NAME [--types T1,T2]",
        [](const std::vector<std::string>& w) { return run_share(w, true); }}},
      {"unshare",
       {"unshare --dir DIR --scope S --partner NAME",
        [](const std::vector<std::string>& w) { return run_share(w, false); }}},
      {"purges", {"purges --dir DIR (each node's confirmed purges of a scope)", run_purges}},
  };
}

}  // namespace tutelle::hub
