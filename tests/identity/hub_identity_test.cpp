// The hub's side of identity federation: accounts and supervised self-registration, the LMDB
// ledger, and the whole login end to end — a browser, the hub's HTTPS server and a live test
// IdP process — down to a token that a node accepts.
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <ctime>
#include <future>
#include <thread>

#include "hub/accounts.hpp"
#include "hub/http_server.hpp"
#include "hub/saml_service.hpp"
#include "identity/encoding.hpp"
#include "identity/token.hpp"
#include "support/corpus.hpp"
#include "support/http_client.hpp"
#include "support/idp_process.hpp"

using namespace tutelle;
using namespace tutelle::identity;
using namespace tutelle::identity::testing;

namespace {

constexpr const char* kUai = "0751234A";

std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("tutelle-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

Login login_of(const std::string& principal, const std::string& establishment) {
  Login login;
  login.person.principal = principal;
  login.establishment = establishment;
  login.idp_entity_id = kIdpEntity;
  return login;
}

std::int64_t now() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

// A hub (SAML service on HTTPS, on its own io thread) and a live IdP that trusts it.
class LiveFederation {
 public:
  LiveFederation() : dir_(fresh_dir("saml-e2e")) {
    REQUIRE(sodium_ready().ok());
    hub_keys_ = generate_key_pair();
    REQUIRE(write_key_pair(dir_, "hub", hub_keys_).ok());
    auto opened = hub::SamlService::open({dir_, "https://hub.tutelle.test", 900, {}});
    REQUIRE(opened.ok());
    service_ = std::move(opened.value());
    start_idp();
    start_https();
  }

  ~LiveFederation() {
    boost::asio::post(io_, [this] { server_->stop(); });
    work_.reset();
    thread_.join();
    std::filesystem::remove_all(dir_);
  }

  // Logs in through /saml/login and the IdP (asking it for `knobs`) and posts the response to
  // /saml/acs; returns the hub's answer.
  Reply log_in(const std::string& knobs, bool with_cookie = true) {
    auto start = hub("GET", "/saml/login?idp=" + url_encode(kIdpEntity) + "&audience=node-1");
    REQUIRE(start.status == 302);
    std::string location = start.headers.at("location");
    std::string cookie = start.headers.at("set-cookie");
    cookie = cookie.substr(0, cookie.find(';'));

    auto form = http_call("127.0.0.1", idp_->port(),
                          {"GET", location.substr(location.find("/sso/")) + knobs, {}, ""});
    REQUIRE(form.ok());
    REQUIRE(form->status == 200);
    CHECK(form->body.find("action=\"https://hub.tutelle.test/saml/acs\"") != std::string::npos);
    std::string body = "SAMLResponse=" + url_encode(form_value(form->body, "SAMLResponse"));
    std::map<std::string, std::string> headers = {
        {"Content-Type", "application/x-www-form-urlencoded"}};
    if (with_cookie) headers["Cookie"] = cookie;
    return hub("POST", "/saml/acs", headers, body);
  }

  Reply hub(const std::string& method, const std::string& target,
            std::map<std::string, std::string> headers = {}, const std::string& body = "") {
    auto reply =
        https_call("127.0.0.1", port_, {method, target, headers, body}, tls_.certificate_pem);
    REQUIRE(reply.ok());
    return reply.value();
  }

  hub::Accounts& accounts() { return service_->accounts(); }
  const PublicKey& hub_key() const { return hub_keys_.public_key; }

 private:
  void start_idp() {
    write_text(dir_ / "sp.xml", service_provider_metadata(service_->config()));
    std::filesystem::create_directories(dir_ / "idp");
    auto idp = IdpProcess::start(dir_ / "idp", {(dir_ / "sp.xml").string()});
    REQUIRE(idp.ok());
    idp_ = std::move(idp.value());
    auto federation = load_federation_metadata(read_text(dir_ / "idp" / "federation.xml"),
                                               read_text(dir_ / "idp" / "federation.crt"), now());
    REQUIRE(federation.ok());
    REQUIRE(service_->store().save_federation(federation.value(), now()).ok());
  }

  void start_https() {
    auto tls = hub::tls_credentials(dir_, "127.0.0.1");
    REQUIRE(tls.ok());
    tls_ = tls.value();
    auto* service = service_.get();
    hub::HttpsOptions options{"127.0.0.1", 0, tls_.certificate_pem, tls_.private_key_pem,
                              [service](const hub::HttpRequest& r) { return service->handle(r); }};
    auto server = hub::HttpsServer::start(io_, std::move(options));
    REQUIRE(server.ok());
    server_ = std::move(server.value());
    port_ = server_->port();
    thread_ = std::thread([this] { io_.run(); });
  }

  std::filesystem::path dir_;
  KeyPair hub_keys_;
  std::unique_ptr<hub::SamlService> service_;
  std::unique_ptr<IdpProcess> idp_;
  Credentials tls_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      boost::asio::make_work_guard(io_)};
  std::unique_ptr<hub::HttpsServer> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

Result<SessionClaims> node_verifies(LiveFederation& live, const std::string& token) {
  auto rejected = live.accounts().rejected_principals();
  REQUIRE(rejected.ok());
  return verify_session_token(token, live.hub_key(), "node-1", now(), rejected.value());
}

std::string token_of(const Reply& reply) {
  REQUIRE(reply.status == 200);
  return nlohmann::json::parse(reply.body).at("token").get<std::string>();
}

}  // namespace

TEST_CASE(
    "a login with a signed response creates an account to be confirmed and a token that "
    "a node accepts") {
  LiveFederation live;
  auto metadata = live.hub("GET", "/saml/metadata");
  CHECK(metadata.status == 200);
  CHECK(metadata.body.find("https://hub.tutelle.test/saml/acs") != std::string::npos);

  auto claims = node_verifies(live, token_of(live.log_in("&sign=response")));
  REQUIRE(claims.ok());
  CHECK(claims->principal == "alice@univ-test.fr");
  CHECK(claims->establishment == kUai);
  CHECK(claims->status == "to_be_confirmed");
  CHECK(claims->habilitations == std::vector<std::string>{"researcher@uai:0751234A"});

  auto pending = live.accounts().pending(kUai);
  REQUIRE(pending.ok());
  REQUIRE(pending->size() == 1);
  CHECK(pending->at(0).display_name == "Alice Martin");
}

TEST_CASE(
    "a login with an encrypted assertion gives a token, and a confirmed account's next "
    "token is active") {
  LiveFederation live;
  auto first = node_verifies(live, token_of(live.log_in("&sign=response&encrypt=aes-gcm")));
  REQUIRE(first.ok());
  CHECK(first->status == "to_be_confirmed");

  REQUIRE(live.accounts().confirm("alice@univ-test.fr", kUai, now()).ok());
  auto second = node_verifies(live, token_of(live.log_in("&sign=both&encrypt=aes-gcm")));
  REQUIRE(second.ok());
  CHECK(second->status == "active");
  CHECK(live.accounts().pending(kUai)->empty());
}

TEST_CASE("a rejected account loses its access at once") {
  LiveFederation live;
  std::string token = token_of(live.log_in("&sign=response"));
  REQUIRE(node_verifies(live, token).ok());

  REQUIRE(live.accounts().reject("alice@univ-test.fr", kUai, now()).ok());
  CHECK_THAT(node_verifies(live, token).error().message, Catch::Contains("is rejected"));
  CHECK(live.log_in("&sign=response").status == 403);
}

TEST_CASE("a response posted without the browser's binding cookie is refused") {
  LiveFederation live;
  CHECK(live.log_in("&sign=response", false).status == 403);
  CHECK(live.accounts().pending(kUai)->empty());
}

TEST_CASE("a known person gets the habilitations their account holds") {
  auto dir = fresh_dir("accounts-known");
  auto store = hub::IdentityStore::open(dir);
  REQUIRE(store.ok());
  hub::Accounts accounts(**store);
  auto created = accounts.on_login(login_of("bob@univ-test.fr", kUai), 100);
  REQUIRE(created.ok());
  CHECK(created->status == "to_be_confirmed");
  CHECK(created->habilitations == std::vector<std::string>{"researcher@uai:0751234A"});
  REQUIRE(accounts.confirm("bob@univ-test.fr", kUai, 200).ok());
  auto again = accounts.on_login(login_of("bob@univ-test.fr", kUai), 300);
  REQUIRE(again.ok());
  CHECK(again->status == "active");
  CHECK(again->created_at == 100);
  std::filesystem::remove_all(dir);
}

TEST_CASE("an admin of another establishment can neither confirm nor reject an account") {
  auto dir = fresh_dir("accounts-other");
  auto store = hub::IdentityStore::open(dir);
  REQUIRE(store.ok());
  hub::Accounts accounts(**store);
  REQUIRE(accounts.on_login(login_of("bob@univ-test.fr", kUai), 100).ok());
  CHECK(accounts.confirm("bob@univ-test.fr", "0759999Z", 200).error().code == ErrorCode::refused);
  CHECK(accounts.reject("bob@univ-test.fr", "0759999Z", 200).error().code == ErrorCode::refused);
  CHECK(accounts.pending("0759999Z")->empty());
  CHECK(accounts.pending(kUai)->size() == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the hub's ledger admits an assertion once and a request once") {
  auto dir = fresh_dir("ledger");
  auto store = hub::IdentityStore::open(dir);
  REQUIRE(store.ok());
  PendingRequest request{"_r1", kIdpEntity, binding_hash("b"), "tutelle", 100, 700, false};
  REQUIRE((*store)->remember(request).ok());
  REQUIRE((*store)->admit("_r1", "_a1", 1000, 200).ok());
  CHECK((*store)->seen_assertion("_a1").value());
  CHECK((*store)->find_request("_r1").value()->answered);
  CHECK_FALSE((*store)->admit("_r1", "_a2", 1000, 200).ok());
  std::filesystem::remove_all(dir);
}

TEST_CASE("an account stored with a bare UAI as perimeter is read with the record id spelling") {
  auto dir = fresh_dir("accounts-bare-uai");
  auto store = hub::IdentityStore::open(dir);
  REQUIRE(store.ok());
  auto txn = (*store)->environment().begin_write();
  REQUIRE(txn.ok());
  std::string stored = R"({"principal":"bob@univ-test.fr","establishment":"0751234A","idp":"x",)"
                       R"("mail":"","display_name":"","status":"active",)"
                       R"("habilitations":["researcher@0751234A","unit_director@rnsr:202199101G"],)"
                       R"("created_at":1,"decided_at":2})";
  REQUIRE(txn->put((*store)->environment().table("accounts"), "bob@univ-test.fr", stored).ok());
  REQUIRE(txn->commit().ok());

  hub::Accounts accounts(**store);
  auto found = accounts.find("bob@univ-test.fr");
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK(found->value().habilitations ==
        std::vector<std::string>{"researcher@uai:0751234A", "unit_director@rnsr:202199101G"});
  std::filesystem::remove_all(dir);
}
