#include "server/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace keel::server {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kNotice)};
std::mutex g_mu;
FILE* g_file = nullptr;

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

bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

void Log(LogLevel level, std::string_view message) {
  if (!LogEnabled(level)) return;
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  int ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char date[64];
  std::strftime(date, sizeof(date), "%d %b %Y %H:%M:%S", &tm);
  static const char kMarks[] = {'.', '-', '*', '#'};
  std::lock_guard<std::mutex> lock(g_mu);
  FILE* f = g_file != nullptr ? g_file : stdout;
  std::fprintf(f, "%d:M %s.%03d %c %.*s\n", static_cast<int>(getpid()), date, ms,
               kMarks[static_cast<int>(level)], static_cast<int>(message.size()), message.data());
  std::fflush(f);
}

}  // namespace keel::server
