#include "hub/saml_service.hpp"

#include <openssl/rand.h>
#include <nlohmann/json.hpp>

#include <ctime>
#include <iostream>

#include "identity/encoding.hpp"
#include "identity/token.hpp"

namespace tutelle::hub {

namespace {

constexpr const char* kCookie = "tutelle_saml";

void log(const std::string& line) {
  std::clog << "tutelle-hub: saml: " << line << "\n";
}

HttpResponse text(int status, std::string body) {
  return HttpResponse{status, "text/plain; charset=utf-8", {}, std::move(body) + "\n"};
}

std::string fresh_secret() {
  unsigned char bytes[32];
  RAND_bytes(bytes, sizeof bytes);
  return identity::to_hex(bytes, sizeof bytes);
}

}  // namespace

std::string cookie_value(const std::string& header, const std::string& name) {
  std::size_t at = 0;
  while (at < header.size()) {
    auto end = header.find(';', at);
    std::string pair = header.substr(at, end == std::string::npos ? end : end - at);
    auto first = pair.find_first_not_of(' ');
    pair = first == std::string::npos ? "" : pair.substr(first);
    if (pair.rfind(name + "=", 0) == 0) return pair.substr(name.size() + 1);
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return {};
}

Result<identity::Credentials> tls_credentials(const std::filesystem::path& hub_dir,
                                              const std::string& host) {
  std::error_code ec;
  std::filesystem::create_directories(hub_dir / "identity", ec);
  if (ec)
    return make_error(ErrorCode::storage, (hub_dir / "identity").string() + ": " + ec.message());
  return identity::load_or_create_credentials(hub_dir / "identity", "tls", host);
}

Result<std::unique_ptr<SamlService>> SamlService::open(SamlServiceOptions options) {
  auto keys = identity::read_key_pair(options.hub_dir, "hub");
  if (!keys) return keys.error().context("the hub's key (run tutelle-hub init)");
  auto store = IdentityStore::open(options.hub_dir);
  if (!store) return store.error();
  auto credentials =
      identity::load_or_create_credentials(options.hub_dir / "identity", "sp", options.public_url);
  if (!credentials) return credentials.error();

  identity::ServiceProviderConfig config;
  config.entity_id = options.public_url + "/saml/metadata";
  config.acs_url = options.public_url + "/saml/acs";
  config.certificate_pem = credentials->certificate_pem;
  config.private_key_pem = credentials->private_key_pem;
  auto sp = identity::ServiceProvider::create(std::move(config));
  if (!sp) return sp.error();
  return std::unique_ptr<SamlService>(new SamlService(std::move(options), std::move(sp.value()),
                                                      std::move(store.value()), keys.value()));
}

SamlService::SamlService(SamlServiceOptions options, identity::ServiceProvider sp,
                         std::unique_ptr<IdentityStore> store, identity::KeyPair hub_keys)
    : options_(std::move(options)),
      sp_(std::move(sp)),
      store_(std::move(store)),
      accounts_(*store_),
      hub_keys_(hub_keys) {}

std::int64_t SamlService::now() const {
  return options_.clock ? options_.clock() : static_cast<std::int64_t>(std::time(nullptr));
}

HttpResponse SamlService::handle(const HttpRequest& request) {
  std::string path = request.path();
  if (request.method == "GET" && path == "/saml/metadata") {
    return HttpResponse{200, "application/samlmetadata+xml", {}, sp_.metadata()};
  }
  if (request.method == "GET" && path == "/saml/login") return login(request);
  if (request.method == "POST" && path == "/saml/acs") return consume(request);
  return text(404, "not found");
}

HttpResponse SamlService::login(const HttpRequest& request) {
  auto query = identity::parse_form(request.query());
  if (!query || query->count("idp") == 0) return text(400, "login needs ?idp=ENTITY_ID");
  auto idps = store_->identity_providers();
  if (!idps) {
    log("cannot read the federation: " + idps.error().message);
    return text(500, "the federation cannot be read");
  }
  auto idp = idps->find(query->at("idp"));
  if (idp == idps->end()) return text(404, "no such IdP in the federation");

  std::string secret = fresh_secret();
  std::string audience = query->count("audience") > 0 ? query->at("audience") : "tutelle";
  auto redirect = sp_.start_login(idp->second, secret, audience, *store_, now());
  if (!redirect) {
    log("cannot start a login at " + idp->first + ": " + redirect.error().message);
    return text(500, "the login cannot start");
  }
  log("request " + redirect->request_id + " sent to " + idp->first + " for " + request.remote);
  HttpResponse response = text(302, "to your identity provider");
  response.headers = {{"Location", redirect->url},
                      {"Set-Cookie", std::string(kCookie) + "=" + secret +
                                         "; Path=/saml; Max-Age=600; Secure; HttpOnly; "
                                         "SameSite=None"}};
  return response;
}

HttpResponse SamlService::consume(const HttpRequest& request) {
  auto form = identity::parse_form(request.body);
  if (!form || form->count("SAMLResponse") == 0) return text(400, "no SAMLResponse");
  auto idps = store_->identity_providers();
  if (!idps) return text(500, "the federation cannot be read");
  auto cookie = request.headers.count("cookie") > 0 ? request.headers.at("cookie") : "";

  std::int64_t at = now();
  auto login = sp_.accept(form->at("SAMLResponse"), cookie_value(cookie, kCookie), idps.value(),
                          *store_, at);
  if (!login) {
    log("refused a response from " + request.remote + ": " + login.error().message);
    return text(403, "login refused");
  }
  auto account = accounts_.on_login(login.value(), at);
  if (!account) {
    log("refused " + login->person.principal + ": " + account.error().message);
    return text(403, "login refused");
  }

  auto claims =
      identity::new_claims(account->principal, account->establishment, account->habilitations,
                           account->status, login->audience, at, options_.token_lifetime_seconds);
  log("login of " + account->principal + " (" + account->status + ") through " +
      login->idp_entity_id + ", assertion " + login->assertion_id + ", token " + claims.token_id);
  nlohmann::json body = {{"token", identity::issue_session_token(hub_keys_, claims)},
                         {"principal", claims.principal},
                         {"establishment", claims.establishment},
                         {"status", claims.status},
                         {"expires", claims.expires}};
  return HttpResponse{200, "application/json", {}, body.dump() + "\n"};
}

}  // namespace tutelle::hub
