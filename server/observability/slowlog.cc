#include "server/observability/slowlog.h"

namespace keel::server {

void SlowLog::set_max_len(uint64_t n) {
  std::lock_guard<std::mutex> l(mu_);
  max_len_.store(n, std::memory_order_relaxed);
  while (entries_.size() > n) entries_.pop_back();
}

void SlowLog::Push(std::span<const std::string_view> argv, std::span<const uint8_t> redacted,
                   uint64_t usec, int64_t now_sec, std::string addr, std::string name) {
  SlowLogEntry e;
  e.time = now_sec;
  e.usec = usec;
  e.addr = std::move(addr);
  e.name = std::move(name);
  size_t argc = std::min(argv.size(), kMaxArgc);
  e.argv.reserve(argc);
  for (size_t i = 0; i < argc; ++i) {
    if (argc != argv.size() && i == argc - 1) {
      e.argv.push_back("... (" + std::to_string(argv.size() - argc + 1) + " more arguments)");
    } else if (i < redacted.size() && redacted[i]) {
      e.argv.emplace_back("(redacted)");
    } else if (argv[i].size() > kMaxArgLen) {
      e.argv.push_back(std::string(argv[i].substr(0, kMaxArgLen)) + "... (" +
                       std::to_string(argv[i].size() - kMaxArgLen) + " more bytes)");
    } else {
      e.argv.emplace_back(argv[i]);
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  uint64_t max_len = max_len_.load(std::memory_order_relaxed);
  if (max_len == 0) return;
  e.id = next_id_.fetch_add(1, std::memory_order_relaxed);
  entries_.push_front(std::move(e));
  while (entries_.size() > max_len) entries_.pop_back();
}

std::vector<SlowLogEntry> SlowLog::Get(int64_t count) const {
  std::lock_guard<std::mutex> l(mu_);
  size_t n = count < 0 ? entries_.size() : std::min(entries_.size(), static_cast<size_t>(count));
  return std::vector<SlowLogEntry>(entries_.begin(), entries_.begin() + static_cast<long>(n));
}

size_t SlowLog::Len() const {
  std::lock_guard<std::mutex> l(mu_);
  return entries_.size();
}

void SlowLog::Reset() {
  std::lock_guard<std::mutex> l(mu_);
  entries_.clear();
}

}  // namespace keel::server
