#pragma once
// What the tests of hub/ share: a real hub process serving on loopback TLS and two enrolled,
// joined establishment nodes, driven through the project's binaries.

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/process.hpp"

namespace tutelle::testing {

std::string node_bin();
std::string hub_bin();

// Runs `argv`, requires exit code 0, and gives the first line of its output as JSON.
nlohmann::json run_json(std::vector<std::string> argv);
// Runs `argv`, requires exit code 0, and gives every line of its output as JSON.
std::vector<nlohmann::json> run_json_lines(const std::vector<std::string>& argv);

// Long enough for a loaded CI machine; a test that waits this long has failed.
inline constexpr std::chrono::seconds kPatience{20};

// Polls `done` every 10 ms; fails the test when it is still false after `limit`.
template <typename Condition>
void wait_for(Condition done, std::chrono::seconds limit = kPatience) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    REQUIRE(std::chrono::steady_clock::now() < until);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// A hub serving on a free port of loopback, and two enrolled, joined nodes: Garonne (a, UAI
// 0339901H) and CNEL (b, UAI 0759901E). The hub's stdout and stderr go to dir / "hub.log".
struct Federation {
  TempDir dir;
  std::unique_ptr<Background> hub;
  std::string a, b;
  std::string fingerprint;
  int port = 0;  // 0 until the hub first listens; kept across restarts

  Federation();

  // Starts `tutelle-hub serve` on `port` (0: a free one, then kept) with `options` and waits
  // until it listens.
  void start_hub(const std::vector<std::string>& options = {});

  std::string hub_dir() const { return (dir / "hub").string(); }
  // `tutelle-hub WORD --dir HUB ARGS…`, its first line as JSON.
  nlohmann::json hub_json(const std::string& word, std::vector<std::string> args = {}) const;
  // Every line of `tutelle-hub WORD --dir HUB ARGS…`, each as JSON.
  std::vector<nlohmann::json> hub_lines(const std::string& word,
                                        std::vector<std::string> args = {}) const;
  std::string hub_log() const;
  std::vector<std::string> hub_log_lines_with(const std::string& text) const;
  // Waits until the hub's log holds `text`; fails the test after kPatience.
  void wait_for_log(const std::string& text) const;

  // A partner's read-only node (`init --partner NAME`), enrolled at the hub and joined to it;
  // gives its directory. REQUIRES: the hub listens.
  std::string partner_node(const std::string& name) const;

  nlohmann::json sync(const std::string& node) const;
  std::string digest(const std::string& node) const;
  void put(const std::string& node, std::vector<std::string> words) const;
};

}  // namespace tutelle::testing
