#pragma once
// Genuine responses of the test IdP, recorded once per build tree and shared by the test
// processes (CTest runs each test case in its own process; a fresh IdP for each would cost
// seconds). The first process to need the corpus starts the IdP, sends it our AuthnRequests
// over the real HTTP-Redirect binding, keeps each answer, and stops it; the others wait on a
// file lock and read the files. The checks of time run with an injected clock set to the
// recording time, so a corpus stays valid however old it is.
//
// Layout of TUTELLE_BINARY_DIR/identity-corpus/: the IdP's files (see test_idp.py), sp.key and
// sp.crt, NAME.xml (a response) and NAME.request (the ID of the AuthnRequest it answers),
// recorded_at (Unix seconds) and stamp (a hash of test_idp.py; a change re-records).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "identity/service_provider.hpp"

namespace tutelle::identity::testing {

inline constexpr const char* kSpEntity = "https://hub.tutelle.test/saml/metadata";
inline constexpr const char* kAcs = "https://hub.tutelle.test/saml/acs";
inline constexpr const char* kOtherSpEntity = "https://other-sp.example/saml/metadata";
inline constexpr const char* kIdpEntity = "https://idp.univ-test.fr/idp";
inline constexpr const char* kBrowser = "the-browser-cookie";

struct Corpus {
  std::filesystem::path dir;
  std::int64_t recorded_at = 0;
  ServiceProviderConfig sp;
  IdpDirectory idps;

  std::string response(const std::string& name) const;    // NAME.xml
  std::string request_id(const std::string& name) const;  // NAME.request
  std::string file(const std::string& name) const;        // any file of the corpus
};

// Records the corpus if needed (see above) and loads it. Throws on failure: a test cannot run
// without it.
const Corpus& corpus();

// A ledger that sent, from kBrowser, the requests that the responses `names` answer.
std::unique_ptr<MemoryLedger> ledger_for(const std::vector<std::string>& names);

// Posts `xml` to the SP of `config` (ours by default) as the browser `browser` would, with the
// clock at the recording time plus `seconds_later`.
Result<Login> submit(const std::string& xml, SpLedger& ledger, std::int64_t seconds_later = 5,
                     const ServiceProviderConfig* config = nullptr,
                     const std::string& browser = kBrowser);
// The same with a fresh ledger that sent the request of the response `name`.
Result<Login> submit(const std::string& xml, const std::string& name);

std::string read_text(const std::filesystem::path& path);
void write_text(const std::filesystem::path& path, const std::string& text);

}  // namespace tutelle::identity::testing
