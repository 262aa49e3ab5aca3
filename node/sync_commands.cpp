// The node's replication commands: join, sync --once, serve, status, rewrite.

#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "identity/token.hpp"
#include "net/log.hpp"
#include "node/commands.hpp"
#include "node/store_rewrite.hpp"
#include "node/sync_client.hpp"
#include "store/maintenance.hpp"

namespace tutelle::node {

namespace {

using nlohmann::json;

constexpr const char* kTool = "tutelle-node";

Result<std::pair<Args, std::unique_ptr<Node>>> open_with(const std::vector<std::string>& words,
                                                         const std::set<std::string>& options,
                                                         const std::set<std::string>& flags) {
  auto args = parse(words, options, flags);
  if (!args) return args.error();
  auto node = open_node(args.value());
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

const char* rewrite_name(Rewrite rewrite) {
  switch (rewrite) {
    case Rewrite::done: return "done";
    case Rewrite::busy: return "pending: another process has the node open";
    case Rewrite::not_needed: break;
  }
  return "not needed";
}

Result<bool> rewrite_pending(Node& node) {
  auto txn = node.replica().begin_read();
  if (!txn) return txn.error();
  auto mark = node.replica().meta(txn.value(), store::kRewritePending);
  if (!mark) return mark.error();
  return mark.value().has_value();
}

// Closes `node`, then rewrites its store if a purge left bytes in it (node/store_rewrite.hpp).
Result<Rewrite> close_and_rewrite(std::unique_ptr<Node>& node) {
  auto pending = rewrite_pending(*node);
  if (!pending) return pending.error();
  std::filesystem::path dir = node->dir();
  node.reset();
  if (!pending.value()) return Rewrite::not_needed;  // the common case: no store to reopen
  auto rewritten = rewrite_store(dir);
  if (rewritten && rewritten.value() == Rewrite::busy) {
    log::info("node",
              "a purge left bytes in data.mdb; another process has the node open, so "
              "the store will be rewritten later (tutelle-node rewrite)");
  }
  return rewritten;
}

// serve, then once it has stopped, the rewrite its purges may have left pending.
int serve_then_rewrite(std::unique_ptr<Node>& node) {
  int code = serve(*node);
  auto rewritten = close_and_rewrite(node);
  if (!rewritten) return fail(kTool, rewritten.error());
  return code;
}

int run_sync(const std::vector<std::string>& words) {
  auto opened = open_with(words, {}, {"once"});
  if (!opened) return fail(kTool, opened.error());
  auto& [args, node] = opened.value();
  if (!args.has("once")) return serve_then_rewrite(node);
  auto summary = sync_once(*node);
  if (!summary) return fail(kTool, summary.error());

  auto rewritten = close_and_rewrite(node);
  if (!rewritten) return fail(kTool, rewritten.error());
  std::cout << json{{"pushed", summary->pushed},
                    {"accepted", summary->accepted},
                    {"duplicates", summary->duplicates},
                    {"refused", summary->refused},
                    {"received", summary->received},
                    {"applied", summary->applied},
                    {"tombstones_dropped", summary->tombstones_dropped},
                    {"store_rewrite", rewrite_name(rewritten.value())}}
                   .dump()
            << "\n";
  return 0;
}

int run_serve(const std::vector<std::string>& words) {
  auto opened = open_with(words, {}, {});
  if (!opened) return fail(kTool, opened.error());
  return serve_then_rewrite(opened.value().second);
}

int run_rewrite(const std::vector<std::string>& words) {
  auto opened = open_with(words, {}, {"force"});
  if (!opened) return fail(kTool, opened.error());
  auto& [args, node] = opened.value();
  std::filesystem::path dir = node->dir();
  node.reset();
  auto rewritten = rewrite_store(dir, args.has("force"));
  if (!rewritten) return fail(kTool, rewritten.error());
  if (rewritten.value() == Rewrite::busy) {
    return fail(kTool, make_error(ErrorCode::refused,
                                  "another process has the node open (stop serve first)"));
  }
  std::cout << json{{"store_rewrite", rewrite_name(rewritten.value())}}.dump() << "\n";
  return 0;
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
                    {"rewrite_pending", !text(store::kRewritePending).empty()},
                    {"last_error", text("last_error")}}
                   .dump()
            << "\n";
  return 0;
}

// The audience a node accepts tokens for, unless --audience says otherwise.
std::string node_audience(const Node& node) {
  return "tutelle-node:" + node.establishment();
}

std::set<std::string> split_list(const std::string& text) {
  std::set<std::string> items;
  std::size_t start = 0;
  for (std::size_t comma; (comma = text.find(',', start)) != std::string::npos; start = comma + 1) {
    if (comma > start) items.insert(text.substr(start, comma - start));
  }
  if (start < text.size()) items.insert(text.substr(start));
  return items;
}

// token verify TOKEN: checks a session token offline with the hub's key learnt at the first
// sync; prints its claims, or refuses with the reason.
int run_token(const std::vector<std::string>& words) {
  auto opened = open_with(words, {"audience", "revoked"}, {});
  if (!opened) return fail(kTool, opened.error());
  auto& [args, node] = opened.value();
  const auto& positional = args.positional();
  if (positional.size() != 2 || positional[0] != "verify") {
    return fail(kTool, make_error(ErrorCode::invalid_argument, "usage: token verify TOKEN"));
  }
  auto txn = node->replica().begin_read();
  if (!txn) return fail(kTool, txn.error());
  auto hub_key = node->replica().meta(txn.value(), "hub_key");
  if (!hub_key) return fail(kTool, hub_key.error());
  if (!hub_key.value() || hub_key.value()->empty()) {
    return fail(kTool, make_error(ErrorCode::not_found,
                                  "the hub's key is not known yet: join a hub and sync once"));
  }
  auto key = identity::public_key_from_hex(*hub_key.value());
  if (!key) return fail(kTool, key.error());
  std::string audience = args.get("audience").value_or(node_audience(*node));
  auto now = static_cast<std::int64_t>(std::time(nullptr));
  auto claims = identity::verify_session_token(positional[1], key.value(), audience, now,
                                               split_list(args.get("revoked").value_or("")));
  if (!claims) return fail(kTool, claims.error());
  std::cout << json{{"principal", claims->principal},
                    {"establishment", claims->establishment},
                    {"habilitations", claims->habilitations},
                    {"status", claims->status},
                    {"audience", claims->audience},
                    {"expires", claims->expires}}
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
      {"rewrite", {"rewrite --dir DIR [--force] (with serve stopped)", run_rewrite}},
      {"token", {"token --dir DIR verify TOKEN [--audience A] [--revoked P,...]", run_token}},
  };
}

}  // namespace tutelle::node
