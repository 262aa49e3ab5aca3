// A node checks the hub's session tokens offline, with the hub key it learnt at its first sync.

#include <signal.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "identity/token.hpp"
#include "tests/hub/federation.hpp"
#include "tests/support/process.hpp"

using namespace tutelle;
using namespace tutelle::testing;
using nlohmann::json;

namespace {

json ok_json(const std::vector<std::string>& argv) {
  auto result = run(argv);
  INFO(argv[1] << ": " << result.err);
  REQUIRE(result.exit_code == 0);
  return json::parse(result.out.substr(0, result.out.find('\n')));
}

// A node that has synced once with a running hub, so it knows the hub's key.
struct SyncedNode {
  Federation federation;
  std::string node = federation.a;
  std::string hub = federation.hub_dir();
  identity::KeyPair hub_keys;

  SyncedNode() {
    federation.sync(node);
    REQUIRE(identity::sodium_ready().ok());
    hub_keys = identity::read_key_pair(hub, "hub").value();
  }

  std::string token(const std::string& audience, std::int64_t lifetime = 600) {
    auto now = static_cast<std::int64_t>(std::time(nullptr));
    return identity::issue_session_token(
        hub_keys,
        identity::new_claims("ines.lemaire@univ-garonne.example", "0339901H",
                             {"researcher@uai:0339901H"}, "active", audience, now, lifetime));
  }

  Run verify(const std::string& token, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {
        binary("node/tutelle-node"), "token", "--dir", node, "verify", token};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run(argv);
  }
};

}  // namespace

TEST_CASE("a node accepts a token of its hub meant for it and shows its claims") {
  SyncedNode f;
  auto result = f.verify(f.token("tutelle-node:0339901H"));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  json claims = json::parse(result.out);
  CHECK(claims["principal"] == "ines.lemaire@univ-garonne.example");
  CHECK(claims["establishment"] == "0339901H");
}

TEST_CASE("a node refuses an altered, expired, misdirected, revoked or foreign token") {
  SyncedNode f;
  std::string good = f.token("tutelle-node:0339901H");
  std::string altered = good;
  altered[10] = altered[10] == 'A' ? 'B' : 'A';
  CHECK(f.verify(altered).exit_code != 0);
  CHECK(f.verify(f.token("tutelle-node:0339901H", -1)).exit_code != 0);
  auto other = f.verify(f.token("tutelle-node:0759901E"));
  CHECK(other.exit_code != 0);
  CHECK_THAT(other.err, Catch::Contains("meant for tutelle-node:0759901E"));
  CHECK(f.verify(good, {"--revoked", "ines.lemaire@univ-garonne.example"}).exit_code != 0);
  identity::KeyPair stranger = identity::generate_key_pair();
  auto now = static_cast<std::int64_t>(std::time(nullptr));
  std::string forged = identity::issue_session_token(
      stranger, identity::new_claims("eve@evil.example", "0339901H", {"hub_admin@x:y"}, "active",
                                     "tutelle-node:0339901H", now, 600));
  CHECK(f.verify(forged).exit_code != 0);
}

TEST_CASE("tutelle-hub serve --http serves the SAML metadata over HTTPS beside the sync port") {
  TempDir dir;
  std::string hub = (dir / "hub").string();
  ok_json({binary("hub/tutelle-hub"), "init", "--dir", hub});
  std::filesystem::path log = dir / "hub.log";
  Background serving({binary("hub/tutelle-hub"), "serve", "--dir", hub, "--listen", "127.0.0.1:0",
                      "--http", "127.0.0.1:0"},
                     log);
  const std::string said = "SAML endpoints over HTTPS on ";
  std::string http;
  wait_for([&] {
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);) {
      auto at = line.find(said);
      if (at != std::string::npos)
        http = line.substr(at + said.size(), line.find(' ', at + said.size()) - at - said.size());
    }
    return !http.empty() || !serving.running();
  });
  REQUIRE_FALSE(http.empty());
  Run fetched = run({"/usr/bin/curl", "-sk", "https://" + http + "/saml/metadata"});
  REQUIRE(fetched.exit_code == 0);
  CHECK_THAT(fetched.out, Catch::Contains("EntityDescriptor"));
  CHECK_THAT(fetched.out, Catch::Contains("AssertionConsumerService"));
  // With port 0, the endpoints' URLs name the port the hub was given.
  CHECK_THAT(fetched.out, Catch::Contains("https://" + http + "/"));
  serving.kill(SIGTERM);
  CHECK(serving.wait() == 0);
}
