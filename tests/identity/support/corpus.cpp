#include "support/corpus.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "identity/credentials.hpp"
#include "identity/encoding.hpp"
#include "support/http_client.hpp"
#include "support/idp_process.hpp"

namespace tutelle::identity::testing {

namespace {

// What to record: a name, the SP that asks, and the test IdP's knobs.
struct Recording {
  const char* name;
  const char* sp;
  const char* knobs;
};

const Recording kRecordings[] = {
    {"signed-response", kSpEntity, "&sign=response"},
    {"signed-assertion", kSpEntity, "&sign=assertion"},
    {"signed-both", kSpEntity, "&sign=both"},
    {"encrypted", kSpEntity, "&sign=response&encrypt=aes-gcm"},
    {"encrypted-signed-assertion", kSpEntity, "&sign=assertion&encrypt=aes-gcm"},
    {"encrypted-3des", kSpEntity, "&sign=response&encrypt=3des"},
    {"sha1", kSpEntity, "&sign=response&alg=sha1"},
    {"eve", kSpEntity, "&sign=response&user=eve"},
    {"mallory", kSpEntity, "&sign=response&user=mallory"},
    {"other-sp", kOtherSpEntity, "&sign=response"},
};

template <typename T>
T must(Result<T> result, const std::string& what) {
  if (!result) throw std::runtime_error(what + ": " + result.error().message);
  return std::move(result.value());
}

void must(Status status, const std::string& what) {
  if (!status) throw std::runtime_error(what + ": " + status.error().message);
}

std::string stamp() {
  auto script = read_text(TUTELLE_SOURCE_DIR "/tests/identity/idp/test_idp.py");
  return std::to_string(std::hash<std::string>{}(script + "corpus v1"));
}

ServiceProviderConfig sp_config(const std::filesystem::path& dir, const char* entity) {
  ServiceProviderConfig config;
  config.entity_id = entity;
  config.acs_url = kAcs;
  config.private_key_pem = read_text(dir / "sp.key");
  config.certificate_pem = read_text(dir / "sp.crt");
  return config;
}

IdpDirectory load_idps(const std::filesystem::path& dir, std::int64_t now) {
  auto federation = must(load_federation_metadata(read_text(dir / "federation.xml"),
                                                  read_text(dir / "federation.crt"), now),
                         "federation metadata");
  IdpDirectory idps;
  for (auto& idp : federation.identity_providers) idps[idp.entity_id] = idp;
  return idps;
}

// Asks the IdP on `port` to answer a fresh AuthnRequest of `recording.sp`.
void record(const std::filesystem::path& dir, std::uint16_t port, const IdentityProvider& idp,
            const Recording& recording) {
  auto sp = must(ServiceProvider::create(sp_config(dir, recording.sp)), "SP");
  MemoryLedger ledger;
  auto login =
      must(sp.start_login(idp, kBrowser, "tutelle", ledger, std::time(nullptr)), "AuthnRequest");
  std::string target = login.url.substr(login.url.find("/sso/")) + recording.knobs;
  auto reply = must(http_call("127.0.0.1", port, {"GET", target, {}, ""}), "IdP");
  if (reply.status != 200) throw std::runtime_error("IdP: " + reply.body);
  auto xml = must(base64_decode(form_value(reply.body, "SAMLResponse")), "SAMLResponse");
  write_text(dir / (std::string(recording.name) + ".xml"), xml);
  write_text(dir / (std::string(recording.name) + ".request"), login.request_id);

  // A second answer to the first request: a different assertion for an answered request.
  if (std::string(recording.name) == "signed-response") {
    auto again = must(http_call("127.0.0.1", port, {"GET", target, {}, ""}), "IdP");
    write_text(dir / "answered-twice.xml",
               must(base64_decode(form_value(again.body, "SAMLResponse")), "SAMLResponse"));
    write_text(dir / "answered-twice.request", login.request_id);
  }
}

void record_all(const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto sp = must(generate_credentials("hub.tutelle.test", 30), "SP credentials");
  write_text(dir / "sp.key", sp.private_key_pem);
  write_text(dir / "sp.crt", sp.certificate_pem);
  write_text(dir / "sp.xml", service_provider_metadata(sp_config(dir, kSpEntity)));
  write_text(dir / "other-sp.xml", service_provider_metadata(sp_config(dir, kOtherSpEntity)));

  auto idp_process =
      must(IdpProcess::start(dir, {(dir / "sp.xml").string(), (dir / "other-sp.xml").string()}),
           "test IdP");
  auto idps = load_idps(dir, std::time(nullptr));
  for (const auto& recording : kRecordings) {
    record(dir, idp_process->port(), idps.at(kIdpEntity), recording);
  }
  auto unsolicited = must(http_call("127.0.0.1", idp_process->port(),
                                    {"GET", "/unsolicited?sp=" + url_encode(kSpEntity), {}, ""}),
                          "IdP");
  write_text(dir / "unsolicited.xml",
             must(base64_decode(form_value(unsolicited.body, "SAMLResponse")), "SAMLResponse"));
  write_text(dir / "unsolicited.request", "(none)");

  write_text(dir / "recorded_at", std::to_string(std::time(nullptr)));
  write_text(dir / "stamp", stamp());
}

Corpus load(const std::filesystem::path& dir) {
  Corpus corpus;
  corpus.dir = dir;
  corpus.recorded_at = std::stoll(read_text(dir / "recorded_at"));
  corpus.sp = sp_config(dir, kSpEntity);
  corpus.idps = load_idps(dir, corpus.recorded_at);
  return corpus;
}

}  // namespace

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot read");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error(path.string() + ": cannot write");
}

std::string Corpus::response(const std::string& name) const {
  return file(name + ".xml");
}

std::string Corpus::request_id(const std::string& name) const {
  return file(name + ".request");
}

std::string Corpus::file(const std::string& name) const {
  return read_text(dir / name);
}

std::unique_ptr<MemoryLedger> ledger_for(const std::vector<std::string>& names) {
  auto ledger = std::make_unique<MemoryLedger>();
  const Corpus& c = corpus();
  for (const auto& name : names) {
    PendingRequest request{
        c.request_id(name),  kIdpEntity, binding_hash(kBrowser), "tutelle", c.recorded_at - 5,
        c.recorded_at + 120, false};
    must(ledger->remember(request), "ledger");
  }
  return ledger;
}

Result<Login> submit(const std::string& xml, SpLedger& ledger, std::int64_t seconds_later,
                     const ServiceProviderConfig* config, const std::string& browser) {
  const Corpus& c = corpus();
  auto sp = must(ServiceProvider::create(config != nullptr ? *config : c.sp), "SP");
  return sp.accept(base64_encode(xml), browser, c.idps, ledger, c.recorded_at + seconds_later);
}

Result<Login> submit(const std::string& xml, const std::string& name) {
  auto ledger = ledger_for({name});
  return submit(xml, *ledger);
}

const Corpus& corpus() {
  static const Corpus loaded = [] {
    std::filesystem::path dir = TUTELLE_BINARY_DIR "/identity-corpus";
    std::string lock_path = dir.string() + ".lock";
    int lock = ::open(lock_path.c_str(), O_CREAT | O_RDWR, 0644);
    if (lock < 0 || ::flock(lock, LOCK_EX) != 0) throw std::runtime_error("corpus: cannot lock");
    bool fresh = std::filesystem::exists(dir / "stamp") && read_text(dir / "stamp") == stamp();
    try {
      if (!fresh) record_all(dir);
    } catch (...) {
      ::close(lock);
      throw;
    }
    ::close(lock);
    return load(dir);
  }();
  return loaded;
}

}  // namespace tutelle::identity::testing
