// The hybrid logical clock: monotonic, following what it observes, bounded ahead of local time.

#include <catch2/catch.hpp>

#include "conflict/hlc.hpp"

using tutelle::conflict::HybridClock;

TEST_CASE("the clock never goes backwards, even when the wall clock does") {
  std::uint64_t wall = 1'000'000;
  HybridClock clock([&] { return wall; });
  std::uint64_t first = clock.tick();
  wall -= 500;
  std::uint64_t second = clock.tick();
  CHECK(second > first);
  CHECK(HybridClock::millis_of(second) == 1'000'000);
  wall += 10'000;
  CHECK(HybridClock::millis_of(clock.tick()) == 1'009'500);
}

TEST_CASE("a clock observed from a peer moves the local clock past it") {
  std::uint64_t wall = 1'000'000;
  HybridClock clock([&] { return wall; });
  std::uint64_t remote = HybridClock::from_millis(1'000'200) + 3;
  REQUIRE(clock.observe(remote).ok());
  CHECK(clock.tick() > remote);
}

TEST_CASE("a clock further ahead of local time than the bound is refused and not followed") {
  std::uint64_t wall = 1'000'000;
  HybridClock clock([&] { return wall; }, 60'000);
  std::uint64_t before = clock.tick();
  auto refused = clock.observe(HybridClock::from_millis(wall + 60'001));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == tutelle::ErrorCode::refused);
  CHECK(clock.last() == before);
  CHECK(clock.observe(HybridClock::from_millis(wall + 60'000)).ok());
}

TEST_CASE("a restored clock continues after the last value it issued") {
  HybridClock clock([] { return std::uint64_t{5}; });
  clock.restore(HybridClock::from_millis(9));
  CHECK(clock.tick() > HybridClock::from_millis(9));
}
