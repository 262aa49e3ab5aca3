// The hub's commands for nodes and replication: init, enroll, revoke, nodes, serve, log,
// digest, status.

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "hub/commands.hpp"
#include "hub/sync_server.hpp"
#include "net/log.hpp"
#include "store/views.hpp"

namespace tutelle::hub {

namespace {

namespace asio = boost::asio;
using nlohmann::json;

constexpr const char* kTool = "tutelle-hub";

Result<Args> parse(const std::vector<std::string>& words, std::set<std::string> options,
                   const std::set<std::string>& flags = {}) {
  auto args = Args::parse(words, flags);
  if (!args) return args.error();
  options.insert(flags.begin(), flags.end());
  options.insert("dir");
  Status only = args->only(options);
  if (!only) return only.error();
  if (!args->has("dir")) return make_error(ErrorCode::invalid_argument, "--dir is required");
  return args;
}

int print(const json& value) {
  std::cout << value.dump() << "\n";
  return 0;
}

Result<std::unique_ptr<Hub>> open_hub(const Args& args) {
  return Hub::open(*args.get("dir"));
}

Result<asio::ip::tcp::endpoint> parse_endpoint(const std::string& text) {
  auto colon = text.rfind(':');
  boost::system::error_code ec;
  auto address = asio::ip::make_address(text.substr(0, colon), ec);
  int port = colon == std::string::npos ? -1 : std::atoi(text.c_str() + colon + 1);
  if (ec || port < 0 || port > 65535) {
    return make_error(ErrorCode::invalid_argument, "--listen: '" + text + "' is not HOST:PORT");
  }
  return asio::ip::tcp::endpoint(address, static_cast<std::uint16_t>(port));
}

int run_init(const std::vector<std::string>& words) {
  auto args = parse(words, {});
  if (!args) return fail(kTool, args.error());
  auto hub = Hub::create(*args->get("dir"));
  if (!hub) return fail(kTool, hub.error());
  return print({{"dir", *args->get("dir")},
                {"fingerprint", hub.value()->fingerprint()},
                {"public_key", identity::to_hex(hub.value()->keys().public_key)}});
}

int run_enroll(const std::vector<std::string>& words) {
  auto args = parse(words, {"establishment", "partner", "key", "role", "steward"});
  if (!args) return fail(kTool, args.error());
  // A partner's read-only node is enrolled by the partner's name instead of a UAI.
  auto partner = args->get("partner");
  auto uai = partner ? Result<std::string>("partner:" + *partner) : args->require("establishment");
  auto key_text = args->require("key");
  if (!uai) return fail(kTool, uai.error());
  if (!key_text) return fail(kTool, key_text.error());
  auto key = identity::public_key_from_hex(key_text.value());
  if (!key) return fail(kTool, key.error());
  auto hub = open_hub(args.value());
  if (!hub) return fail(kTool, hub.error());
  Status enrolled = hub.value()->enroll(uai.value(), key.value(), partner ? "partner" : "node",
                                        args->get("steward").value_or(""));
  if (!enrolled) return fail(kTool, enrolled.error());
  return print({{"enrolled", key_text.value()}, {"establishment", uai.value()}});
}

int run_revoke(const std::vector<std::string>& words) {
  auto args = parse(words, {"key"});
  if (!args) return fail(kTool, args.error());
  auto key_text = args->require("key");
  if (!key_text) return fail(kTool, key_text.error());
  auto key = identity::public_key_from_hex(key_text.value());
  if (!key) return fail(kTool, key.error());
  auto hub = open_hub(args.value());
  if (!hub) return fail(kTool, hub.error());
  Status revoked = hub.value()->revoke(key.value());
  if (!revoked) return fail(kTool, revoked.error());
  return print({{"revoked", key_text.value()}});
}

int run_nodes(const std::vector<std::string>& words) {
  auto args = parse(words, {});
  if (!args) return fail(kTool, args.error());
  auto hub = open_hub(args.value());
  if (!hub) return fail(kTool, hub.error());
  auto nodes = hub.value()->nodes();
  if (!nodes) return fail(kTool, nodes.error());
  for (auto& node : nodes.value()) {
    auto key = identity::public_key_from_hex(node.key);
    if (key) {
      auto head = hub.value()->head_seq(key.value());
      node.last_seq = head ? head.value() : 0;
    }
    std::cout << json{{"key", node.key},
                      {"establishment", node.establishment},
                      {"role", node.role},
                      {"steward", node.steward},
                      {"revoked", node.revoked},
                      {"quarantined", node.quarantined},
                      {"why", node.why},
                      {"last_seen_ms", node.last_seen_ms},
                      {"last_accepted_seq", node.last_seq}}
                     .dump()
              << "\n";
  }
  return 0;
}

int run_serve(const std::vector<std::string>& words) {
  auto args = parse(words, {"listen", "http", "public-url", "log-level", "frame-timeout-ms"});
  if (!args) return fail(kTool, args.error());
  auto endpoint = parse_endpoint(args->get("listen").value_or("127.0.0.1:7450"));
  if (!endpoint) return fail(kTool, endpoint.error());
  auto frame_timeout = args->count("frame-timeout-ms", 30'000);
  if (!frame_timeout) return fail(kTool, frame_timeout.error());
  auto hub = open_hub(args.value());
  if (!hub) return fail(kTool, hub.error());

  asio::io_context io;
  SyncServer server(io, *hub.value());
  server.set_frame_timeout(std::chrono::milliseconds(frame_timeout.value()));
  Status started = server.start(endpoint.value());
  if (!started) return fail(kTool, started.error());
  std::unique_ptr<IdentityEndpoints> identity;
  if (auto http = args->get("http")) {
    auto endpoints = start_identity_endpoints(io, *args->get("dir"), *http,
                                              args->get("public-url").value_or(""));
    if (!endpoints) return fail(kTool, endpoints.error());
    identity = std::move(endpoints.value());
    log::info("hub", "SAML endpoints over HTTPS on " + identity->listening());
  }
  std::cout << json{{"listening", net::endpoint_text(
                                      asio::ip::tcp::endpoint(endpoint->address(), server.port()))},
                    {"fingerprint", hub.value()->fingerprint()}}
                   .dump()
            << std::endl;

  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int signal) {
    log::info("hub", "signal " + std::to_string(signal) + ": stopping");
    server.stop();
    if (identity) identity->stop();
    Status synced = hub.value()->replica().env().sync();
    if (!synced) log::error("hub", synced.error().message);
    io.stop();
  });
  io.run();
  return 0;
}

int run_digest(const std::vector<std::string>& words) {
  auto args = parse(words, {"scope"});
  if (!args) return fail(kTool, args.error());
  auto hub = open_hub(args.value());
  if (!hub) return fail(kTool, hub.error());
  auto txn = hub.value()->replica().begin_read();
  if (!txn) return fail(kTool, txn.error());
  std::string scope = args->get("scope").value_or("");
  auto digest = store::state_digest(hub.value()->replica(), txn.value(), scope);
  if (!digest) return fail(kTool, digest.error());
  return print({{"digest", digest.value()}, {"scope", scope}});
}

int run_log(const std::vector<std::string>& words) {
  auto args = parse(words, {});
  if (!args) return fail(kTool, args.error());
  auto hub = open_hub(args.value());
  if (!hub) return fail(kTool, hub.error());
  auto& replica = hub.value()->replica();
  auto txn = replica.begin_read();
  if (!txn) return fail(kTool, txn.error());
  Status scanned =
      txn->scan(replica.table("hub_log"), "", [&](std::string_view key, std::string_view value) {
        auto bytes = txn->get(replica.table("changesets"), value);
        if (!bytes || !bytes.value()) return true;
        auto verified = identity::verify_changeset(*bytes.value());
        if (!verified) return true;
        const Changeset& c = verified->changeset;
        std::cout << json{{"hub_seq", store::decode_u64(key)},
                          {"origin", hex(c.origin)},
                          {"establishment", c.establishment},
                          {"seq", c.seq},
                          {"scope", c.scope},
                          {"author", c.author},
                          {"operations", c.operations.size()}}
                         .dump()
                  << "\n";
        return true;
      });
  if (!scanned) return fail(kTool, scanned.error());
  return 0;
}

int run_status(const std::vector<std::string>& words) {
  auto args = parse(words, {});
  if (!args) return fail(kTool, args.error());
  auto hub = open_hub(args.value());
  if (!hub) return fail(kTool, hub.error());
  auto last = hub.value()->last_hub_seq();
  auto nodes = hub.value()->nodes();
  auto txn = hub.value()->replica().begin_read();
  if (!last || !nodes || !txn) return fail(kTool, make_error(ErrorCode::storage, "status"));
  std::size_t quarantined = 0;
  for (const auto& node : nodes.value()) quarantined += node.quarantined ? 1 : 0;
  return print({{"fingerprint", hub.value()->fingerprint()},
                {"public_key", identity::to_hex(hub.value()->keys().public_key)},
                {"hub_seq", last.value()},
                {"records", txn->count(hub.value()->replica().table("records")).value()},
                {"nodes", nodes->size()},
                {"quarantined", quarantined}});
}

}  // namespace

std::map<std::string, Command> sync_commands() {
  return {
      {"init", {"init --dir DIR", run_init}},
      {"enroll",
       {"enroll --dir DIR (--establishment UAI | --partner NAME) --key NODE_PUBLIC_KEY "
        "[--steward EPPN]",
        run_enroll}},
      {"revoke", {"revoke --dir DIR --key NODE_PUBLIC_KEY", run_revoke}},
      {"nodes", {"nodes --dir DIR", run_nodes}},
      {"serve",
       {"serve --dir DIR --listen HOST:PORT [--http HOST:PORT [--public-url URL]] "
        "[--frame-timeout-ms N]",
        run_serve}},
      {"digest", {"digest --dir DIR [--scope S]", run_digest}},
      {"log", {"log --dir DIR", run_log}},
      {"status", {"status --dir DIR", run_status}},
  };
}

}  // namespace tutelle::hub
