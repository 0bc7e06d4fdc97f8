// Log: leveled, one line per event, in redis-server's line format
// ("<pid>:M <date> <level-char> <message>"), to standard output or the `logfile`.
// Thread-safe (one mutex around each line). Not for the per-command hot path.
#pragma once

#include <string>
#include <string_view>

namespace keel::server {

enum class LogLevel : int { kDebug = 0, kVerbose = 1, kNotice = 2, kWarning = 3 };

void LogSetLevel(std::string_view name);  // debug, verbose, notice, warning
void LogSetFile(const std::string& path);  // empty = stdout
bool LogEnabled(LogLevel level);
void Log(LogLevel level, std::string_view message);

}  // namespace keel::server
