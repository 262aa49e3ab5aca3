#pragma once
// The project's logger: one line per event on stderr, e.g.
//
//   2024-05-02T09:14:07.031Z INFO net: connection from 127.0.0.1:50312 accepted (TLSv1.3)
//
// Usage:
//   log::set_level(log::Level::debug);                       // once, at start-up
//   log::info("net", "connection from " + peer + " accepted");
//   if (log::enabled(log::Level::debug)) log::debug("sync", expensive_description());
//
// Thread-safety: every function may be called from any thread. Lines from different threads
// never interleave; a newline inside a message is written as a space, so one event stays one
// line.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "protocol/result.hpp"

namespace tutelle::log {

enum class Level { debug, info, warning, error };

const char* to_string(Level level);

// Accepts "debug", "info", "warning" and "error" (what to_string gives).
Result<Level> parse_level(std::string_view name);

// Events below `level` are dropped. The default is info.
void set_level(Level level);
Level level();
bool enabled(Level level);

void write(Level level, std::string_view component, std::string_view message);
inline void debug(std::string_view component, std::string_view message) {
  write(Level::debug, component, message);
}
inline void info(std::string_view component, std::string_view message) {
  write(Level::info, component, message);
}
inline void warning(std::string_view component, std::string_view message) {
  write(Level::warning, component, message);
}
inline void error(std::string_view component, std::string_view message) {
  write(Level::error, component, message);
}

// Where lines go: a function given each line without its newline. An empty Sink restores
// stderr. Tests install one to look at what was logged; it is called under the logger's lock,
// so it must not log itself.
using Sink = std::function<void(std::string_view line)>;
void set_sink(Sink sink);

// The line write() emits, without its newline; exposed so tests can check the format.
std::string format_line(std::chrono::system_clock::time_point when, Level level,
                        std::string_view component, std::string_view message);

}  // namespace tutelle::log
