#include "identity/sp_ledger.hpp"

namespace tutelle::identity {

namespace {

template <typename Map, typename Expiry>
void forget_past(Map& map, std::int64_t now, Expiry expiry) {
  for (auto it = map.begin(); it != map.end();) {
    it = expiry(it->second) <= now ? map.erase(it) : std::next(it);
  }
}

}  // namespace

Status MemoryLedger::remember(const PendingRequest& request) {
  std::lock_guard lock(mutex_);
  if (!requests_.emplace(request.id, request).second) {
    return make_error(ErrorCode::conflict, "request " + request.id + " exists already");
  }
  return {};
}

Result<std::optional<PendingRequest>> MemoryLedger::find_request(std::string_view id) {
  std::lock_guard lock(mutex_);
  auto found = requests_.find(id);
  if (found == requests_.end()) return std::optional<PendingRequest>{};
  return std::optional<PendingRequest>(found->second);
}

Result<bool> MemoryLedger::seen_assertion(std::string_view assertion_id) {
  std::lock_guard lock(mutex_);
  return assertions_.count(assertion_id) > 0;
}

Status MemoryLedger::admit(std::string_view request_id, std::string_view assertion_id,
                           std::int64_t keep_until, std::int64_t now) {
  std::lock_guard lock(mutex_);
  auto request = requests_.find(request_id);
  if (request == requests_.end() || request->second.answered) {
    return make_error(ErrorCode::refused,
                      "the request " + std::string(request_id) + " is unknown or answered");
  }
  if (assertions_.count(assertion_id) > 0) {
    return make_error(ErrorCode::refused,
                      "the assertion " + std::string(assertion_id) + " was seen before (replay)");
  }
  request->second.answered = true;
  assertions_.emplace(std::string(assertion_id), keep_until);
  forget_past(assertions_, now, [](std::int64_t until) { return until; });
  forget_past(requests_, now, [](const PendingRequest& r) { return r.expires; });
  return {};
}

}  // namespace tutelle::identity
