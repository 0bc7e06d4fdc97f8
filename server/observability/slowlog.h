// SlowLog: Redis's slow log (SLOWLOG GET / LEN / RESET) — the last `slowlog-max-len`
// commands whose run time reached `slowlog-log-slower-than` microseconds, newest first.
//
// Entries are built the way Redis builds them (slowlog.c): at most kMaxArgc arguments (the
// last of them then says how many more there were), each string argument cut to
// kMaxArgLen bytes plus "... (N more bytes)", redacted arguments (AUTH passwords) as
// "(redacted)". Ids grow by one per entry and survive RESET.
//
// Owned by the CommandObserver. Thread-safe: ShouldLog() is two relaxed atomic loads (the
// dispatcher's check for every command); the entries sit behind a mutex taken only for a
// command that is slow or for the SLOWLOG command itself.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace keel::server {

struct SlowLogEntry {
  uint64_t id = 0;
  int64_t time = 0;   // Unix seconds when logged
  uint64_t usec = 0;  // the command's run time
  std::vector<std::string> argv;
  std::string addr;  // client "ip:port"
  std::string name;  // client name
};

class SlowLog {
 public:
  static constexpr size_t kMaxArgc = 32;     // SLOWLOG_ENTRY_MAX_ARGC
  static constexpr size_t kMaxArgLen = 128;  // SLOWLOG_ENTRY_MAX_STRING

  // slowlog-log-slower-than (negative: log nothing; 0: log everything) and slowlog-max-len.
  void set_threshold_usec(int64_t usec) { threshold_.store(usec, std::memory_order_relaxed); }
  void set_max_len(uint64_t n);
  int64_t threshold_usec() const { return threshold_.load(std::memory_order_relaxed); }

  bool ShouldLog(uint64_t usec) const {
    int64_t t = threshold_.load(std::memory_order_relaxed);
    return t >= 0 && static_cast<int64_t>(usec) >= t &&
           max_len_.load(std::memory_order_relaxed) > 0;
  }

  // Adds an entry for `argv`; `redacted[i]` (if given) hides argument i.
  void Push(std::span<const std::string_view> argv, std::span<const uint8_t> redacted,
            uint64_t usec, int64_t now_sec, std::string addr, std::string name);

  // The newest `count` entries (all of them when count < 0), newest first.
  std::vector<SlowLogEntry> Get(int64_t count) const;
  size_t Len() const;
  void Reset();
  // Entries ever logged (the next id).
  uint64_t total() const { return next_id_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> threshold_{10000};
  std::atomic<uint64_t> max_len_{128};
  std::atomic<uint64_t> next_id_{0};
  mutable std::mutex mu_;
  std::deque<SlowLogEntry> entries_;  // newest first
};

}  // namespace keel::server
