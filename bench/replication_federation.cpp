#include "bench/replication_federation.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "store/lmdb.hpp"

#if !defined(TUTELLE_NODE_BINARY) || !defined(TUTELLE_HUB_BINARY)
#error "TUTELLE_NODE_BINARY and TUTELLE_HUB_BINARY come from bench/CMakeLists.txt"
#endif

namespace tutelle::bench {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr auto kReadyTimeout = std::chrono::seconds(30);

// Runs a tool to its end and returns the first line it printed, as JSON.
Result<json> run_tool(const std::string& binary, const std::vector<std::string>& words,
                      const fs::path& logs) {
  static int counter = 0;
  std::string tag =
      std::to_string(++counter) + "-" + fs::path(binary).filename().string() + "-" + words.front();
  std::vector<std::string> argv = {binary};
  argv.insert(argv.end(), words.begin(), words.end());
  auto run = run_child(argv, logs / (tag + ".out"), logs / (tag + ".err"));
  if (!run) return run.error();
  std::string out = file_head(logs / (tag + ".out"));
  json first = first_line_json(out);
  if (run->exit_code != 0 || first.is_discarded()) {
    return make_error(ErrorCode::internal, fs::path(binary).filename().string() + " " +
                                               words.front() + " exited with " +
                                               std::to_string(run->exit_code) + ": " + out +
                                               file_head(logs / (tag + ".err")));
  }
  return first;
}

// Starts `tutelle-hub serve` on a free port of the loopback and learns the port.
Status start_hub(Federation& f) {
  auto hub = BackgroundChild::spawn(
      {TUTELLE_HUB_BINARY, "serve", "--dir", f.hub_dir.string(), "--listen", "127.0.0.1:0"},
      f.dir / "hub.out", f.dir / "hub.log");
  if (!hub) return hub.error();
  f.hub.emplace(std::move(hub.value()));
  Status ready = wait_for_text(f.dir / "hub.out", "\n", *f.hub);
  if (!ready) return ready;
  std::string line = file_head(f.dir / "hub.out");
  json listening = first_line_json(line);
  if (listening.is_discarded() || !listening.contains("listening")) {
    return make_error(ErrorCode::internal, "tutelle-hub serve printed " + line);
  }
  f.address = listening["listening"].get<std::string>();
  f.port = static_cast<std::uint16_t>(std::stoi(f.address.substr(f.address.rfind(':') + 1)));
  return {};
}

// The last seq the hub acknowledged to A, read from A's store.
Result<std::uint64_t> pushed_seq(const store::Environment& env) {
  auto txn = env.begin_read();
  if (!txn) return txn.error();
  auto value = txn->get(env.table("meta"), "pushed");
  if (!value) return value.error();
  return value.value() ? store::decode_u64(*value.value()) : 0;
}

}  // namespace

std::size_t map_size_for(std::size_t changesets) {
  return std::max<std::size_t>(std::size_t{1} << 30, changesets * 8192);
}

void settle_disk() {
  ::sync();
}

json first_line_json(const std::string& out) {
  return json::parse(out.substr(0, out.find('\n')), nullptr, false);
}

Result<json> node_tool(const Federation& f, const std::vector<std::string>& words) {
  return run_tool(TUTELLE_NODE_BINARY, words, f.dir);
}

Result<json> hub_tool(const Federation& f, const std::vector<std::string>& words) {
  return run_tool(TUTELLE_HUB_BINARY, words, f.dir);
}

Status wait_for_text(const fs::path& file, const std::string& text, BackgroundChild& child) {
  auto until = std::chrono::steady_clock::now() + kReadyTimeout;
  while (file_head(file, 1 << 20).find(text) == std::string::npos) {
    if (child.exited() || std::chrono::steady_clock::now() > until) {
      return make_error(ErrorCode::internal,
                        file.string() + " never said '" + text + "': " + file_head(file));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return {};
}

Result<Federation> set_up_federation(const fs::path& dir) {
  Federation f{dir, dir / "hub", dir / "a", dir / "b", "", "", 0, std::nullopt};
  auto hub = hub_tool(f, {"init", "--dir", f.hub_dir.string()});
  if (!hub) return hub.error();
  f.fingerprint = hub.value()["fingerprint"].get<std::string>();
  for (const auto& [node_dir, uai] : {std::pair{f.a_dir, kUaiA}, std::pair{f.b_dir, kUaiB}}) {
    auto node = node_tool(f, {"init", "--dir", node_dir.string(), "--establishment", uai});
    if (!node) return node.error();
    auto enrolled = hub_tool(f, {"enroll", "--dir", f.hub_dir.string(), "--establishment", uai,
                                 "--key", node.value()["public_key"].get<std::string>()});
    if (!enrolled) return enrolled.error();
  }
  Status started = start_hub(f);
  if (!started) return started.error();
  for (const auto& node_dir : {f.a_dir, f.b_dir}) {
    auto joined = node_tool(f, {"join", "--dir", node_dir.string(), "--hub", f.address,
                                "--fingerprint", f.fingerprint});
    if (!joined) return joined.error();
  }
  auto unit =
      node_tool(f, {"put", "--dir", f.a_dir.string(), "structure", "rnsr=202199101G", "kind=unit",
                    "name=Laboratoire des Environnements Côtiers", "tutelles+=uai:0339901H",
                    "tutelles+=uai:0759901E", "lead_tutelle=uai:0339901H"});
  if (!unit) return unit.error();
  for (const auto& node_dir : {f.a_dir, f.b_dir}) {
    auto synced = node_tool(f, {"sync", "--dir", node_dir.string(), "--once"});
    if (!synced) return synced.error();
  }
  return f;
}

Result<PushFigures> push(const Federation& f, const Filled& filled, std::size_t count) {
  // Room for the bulk records too: A's store holds both runs' changesets by then.
  auto env = store::Environment::open(f.a_dir / "store", {"meta"},
                                      {map_size_for(kMaxChangesets), true, true});
  if (!env) return env.error();
  PushFigures figures;
  figures.changesets = count;
  settle_disk();
  figures.hub_before = f.hub->counters();
  Stopwatch clock;
  auto child =
      BackgroundChild::spawn({TUTELLE_NODE_BINARY, "sync", "--dir", f.a_dir.string(), "--once"},
                             f.dir / "push.out", f.dir / "push.err");
  if (!child) return child.error();
  for (;;) {
    auto seq = pushed_seq(*env.value());
    if (!seq) return seq.error();
    if (seq.value() >= filled.last_seq) break;
    if (child->exited()) {
      return make_error(ErrorCode::internal, "A's sync ended at pushed seq " +
                                                 std::to_string(seq.value()) + ": " +
                                                 file_head(f.dir / "push.err"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  figures.window_seconds = clock.seconds();
  figures.hub_pushed = f.hub->counters();
  TcpTraffic traffic(f.port);  // A's connection is still open: it goes on to pull
  Status sampled = traffic.sample();
  if (!sampled) return sampled.error();
  figures.wire = traffic.total();
  auto run = child->wait();
  if (!run) return run.error();
  figures.sync = run.value();
  figures.hub_after = f.hub->counters();
  std::string out = file_head(f.dir / "push.out");
  figures.summary = first_line_json(out);
  if (figures.sync.exit_code != 0 || figures.summary.is_discarded() ||
      figures.summary.value("accepted", std::size_t{0}) != count) {
    return make_error(ErrorCode::internal, "A's sync: " + out + file_head(f.dir / "push.err"));
  }
  return figures;
}

Result<PullFigures> pull(const Federation& f, std::size_t count) {
  PullFigures figures;
  settle_disk();
  figures.hub_before = f.hub->counters();
  auto child =
      BackgroundChild::spawn({TUTELLE_NODE_BINARY, "sync", "--dir", f.b_dir.string(), "--once"},
                             f.dir / "pull.out", f.dir / "pull.err");
  if (!child) return child.error();
  TcpTraffic traffic(f.port);
  while (!child->exited()) {
    Status sampled = traffic.sample();
    if (!sampled) return sampled.error();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  figures.hub_after = f.hub->counters();
  figures.wire = traffic.total();
  auto run = child->wait();
  if (!run) return run.error();
  figures.sync = run.value();
  std::string out = file_head(f.dir / "pull.out");
  figures.summary = first_line_json(out);
  if (figures.sync.exit_code != 0 || figures.summary.is_discarded() ||
      figures.summary.value("applied", std::size_t{0}) != count) {
    return make_error(ErrorCode::internal, "B's sync: " + out + file_head(f.dir / "pull.err"));
  }
  return figures;
}

Result<bool> same_digests(const Federation& f) {
  auto a = node_tool(f, {"digest", "--dir", f.a_dir.string()});
  auto b = node_tool(f, {"digest", "--dir", f.b_dir.string()});
  if (!a) return a.error();
  if (!b) return b.error();
  return a.value()["digest"] == b.value()["digest"];
}

}  // namespace tutelle::bench
