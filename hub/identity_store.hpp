#pragma once
// What the hub keeps for identity federation, in the LMDB store DIR/identity/store:
//
//   idps        entityID -> JSON of identity::IdentityProvider, from the last loaded federation
//   federation  "current" -> JSON {"name", "valid_until", "loaded_at"}
//   requests    AuthnRequest ID -> JSON of identity::PendingRequest
//   assertions  assertion ID -> encode_u64(keep until, Unix seconds): the replay cache
//   accounts    principal -> JSON of Account (hub/accounts.hpp)
//
// IdentityStore is the SP's ledger: admit() runs in one write transaction, so two hub threads
// cannot both consume a request or both admit an assertion.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "identity/metadata.hpp"
#include "identity/service_provider.hpp"
#include "identity/sp_ledger.hpp"
#include "store/lmdb.hpp"

namespace tutelle::hub {

struct FederationInfo {
  std::string name;
  std::int64_t valid_until = 0;
  std::int64_t loaded_at = 0;
};

class IdentityStore : public identity::SpLedger {
 public:
  // Opens (creating) `hub_dir`/identity/store.
  static Result<std::unique_ptr<IdentityStore>> open(const std::filesystem::path& hub_dir);

  Status remember(const identity::PendingRequest& request) override;
  Result<std::optional<identity::PendingRequest>> find_request(std::string_view id) override;
  Result<bool> seen_assertion(std::string_view assertion_id) override;
  Status admit(std::string_view request_id, std::string_view assertion_id, std::int64_t keep_until,
               std::int64_t now) override;

  // Replaces the IdPs of the previous federation by those of `federation`.
  Status save_federation(const identity::Federation& federation, std::int64_t now);
  Result<identity::IdpDirectory> identity_providers() const;
  Result<std::optional<FederationInfo>> federation() const;

  store::Environment& environment() { return *env_; }

 private:
  explicit IdentityStore(std::unique_ptr<store::Environment> env) : env_(std::move(env)) {}
  Status forget_past(store::Txn& txn, std::int64_t now);

  std::unique_ptr<store::Environment> env_;
};

}  // namespace tutelle::hub
