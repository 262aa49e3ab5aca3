#include "conflict/compaction.hpp"

namespace tutelle::conflict {

void Frontier::observe(const std::string& scope, const KeyBytes& origin, std::uint64_t seq) {
  auto [at, fresh] = heads_.try_emplace({scope, origin}, seq);
  if (!fresh && at->second < seq) at->second = seq;
}

std::uint64_t Frontier::head(const std::string& scope, const KeyBytes& origin) const {
  auto found = heads_.find({scope, origin});
  return found == heads_.end() ? 0 : found->second;
}

bool Frontier::passed(const Dot& dot, const std::string& scope) const {
  return head(scope, dot.origin) > dot.seq;
}

}  // namespace tutelle::conflict
