#include "conflict/hlc.hpp"

#include <chrono>
#include <string>

namespace tutelle::conflict {

std::uint64_t system_millis() {
  using namespace std::chrono;
  return static_cast<std::uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

std::uint64_t HybridClock::tick() {
  std::uint64_t wall = from_millis(physical_());
  last_ = wall > last_ ? wall : last_ + 1;
  return last_;
}

Status HybridClock::observe(std::uint64_t remote) {
  std::uint64_t local_ms = physical_();
  if (millis_of(remote) > local_ms + max_ahead_ms_) {
    return make_error(ErrorCode::refused, "clock " + std::to_string(millis_of(remote)) + " ms is " +
                                              std::to_string(millis_of(remote) - local_ms) +
                                              " ms ahead of local time (at most " +
                                              std::to_string(max_ahead_ms_) + " ms allowed)");
  }
  if (remote > last_) last_ = remote;
  return {};
}

}  // namespace tutelle::conflict
