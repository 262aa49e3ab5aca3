#pragma once
// A hybrid logical clock: milliseconds since the Unix epoch in the high 48 bits, a counter in
// the low 16. It never goes backwards, follows the clocks it observes, and refuses a remote
// clock too far ahead of local time (a node with a wrong clock must not drag everyone along).
//
// Not thread-safe: one clock per store, used under its write transaction.

#include <cstdint>
#include <functional>

#include "protocol/result.hpp"

namespace tutelle::conflict {

using PhysicalClock = std::function<std::uint64_t()>;  // milliseconds since the epoch

std::uint64_t system_millis();

class HybridClock {
 public:
  // `max_ahead_ms`: how far ahead of local time a received clock may be.
  explicit HybridClock(PhysicalClock physical = system_millis,
                       std::uint64_t max_ahead_ms = 5 * 60 * 1000)
      : physical_(std::move(physical)), max_ahead_ms_(max_ahead_ms) {}

  // A clock greater than every clock this one issued or observed.
  std::uint64_t tick();
  // Takes `remote` into account; refuses it if it is more than max_ahead_ms in the future.
  Status observe(std::uint64_t remote);
  // Restores the last value after a restart.
  void restore(std::uint64_t last) { last_ = last > last_ ? last : last_; }
  std::uint64_t last() const { return last_; }

  static std::uint64_t millis_of(std::uint64_t hlc) { return hlc >> 16; }
  static std::uint64_t from_millis(std::uint64_t millis) { return millis << 16; }

 private:
  PhysicalClock physical_;
  std::uint64_t max_ahead_ms_;
  std::uint64_t last_ = 0;
};

}  // namespace tutelle::conflict
