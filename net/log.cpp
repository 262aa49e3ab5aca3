#include "net/log.hpp"

#include <atomic>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace tutelle::log {

namespace {

std::atomic<Level> g_level{Level::info};

// Guards g_sink and the writes to stderr, so that lines never interleave.
std::mutex g_mutex;
Sink g_sink;

std::string timestamp(std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  std::time_t seconds = system_clock::to_time_t(when);
  auto millis = duration_cast<milliseconds>(when.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);

  char text[40];
  std::size_t size = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + size, sizeof text - size, ".%03dZ", static_cast<int>(millis));
  return text;
}

}  // namespace

const char* to_string(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warning: return "warning";
    case Level::error: return "error";
  }
  return "unknown";
}

Result<Level> parse_level(std::string_view name) {
  for (Level level : {Level::debug, Level::info, Level::warning, Level::error}) {
    if (name == to_string(level)) return level;
  }
  return make_error(ErrorCode::invalid_argument, "log level: '" + std::string(name) +
                                                     "' is not one of debug, info, warning, error");
}

void set_level(Level level) {
  g_level.store(level, std::memory_order_relaxed);
}

Level level() {
  return g_level.load(std::memory_order_relaxed);
}

bool enabled(Level wanted) {
  return wanted >= level();
}

std::string format_line(std::chrono::system_clock::time_point when, Level level,
                        std::string_view component, std::string_view message) {
  std::string line = timestamp(when);
  std::string name = to_string(level);
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  line += " " + name + " " + std::string(component) + ": ";

  // One event, one line: a message that spans lines would be read as several events.
  for (char c : message) line.push_back(c == '\n' || c == '\r' ? ' ' : c);
  return line;
}

void write(Level level, std::string_view component, std::string_view message) {
  if (!enabled(level)) return;
  std::string line = format_line(std::chrono::system_clock::now(), level, component, message);

  std::lock_guard lock(g_mutex);
  if (g_sink) {
    g_sink(line);
    return;
  }
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
}

void set_sink(Sink sink) {
  std::lock_guard lock(g_mutex);
  g_sink = std::move(sink);
}

}  // namespace tutelle::log
