#include "hub/identity_store.hpp"

#include <nlohmann/json.hpp>

#include <vector>

namespace tutelle::hub {

namespace {

using nlohmann::json;

const std::vector<std::string> kTables = {"idps", "federation", "requests", "assertions",
                                          "accounts"};

json to_json(const identity::PendingRequest& r) {
  return {{"id", r.id},
          {"idp", r.idp_entity_id},
          {"binding", r.browser_binding_hash},
          {"audience", r.audience},
          {"issued_at", r.issued_at},
          {"expires", r.expires},
          {"answered", r.answered}};
}

Result<identity::PendingRequest> request_from(std::string_view text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return make_error(ErrorCode::corrupt, "requests: not JSON");
  try {
    return identity::PendingRequest{
        doc.at("id").get<std::string>(),         doc.at("idp").get<std::string>(),
        doc.at("binding").get<std::string>(),    doc.at("audience").get<std::string>(),
        doc.at("issued_at").get<std::int64_t>(), doc.at("expires").get<std::int64_t>(),
        doc.at("answered").get<bool>()};
  } catch (const json::exception& error) {
    return make_error(ErrorCode::corrupt, std::string("requests: ") + error.what());
  }
}

json to_json(const identity::IdentityProvider& idp) {
  return {{"entity_id", idp.entity_id},           {"establishment", idp.establishment},
          {"signing", idp.signing_certificates},  {"encryption", idp.encryption_certificates},
          {"sso_redirect", idp.sso_redirect_url}, {"scopes", idp.scopes}};
}

Result<identity::IdentityProvider> idp_from(std::string_view text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return make_error(ErrorCode::corrupt, "idps: not JSON");
  try {
    return identity::IdentityProvider{doc.at("entity_id").get<std::string>(),
                                      doc.at("establishment").get<std::string>(),
                                      doc.at("signing").get<std::vector<std::string>>(),
                                      doc.at("encryption").get<std::vector<std::string>>(),
                                      doc.at("sso_redirect").get<std::string>(),
                                      doc.at("scopes").get<std::vector<std::string>>()};
  } catch (const json::exception& error) {
    return make_error(ErrorCode::corrupt, std::string("idps: ") + error.what());
  }
}

Error refused(const std::string& reason) {
  return make_error(ErrorCode::refused, reason);
}

}  // namespace

Result<std::unique_ptr<IdentityStore>> IdentityStore::open(const std::filesystem::path& hub_dir) {
  auto dir = hub_dir / "identity" / "store";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::storage, dir.string() + ": " + ec.message());
  store::EnvironmentOptions options;
  options.map_size = std::size_t{1} << 30;
  auto env = store::Environment::open(dir, kTables, options);
  if (!env) return env.error();
  return std::unique_ptr<IdentityStore>(new IdentityStore(std::move(env.value())));
}

Status IdentityStore::remember(const identity::PendingRequest& request) {
  auto txn = env_->begin_write();
  if (!txn) return txn.error();
  Status put = txn->put(env_->table("requests"), request.id, to_json(request).dump());
  if (!put) return put;
  return txn->commit();
}

Result<std::optional<identity::PendingRequest>> IdentityStore::find_request(std::string_view id) {
  auto txn = env_->begin_read();
  if (!txn) return txn.error();
  auto found = txn->get(env_->table("requests"), id);
  if (!found) return found.error();
  if (!found->has_value()) return std::optional<identity::PendingRequest>{};
  auto request = request_from(**found);
  if (!request) return request.error();
  return std::optional<identity::PendingRequest>(request.value());
}

Result<bool> IdentityStore::seen_assertion(std::string_view assertion_id) {
  auto txn = env_->begin_read();
  if (!txn) return txn.error();
  auto found = txn->get(env_->table("assertions"), assertion_id);
  if (!found) return found.error();
  return found->has_value();
}

Status IdentityStore::admit(std::string_view request_id, std::string_view assertion_id,
                            std::int64_t keep_until, std::int64_t now) {
  auto txn = env_->begin_write();
  if (!txn) return txn.error();
  const auto& requests = env_->table("requests");
  const auto& assertions = env_->table("assertions");

  auto found = txn->get(requests, request_id);
  if (!found) return found.error();
  std::optional<identity::PendingRequest> request;
  if (found->has_value()) {
    auto decoded = request_from(**found);
    if (!decoded) return decoded.error();
    request = decoded.value();
  }
  if (!request || request->answered) {
    return refused("the request " + std::string(request_id) + " is unknown or answered");
  }
  auto seen = txn->get(assertions, assertion_id);
  if (!seen) return seen.error();
  if (seen->has_value()) {
    return refused("the assertion " + std::string(assertion_id) + " was seen before (replay)");
  }

  request->answered = true;
  Status put = txn->put(requests, request_id, to_json(*request).dump());
  if (put) put = txn->put(assertions, assertion_id, store::encode_u64(keep_until));
  if (put) put = forget_past(*txn, now);
  if (!put) return put;
  return txn->commit();
}

Status IdentityStore::forget_past(store::Txn& txn, std::int64_t now) {
  // TODO(perf): both tables are scanned on every login; fine below ~100k logins a day.
  std::vector<std::string> old_assertions;
  std::vector<std::string> old_requests;
  Status scanned = txn.scan(env_->table("assertions"), "", [&](auto key, auto value) {
    if (static_cast<std::int64_t>(store::decode_u64(value)) <= now) {
      old_assertions.emplace_back(key);
    }
    return true;
  });
  if (!scanned) return scanned;
  scanned = txn.scan(env_->table("requests"), "", [&](auto key, auto value) {
    auto request = request_from(value);
    if (request && request->expires <= now) old_requests.emplace_back(key);
    return true;
  });
  if (!scanned) return scanned;
  for (const auto& key : old_assertions) {
    auto erased = txn.erase(env_->table("assertions"), key);
    if (!erased) return erased.error();
  }
  for (const auto& key : old_requests) {
    auto erased = txn.erase(env_->table("requests"), key);
    if (!erased) return erased.error();
  }
  return {};
}

Status IdentityStore::save_federation(const identity::Federation& federation, std::int64_t now) {
  auto txn = env_->begin_write();
  if (!txn) return txn.error();
  Status done = txn->clear(env_->table("idps"));
  for (const auto& idp : federation.identity_providers) {
    if (done) done = txn->put(env_->table("idps"), idp.entity_id, to_json(idp).dump());
  }
  json info = {
      {"name", federation.name}, {"valid_until", federation.valid_until}, {"loaded_at", now}};
  if (done) done = txn->put(env_->table("federation"), "current", info.dump());
  if (!done) return done;
  return txn->commit();
}

Result<identity::IdpDirectory> IdentityStore::identity_providers() const {
  auto txn = env_->begin_read();
  if (!txn) return txn.error();
  identity::IdpDirectory idps;
  std::optional<Error> failure;
  Status scanned = txn->scan(env_->table("idps"), "", [&](auto, auto value) {
    auto idp = idp_from(value);
    if (!idp) {
      failure = idp.error();
      return false;
    }
    idps[idp->entity_id] = idp.value();
    return true;
  });
  if (!scanned) return scanned.error();
  if (failure) return *failure;
  return idps;
}

Result<std::optional<FederationInfo>> IdentityStore::federation() const {
  auto txn = env_->begin_read();
  if (!txn) return txn.error();
  auto found = txn->get(env_->table("federation"), "current");
  if (!found) return found.error();
  if (!found->has_value()) return std::optional<FederationInfo>{};
  json doc = json::parse(**found, nullptr, false);
  if (doc.is_discarded()) return make_error(ErrorCode::corrupt, "federation: not JSON");
  return std::optional<FederationInfo>(FederationInfo{doc.value("name", ""),
                                                      doc.value("valid_until", std::int64_t{0}),
                                                      doc.value("loaded_at", std::int64_t{0})});
}

}  // namespace tutelle::hub
