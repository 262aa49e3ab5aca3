// Tests of net/log.hpp.

#include "net/log.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace tutelle::log {
namespace {

// Captures what is logged while it lives, at debug level; restores stderr and info after.
class CapturedLog {
 public:
  CapturedLog() {
    set_level(Level::debug);
    set_sink([this](std::string_view line) { lines.emplace_back(line); });
  }
  ~CapturedLog() {
    set_sink({});
    set_level(Level::info);
  }
  std::vector<std::string> lines;
};

TEST_CASE("a log line carries the UTC time, the level, the component and the message") {
  std::chrono::system_clock::time_point when{std::chrono::milliseconds(1714641247031)};
  CHECK(format_line(when, Level::warning, "net", "peer gone") ==
        "2024-05-02T09:14:07.031Z WARNING net: peer gone");
}

TEST_CASE("a message spanning lines is logged as one line") {
  CapturedLog log;
  info("net", "first\nsecond\r\nthird");
  REQUIRE(log.lines.size() == 1);
  CHECK_THAT(log.lines[0], Catch::EndsWith("INFO net: first second  third"));
}

TEST_CASE("events below the global level are dropped") {
  CapturedLog log;
  set_level(Level::warning);
  debug("net", "a");
  info("net", "b");
  warning("net", "c");
  error("net", "d");
  REQUIRE(log.lines.size() == 2);
  CHECK_THAT(log.lines[0], Catch::EndsWith("WARNING net: c"));
  CHECK_THAT(log.lines[1], Catch::EndsWith("ERROR net: d"));
  CHECK_FALSE(enabled(Level::info));
}

TEST_CASE("log levels are parsed by their names and an unknown name is refused") {
  CHECK(*parse_level("debug") == Level::debug);
  CHECK(*parse_level("error") == Level::error);
  Result<Level> unknown = parse_level("verbose");
  REQUIRE_FALSE(unknown.ok());
  CHECK_THAT(unknown.error().message, Catch::Contains("'verbose'"));
}

}  // namespace
}  // namespace tutelle::log
