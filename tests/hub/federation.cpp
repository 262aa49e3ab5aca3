#include "tests/hub/federation.hpp"

#include <fstream>
#include <sstream>

namespace tutelle::testing {

using nlohmann::json;

namespace {

// In the JSON line `tutelle-hub serve` prints once it accepts connections.
constexpr const char* kListening = "\"listening\":\"";

}  // namespace

std::string node_bin() {
  return binary("node/tutelle-node");
}

std::string hub_bin() {
  return binary("hub/tutelle-hub");
}

json run_json(std::vector<std::string> argv) {
  auto result = run(argv);
  INFO(argv[1] << ": " << result.err);
  REQUIRE(result.exit_code == 0);
  return json::parse(result.out.substr(0, result.out.find('\n')));
}

std::vector<json> run_json_lines(const std::vector<std::string>& argv) {
  auto result = run(argv);
  INFO(argv[1] << ": " << result.err);
  REQUIRE(result.exit_code == 0);
  std::vector<json> lines;
  std::istringstream out(result.out);
  for (std::string line; std::getline(out, line);) lines.push_back(json::parse(line));
  return lines;
}

Federation::Federation() {
  json hub_init = run_json({hub_bin(), "init", "--dir", hub_dir()});
  fingerprint = hub_init["fingerprint"];
  a = (dir / "a").string();
  b = (dir / "b").string();
  json ka = run_json({node_bin(), "init", "--dir", a, "--establishment", "0339901H"});
  json kb = run_json({node_bin(), "init", "--dir", b, "--establishment", "0759901E"});
  hub_json("enroll", {"--establishment", "0339901H", "--key", ka["public_key"]});
  hub_json("enroll", {"--establishment", "0759901E", "--key", kb["public_key"]});
  start_hub();
  std::string address = "127.0.0.1:" + std::to_string(port);
  for (const auto& node : {a, b}) {
    run_json({node_bin(), "join", "--dir", node, "--hub", address, "--fingerprint", fingerprint});
  }
}

void Federation::start_hub(const std::vector<std::string>& options) {
  std::size_t before = hub_log_lines_with(kListening).size();
  std::vector<std::string> argv = {hub_bin(), "serve",    "--dir",
                                   hub_dir(), "--listen", "127.0.0.1:" + std::to_string(port)};
  argv.insert(argv.end(), options.begin(), options.end());
  hub = std::make_unique<Background>(argv, dir / "hub.log");
  wait_for([&] { return hub_log_lines_with(kListening).size() > before || !hub->running(); });
  INFO(hub_log());
  REQUIRE(hub->running());
  std::string address = json::parse(hub_log_lines_with(kListening).back())["listening"];
  port = std::stoi(address.substr(address.rfind(':') + 1));
}

json Federation::hub_json(const std::string& word, std::vector<std::string> args) const {
  args.insert(args.begin(), {hub_bin(), word, "--dir", hub_dir()});
  return run_json(args);
}

std::vector<json> Federation::hub_lines(const std::string& word,
                                        std::vector<std::string> args) const {
  args.insert(args.begin(), {hub_bin(), word, "--dir", hub_dir()});
  return run_json_lines(args);
}

std::string Federation::hub_log() const {
  std::ifstream in(dir / "hub.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> Federation::hub_log_lines_with(const std::string& text) const {
  std::vector<std::string> found;
  std::istringstream log(hub_log());
  for (std::string line; std::getline(log, line);) {
    if (line.find(text) != std::string::npos) found.push_back(line);
  }
  return found;
}

void Federation::wait_for_log(const std::string& text) const {
  INFO("the hub's log lacks: " << text);
  wait_for([&] { return hub_log().find(text) != std::string::npos; });
}

std::string Federation::partner_node(const std::string& name) const {
  std::string node = (dir / ("partner-" + name)).string();
  json made = run_json({node_bin(), "init", "--dir", node, "--partner", name});
  hub_json("enroll", {"--partner", name, "--key", made["public_key"]});
  run_json({node_bin(), "join", "--dir", node, "--hub", "127.0.0.1:" + std::to_string(port),
            "--fingerprint", fingerprint});
  return node;
}

json Federation::sync(const std::string& node) const {
  return run_json({node_bin(), "sync", "--dir", node, "--once"});
}

std::string Federation::digest(const std::string& node) const {
  return run_json({node_bin(), "digest", "--dir", node})["digest"];
}

void Federation::put(const std::string& node, std::vector<std::string> words) const {
  words.insert(words.begin(), {node_bin(), "put", "--dir", node});
  run_json(words);
}

}  // namespace tutelle::testing
