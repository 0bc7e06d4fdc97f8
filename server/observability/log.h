// Log: leveled, one line per event, to standard output or the `logfile`, in one of two
// formats (`log-format`):
//   redis (default): redis-server's line format, "<pid>:M <date> <level-char> <message>",
//                    followed by any fields as " key=value";
//   json:            one JSON object per line, {"ts":"2024-05-01T12:00:00.123Z","pid":1,
//                    "role":"M","level":"notice","msg":"...", fields...} for log shippers.
// Control characters in messages and fields are escaped, so an event is always one line.
//
// Thread-safe (one mutex around each line). Not for the per-command hot path: code that may
// log per request (client errors, limits) uses LogRateLimited, which prints at most one line
// per second per category and reports how many it suppressed.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace keel::server {

enum class LogLevel : int { kDebug = 0, kVerbose = 1, kNotice = 2, kWarning = 3 };

struct LogField {
  std::string_view key;
  std::string value;
};

void LogSetLevel(std::string_view name);   // debug, verbose, notice, warning
void LogSetFile(const std::string& path);  // empty = stdout
void LogSetFormat(std::string_view name);  // redis, json
bool LogEnabled(LogLevel level);
void Log(LogLevel level, std::string_view message);
void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields);
// At most one line per second for `category` (a string literal naming the event kind);
// the next line printed says how many were suppressed meanwhile.
void LogRateLimited(LogLevel level, std::string_view category, std::string_view message,
                    std::initializer_list<LogField> fields = {});

// The line Log would print (exposed for tests); `unix_ms` is the event time.
std::string LogFormatLine(LogLevel level, std::string_view message,
                          std::initializer_list<LogField> fields, int64_t unix_ms, bool json);

}  // namespace keel::server
