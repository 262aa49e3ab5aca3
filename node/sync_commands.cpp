// The node's replication commands: join, sync --once, serve, status.

#include <iostream>
#include <nlohmann/json.hpp>

#include "node/commands.hpp"
#include "node/sync_client.hpp"

namespace tutelle::node {

namespace {

using nlohmann::json;

constexpr const char* kTool = "tutelle-node";

Result<std::pair<Args, std::unique_ptr<Node>>> open_with(const std::vector<std::string>& words,
                                                         std::set<std::string> options,
                                                         const std::set<std::string>& flags) {
  auto args = Args::parse(words, flags);
  if (!args) return args.error();
  options.insert(flags.begin(), flags.end());
  options.insert("dir");
  Status only = args->only(options);
  if (!only) return only.error();
  auto dir = args->require("dir");
  if (!dir) return dir.error();
  auto node = Node::open(dir.value());
  if (!node) return node.error();
  return std::make_pair(std::move(args.value()), std::move(node.value()));
}

int run_join(const std::vector<std::string>& words) {
  auto opened = open_with(words, {"hub", "fingerprint"}, {});
  if (!opened) return fail(kTool, opened.error());
  auto& [args, node] = opened.value();
  auto hub = args.require("hub");
  auto fingerprint = args.require("fingerprint");
  if (!hub) return fail(kTool, hub.error());
  if (!fingerprint) return fail(kTool, fingerprint.error());
  Status joined = join(*node, hub.value(), fingerprint.value());
  if (!joined) return fail(kTool, joined.error());
  std::cout << json{{"hub", hub.value()}, {"fingerprint", fingerprint.value()}}.dump() << "\n";
  return 0;
}

int run_sync(const std::vector<std::string>& words) {
  auto opened = open_with(words, {}, {"once"});
  if (!opened) return fail(kTool, opened.error());
  auto& [args, node] = opened.value();
  if (!args.has("once")) return serve(*node);
  auto summary = sync_once(*node);
  if (!summary) return fail(kTool, summary.error());
  std::cout << json{{"pushed", summary->pushed},         {"accepted", summary->accepted},
                    {"duplicates", summary->duplicates}, {"refused", summary->refused},
                    {"received", summary->received},     {"applied", summary->applied}}
                   .dump()
            << "\n";
  return 0;
}

int run_serve(const std::vector<std::string>& words) {
  auto opened = open_with(words, {}, {});
  if (!opened) return fail(kTool, opened.error());
  return serve(*opened.value().second);
}

int run_status(const std::vector<std::string>& words) {
  auto opened = open_with(words, {}, {});
  if (!opened) return fail(kTool, opened.error());
  auto& node = opened.value().second;
  auto& replica = node->replica();
  auto txn = replica.begin_read();
  if (!txn) return fail(kTool, txn.error());
  auto text = [&](const std::string& name) {
    auto value = replica.meta(txn.value(), name);
    return value && value.value() ? *value.value() : std::string();
  };
  auto number = [&](const std::string& name) {
    std::string bytes = text(name);
    return bytes.empty() ? std::uint64_t{0} : store::decode_u64(bytes);
  };
  json scope_cursors = json::object();
  json refused = json::object();
  Status scanned =
      txn->scan(replica.table("meta"), "", [&](std::string_view key, std::string_view value) {
        if (key.rfind("cursor:", 0) == 0) {
          scope_cursors[std::string(key.substr(7))] = store::decode_u64(value);
        } else if (key.rfind("refused:", 0) == 0) {
          refused[std::string(key.substr(8))] = std::string(value);
        }
        return true;
      });
  if (!scanned) return fail(kTool, scanned.error());
  std::uint64_t seq = number("seq");
  std::uint64_t pushed = number("pushed");
  std::cout << json{{"establishment", node->establishment()},
                    {"role", node->role()},
                    {"hub", text("hub")},
                    {"fingerprint", text("fingerprint")},
                    {"seq", seq},
                    {"pushed", pushed},
                    {"outbox", seq - std::min(seq, pushed)},
                    {"cursors", scope_cursors},
                    {"refused", refused},
                    {"last_error", text("last_error")}}
                   .dump()
            << "\n";
  return 0;
}

}  // namespace

std::map<std::string, Command> sync_commands() {
  return {
      {"join", {"join --dir DIR --hub HOST:PORT --fingerprint FP", run_join}},
      {"sync", {"sync --dir DIR --once | sync --dir DIR (stays live)", run_sync}},
      {"serve", {"serve --dir DIR", run_serve}},
      {"status", {"status --dir DIR", run_status}},
  };
}

}  // namespace tutelle::node
