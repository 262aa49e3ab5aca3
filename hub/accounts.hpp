#pragma once
// People's accounts and supervised self-registration. An unknown person who logs in through an
// IdP of the federation gets an account at once, with the researcher profile in the
// establishment their IdP vouches for, to be confirmed by that establishment's admins; a
// rejected account can no longer log in, and its principal is published to nodes so that its
// tokens are refused at once.
//
// Storage: the `accounts` table of IdentityStore, principal -> JSON {"principal",
// "establishment", "idp", "mail", "display_name", "status", "habilitations", "created_at",
// "decided_at"}; status is "to_be_confirmed", "active" or "rejected".

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hub/identity_store.hpp"
#include "identity/service_provider.hpp"

namespace tutelle::hub {

struct Account {
  std::string principal;
  std::string establishment;  // UAI
  std::string idp_entity_id;
  std::string mail;
  std::string display_name;
  std::string status = "to_be_confirmed";
  std::vector<std::string> habilitations;  // "profile@perimeter", e.g. "researcher@uai:0339901H"
  std::int64_t created_at = 0;
  std::int64_t decided_at = 0;  // when confirmed or rejected
};

// The habilitation an unknown person gets: the researcher profile in their establishment,
// spelt as habilitation records spell it, with the establishment's record id as perimeter:
// "researcher@uai:<UAI>".
std::string researcher_in(const std::string& establishment);

class Accounts {
 public:
  explicit Accounts(IdentityStore& store) : store_(store) {}

  // The account of the person `login` names; creates it, to be confirmed, when unknown.
  // Refuses a rejected account, and a login through an IdP vouching for another establishment
  // than the account's.
  Result<Account> on_login(const identity::Login& login, std::int64_t now);

  Result<std::optional<Account>> find(const std::string& principal) const;
  Result<std::vector<Account>> pending(const std::string& establishment) const;

  // The admin of `establishment` confirms or rejects one of its accounts.
  Status confirm(const std::string& principal, const std::string& establishment, std::int64_t now);
  Status reject(const std::string& principal, const std::string& establishment, std::int64_t now);

  // The principals whose tokens nodes must refuse (verify_session_token's `revoked`).
  Result<std::set<std::string>> rejected_principals() const;

 private:
  Status decide(const std::string& principal, const std::string& establishment,
                const std::string& status, std::int64_t now);

  IdentityStore& store_;
};

}  // namespace tutelle::hub
