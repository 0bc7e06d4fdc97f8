#include "server/observability/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>

#include "datatypes/clock.h"

namespace keel::server {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kNotice)};
std::atomic<bool> g_json{false};
std::mutex g_mu;
FILE* g_file = nullptr;

struct RateState {
  int64_t last_ms = 0;
  uint64_t suppressed = 0;
};
std::mutex g_rate_mu;
std::map<std::string, RateState, std::less<>> g_rate;

constexpr std::string_view kLevelNames[] = {"debug", "verbose", "notice", "warning"};
constexpr char kMarks[] = {'.', '-', '*', '#'};

// Log lines carry the wall time even when a test injects a fake clock into the server.
int64_t NowMs() { return static_cast<int64_t>(SystemClockMs()); }

// Escapes what would break the line: backslash-escapes for the redis format, JSON string
// escapes for json.
void AppendEscaped(std::string* out, std::string_view s, bool json) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out->append("\\n");
    } else if (c == '\r') {
      out->append("\\r");
    } else if (c == '\t') {
      out->append("\\t");
    } else if (json && (c == '"' || c == '\\')) {
      out->push_back('\\');
      out->push_back(ch);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), json ? "\\u%04x" : "\\x%02x", c);
      out->append(buf);
    } else {
      out->push_back(ch);
    }
  }
}

}  // namespace

void LogSetLevel(std::string_view name) {
  LogLevel l = LogLevel::kNotice;
  if (name == "debug") l = LogLevel::kDebug;
  if (name == "verbose") l = LogLevel::kVerbose;
  if (name == "warning") l = LogLevel::kWarning;
  g_level.store(static_cast<int>(l));
}

void LogSetFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_file != nullptr && g_file != stdout) fclose(g_file);
  g_file = path.empty() ? stdout : fopen(path.c_str(), "a");
  if (g_file == nullptr) g_file = stdout;
}

void LogSetFormat(std::string_view name) { g_json.store(name == "json"); }

bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

std::string LogFormatLine(LogLevel level, std::string_view message,
                          std::initializer_list<LogField> fields, int64_t unix_ms, bool json) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  int ms = static_cast<int>(unix_ms % 1000);
  std::tm tm{};
  std::string line;
  char date[64];
  int lvl = static_cast<int>(level);
  if (json) {
    gmtime_r(&t, &tm);
    std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    char head[160];
    std::snprintf(head, sizeof(head),
                  "{\"ts\":\"%s.%03dZ\",\"pid\":%d,\"role\":\"M\",\"level\":\"%s\",\"msg\":\"",
                  date, ms, static_cast<int>(getpid()), kLevelNames[lvl].data());
    line.append(head);
    AppendEscaped(&line, message, true);
    line.push_back('"');
    for (const auto& f : fields) {
      line.append(",\"");
      AppendEscaped(&line, f.key, true);
      line.append("\":\"");
      AppendEscaped(&line, f.value, true);
      line.push_back('"');
    }
    line.append("}\n");
    return line;
  }
  localtime_r(&t, &tm);
  std::strftime(date, sizeof(date), "%d %b %Y %H:%M:%S", &tm);
  char head[128];
  std::snprintf(head, sizeof(head), "%d:M %s.%03d %c ", static_cast<int>(getpid()), date, ms,
                kMarks[lvl]);
  line.append(head);
  AppendEscaped(&line, message, false);
  for (const auto& f : fields) {
    line.push_back(' ');
    AppendEscaped(&line, f.key, false);
    line.push_back('=');
    bool quote = f.value.empty() || f.value.find_first_of(" \"") != std::string::npos;
    if (quote) line.push_back('"');
    AppendEscaped(&line, f.value, false);
    if (quote) line.push_back('"');
  }
  line.push_back('\n');
  return line;
}

void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  std::string line = LogFormatLine(level, message, fields, NowMs(), g_json.load());
  std::lock_guard<std::mutex> lock(g_mu);
  FILE* f = g_file != nullptr ? g_file : stdout;
  std::fwrite(line.data(), 1, line.size(), f);
  std::fflush(f);
}

void Log(LogLevel level, std::string_view message) { Log(level, message, {}); }

void LogRateLimited(LogLevel level, std::string_view category, std::string_view message,
                    std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  int64_t now = NowMs();
  uint64_t suppressed = 0;
  {
    std::lock_guard<std::mutex> l(g_rate_mu);
    auto it = g_rate.find(category);
    if (it == g_rate.end()) it = g_rate.emplace(std::string(category), RateState{}).first;
    if (it->second.last_ms != 0 && now - it->second.last_ms < 1000) {
      ++it->second.suppressed;
      return;
    }
    it->second.last_ms = now;
    suppressed = it->second.suppressed;
    it->second.suppressed = 0;
  }
  if (suppressed == 0) return Log(level, message, fields);
  std::string text(message);
  text += " (" + std::to_string(suppressed) + " similar messages suppressed)";
  Log(level, text, fields);
}

}  // namespace keel::server
