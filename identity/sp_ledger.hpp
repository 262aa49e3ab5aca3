#pragma once
// What the service provider must remember between a login's two legs: the AuthnRequests it
// sent (so that only answers to them are accepted, each once, from the browser that asked) and
// the assertions it consumed (the replay cache). The hub keeps it in LMDB; MemoryLedger serves
// tests and tools.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/result.hpp"

namespace tutelle::identity {

struct PendingRequest {
  std::string id;                    // the AuthnRequest's ID, echoed as InResponseTo
  std::string idp_entity_id;         // where it was sent
  std::string browser_binding_hash;  // hex SHA-256 of the browser's binding cookie
  std::string audience;              // who the session token will be for
  std::int64_t issued_at = 0;
  std::int64_t expires = 0;  // no answer is accepted at or after this time
  bool answered = false;
};

// Implementations must make admit() atomic with respect to every other call.
class SpLedger {
 public:
  virtual ~SpLedger() = default;

  virtual Status remember(const PendingRequest& request) = 0;
  virtual Result<std::optional<PendingRequest>> find_request(std::string_view id) = 0;
  virtual Result<bool> seen_assertion(std::string_view assertion_id) = 0;

  // Marks the request answered and keeps `assertion_id` until `keep_until`, in one step.
  // Refuses (ErrorCode::refused) an unknown or answered request or a seen assertion; then
  // nothing changes. Also forgets requests and assertions whose time has passed `now`.
  virtual Status admit(std::string_view request_id, std::string_view assertion_id,
                       std::int64_t keep_until, std::int64_t now) = 0;
};

// A ledger in memory, guarded by a mutex; lost when the process ends.
class MemoryLedger : public SpLedger {
 public:
  Status remember(const PendingRequest& request) override;
  Result<std::optional<PendingRequest>> find_request(std::string_view id) override;
  Result<bool> seen_assertion(std::string_view assertion_id) override;
  Status admit(std::string_view request_id, std::string_view assertion_id, std::int64_t keep_until,
               std::int64_t now) override;

 private:
  std::mutex mutex_;
  std::map<std::string, PendingRequest, std::less<>> requests_;  // guarded by mutex_
  std::map<std::string, std::int64_t, std::less<>> assertions_;  // guarded by mutex_
};

}  // namespace tutelle::identity
