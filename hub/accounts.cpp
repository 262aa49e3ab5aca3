#include "hub/accounts.hpp"

#include <nlohmann/json.hpp>

#include "protocol/catalogue.hpp"

namespace tutelle::hub {

namespace {

using nlohmann::json;

std::string to_json(const Account& a) {
  return json{{"principal", a.principal},         {"establishment", a.establishment},
              {"idp", a.idp_entity_id},           {"mail", a.mail},
              {"display_name", a.display_name},   {"status", a.status},
              {"habilitations", a.habilitations}, {"created_at", a.created_at},
              {"decided_at", a.decided_at}}
      .dump();
}

// `habilitation` with its perimeter spelt as a record id. Accounts made before tokens and
// records agreed hold "researcher@<UAI>", a bare UAI: it becomes "researcher@uai:<UAI>".
std::string with_record_perimeter(const std::string& habilitation) {
  std::size_t at = habilitation.find('@');
  if (at == std::string::npos || habilitation.find(':', at) != std::string::npos) {
    return habilitation;
  }
  return habilitation.substr(0, at + 1) + establishment_id(habilitation.substr(at + 1));
}

std::vector<std::string> with_record_perimeters(std::vector<std::string> habilitations) {
  for (auto& habilitation : habilitations) habilitation = with_record_perimeter(habilitation);
  return habilitations;
}

Result<Account> account_from(std::string_view text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return make_error(ErrorCode::corrupt, "accounts: not JSON");
  try {
    return Account{doc.at("principal").get<std::string>(),
                   doc.at("establishment").get<std::string>(),
                   doc.at("idp").get<std::string>(),
                   doc.at("mail").get<std::string>(),
                   doc.at("display_name").get<std::string>(),
                   doc.at("status").get<std::string>(),
                   with_record_perimeters(doc.at("habilitations").get<std::vector<std::string>>()),
                   doc.at("created_at").get<std::int64_t>(),
                   doc.at("decided_at").get<std::int64_t>()};
  } catch (const json::exception& error) {
    return make_error(ErrorCode::corrupt, std::string("accounts: ") + error.what());
  }
}

// Every account, in principal order, for which `keep` holds.
template <typename Keep>
Result<std::vector<Account>> scan_accounts(IdentityStore& store, Keep keep) {
  auto txn = store.environment().begin_read();
  if (!txn) return txn.error();
  std::vector<Account> out;
  std::optional<Error> failure;
  Status scanned = txn->scan(store.environment().table("accounts"), "", [&](auto, auto value) {
    auto account = account_from(value);
    if (!account) failure = account.error();
    if (account && keep(account.value())) out.push_back(account.value());
    return account.ok();
  });
  if (!scanned) return scanned.error();
  if (failure) return *failure;
  return out;
}

}  // namespace

std::string researcher_in(const std::string& establishment) {
  return "researcher@" + establishment_id(establishment);
}

Result<Account> Accounts::on_login(const identity::Login& login, std::int64_t now) {
  auto txn = store_.environment().begin_write();
  if (!txn) return txn.error();
  const auto& table = store_.environment().table("accounts");
  auto found = txn->get(table, login.person.principal);
  if (!found) return found.error();

  if (found->has_value()) {
    auto account = account_from(**found);
    if (!account) return account.error();
    if (account->status == "rejected") {
      return make_error(ErrorCode::refused, "the account " + account->principal + " is rejected");
    }
    if (account->establishment != login.establishment) {
      return make_error(ErrorCode::refused, "the account " + account->principal + " belongs to " +
                                                account->establishment + ", not to " +
                                                login.establishment);
    }
    return account;
  }

  Account account{login.person.principal,
                  login.establishment,
                  login.idp_entity_id,
                  login.person.mail,
                  login.person.display_name,
                  "to_be_confirmed",
                  {researcher_in(login.establishment)},
                  now,
                  0};
  Status put = txn->put(table, account.principal, to_json(account));
  if (put) put = txn->commit();
  if (!put) return put.error();
  return account;
}

Result<std::optional<Account>> Accounts::find(const std::string& principal) const {
  auto txn = store_.environment().begin_read();
  if (!txn) return txn.error();
  auto found = txn->get(store_.environment().table("accounts"), principal);
  if (!found) return found.error();
  if (!found->has_value()) return std::optional<Account>{};
  auto account = account_from(**found);
  if (!account) return account.error();
  return std::optional<Account>(account.value());
}

Result<std::vector<Account>> Accounts::pending(const std::string& establishment) const {
  return scan_accounts(store_, [&](const Account& a) {
    return a.status == "to_be_confirmed" && a.establishment == establishment;
  });
}

Status Accounts::confirm(const std::string& principal, const std::string& establishment,
                         std::int64_t now) {
  return decide(principal, establishment, "active", now);
}

Status Accounts::reject(const std::string& principal, const std::string& establishment,
                        std::int64_t now) {
  return decide(principal, establishment, "rejected", now);
}

Status Accounts::decide(const std::string& principal, const std::string& establishment,
                        const std::string& status, std::int64_t now) {
  auto txn = store_.environment().begin_write();
  if (!txn) return txn.error();
  const auto& table = store_.environment().table("accounts");
  auto found = txn->get(table, principal);
  if (!found) return found.error();
  if (!found->has_value()) {
    return make_error(ErrorCode::not_found, "no account " + principal);
  }
  auto account = account_from(**found);
  if (!account) return account.error();
  if (account->establishment != establishment) {
    return make_error(ErrorCode::refused, "the account " + principal + " belongs to " +
                                              account->establishment + ", not to " + establishment);
  }
  account->status = status;
  account->decided_at = now;
  Status put = txn->put(table, principal, to_json(account.value()));
  if (!put) return put;
  return txn->commit();
}

Result<std::set<std::string>> Accounts::rejected_principals() const {
  auto rejected = scan_accounts(store_, [](const Account& a) { return a.status == "rejected"; });
  if (!rejected) return rejected.error();
  std::set<std::string> out;
  for (const auto& account : rejected.value()) out.insert(account.principal);
  return out;
}

}  // namespace tutelle::hub
