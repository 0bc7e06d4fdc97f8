// CommandObserver: what the dispatcher tells the observability layer about every command,
// and the state it feeds: per-command latency histograms (INFO latencystats, LATENCY
// HISTOGRAM, keel_command_duration_seconds), the SLOWLOG, the LATENCY monitor, MONITOR
// clients, error statistics (INFO errorstats, keel_errors_total) and RocksDB block-cache
// hits/misses seen by commands. The per-command counters themselves (calls, usec, failed,
// rejected) stay in CommandTable::stats, which the dispatcher updates.
//
// Called on the io thread that ran the command, after it ran. The common path — latency
// tracking on, no monitor, command not slow — is a few relaxed atomic operations on
// per-thread shards and no lock; a slow command, a latency spike or an active MONITOR takes
// the slow path (formatting, a mutex).
//
// Owned by the Server and constructed with it; it sizes its histograms from the Server's
// CommandTable, which must be constructed first (it is: declared before the observer).
// Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/observability/latency.h"
#include "server/observability/monitor.h"
#include "server/observability/slowlog.h"

namespace keel::server {

class Server;
struct Client;
struct CommandSpec;

// Error replies by their code, the first word of the error ("ERR", "WRONGTYPE"...), as Redis
// counts them for INFO errorstats. Codes Redis uses are counted lock-free; others go to a
// map behind a mutex, at most kMaxKinds distinct codes (as Redis, further new ones are not
// tracked). Thread-safe.
class ErrorStats {
 public:
  static constexpr size_t kMaxKinds = 128;
  // `error` is the error line without the leading '-' (a leading '-' is ignored).
  void Count(std::string_view error);
  // (code, count) for every code seen since the last Reset, sorted by code.
  std::vector<std::pair<std::string, uint64_t>> Snapshot() const;
  void Reset();
  // The code of an error line: its first word if that ends within 32 bytes, else "ERR".
  static std::string_view Code(std::string_view error);

 private:
  static constexpr std::array<std::string_view, 27> kKnown = {
      "ERR",        "WRONGTYPE",  "NOAUTH",    "WRONGPASS", "NOSCRIPT",  "EXECABORT",   "NOPROTO",
      "BUSYGROUP",  "NOGROUP",    "UNBLOCKED", "OOM",       "LOADING",   "BUSY",        "BUSYKEY",
      "NOPERM",     "READONLY",   "MOVED",     "ASK",       "CROSSSLOT", "CLUSTERDOWN", "TRYAGAIN",
      "MASTERDOWN", "NOREPLICAS", "IOERR",     "NOTBUSY",   "MISCONF",   "NOTREADONLY"};
  std::array<std::atomic<uint64_t>, kKnown.size()> known_{};
  mutable std::mutex mu_;
  std::map<std::string, uint64_t, std::less<>> other_;
};

class CommandObserver {
 public:
  explicit CommandObserver(Server& server);

  // `spec` is null for an unknown command. `usec` is the command's own run time. `failed`:
  // it ran and replied with an error; `rejected`: refused before running (arity, auth...).
  void OnCommand(const CommandSpec* spec, const Client& client,
                 std::span<const std::string_view> argv, uint64_t usec, bool failed, bool rejected);
  // Every error reply a command sends (counted by code for INFO errorstats).
  void OnErrorReply(std::string_view error) { errors_.Count(error); }

  // The options applied here, at start-up (Server::Start) and on CONFIG SET.
  static constexpr std::array<const char*, 6> kConfigOptions = {
      "slowlog-log-slower-than",           "slowlog-max-len",
      "latency-monitor-threshold",         "latency-tracking",
      "latency-tracking-info-percentiles", "log-format"};
  void ApplyConfig(const std::string& name, const std::string& value);

  SlowLog& slowlog() { return slowlog_; }
  LatencyMonitor& latency_monitor() { return latency_; }
  CommandHistograms& histograms() { return histograms_; }
  MonitorFeed& monitors() { return monitors_; }
  ErrorStats& errors() { return errors_; }

  bool latency_tracking() const { return latency_tracking_.load(std::memory_order_relaxed); }
  // latency-tracking-info-percentiles, parsed.
  std::vector<double> info_percentiles() const;
  uint64_t latency_threshold_ms() const {
    return latency_threshold_ms_.load(std::memory_order_relaxed);
  }

  // Counting RocksDB block-cache hits and misses of commands (through RocksDB's per-thread
  // perf context, which this turns on for io threads as they run their next command).
  void set_count_block_cache(bool on) { count_block_cache_.store(on, std::memory_order_relaxed); }
  uint64_t block_cache_hits() const;
  uint64_t block_cache_misses() const;

  // CONFIG RESETSTAT: latency histograms and error statistics (as Redis; the SLOWLOG and
  // the LATENCY monitor have their own RESET).
  void ResetStats();

  // Which arguments of `argv` Redis hides in MONITOR and SLOWLOG ("(redacted)"): AUTH's,
  // HELLO's and MIGRATE's credentials, CONFIG SET of requirepass / masterauth. Empty when
  // none is.
  static std::vector<uint8_t> Redactions(const CommandSpec& spec,
                                         std::span<const std::string_view> argv);

 private:
  void SlowPath(const CommandSpec& spec, const Client& client,
                std::span<const std::string_view> argv, uint64_t usec, bool slow, bool monitor,
                bool spike);
  void CountBlockCache();

  SlowLog slowlog_;
  LatencyMonitor latency_;
  CommandHistograms histograms_;
  MonitorFeed monitors_;
  ErrorStats errors_;

  std::atomic<bool> latency_tracking_{true};
  std::atomic<uint64_t> latency_threshold_ms_{0};
  std::atomic<bool> count_block_cache_{false};
  mutable std::mutex percentiles_mu_;
  std::vector<double> percentiles_{50, 99, 99.9};

  struct alignas(64) CacheShard {
    std::atomic<uint64_t> hits{0};
    std::atomic<uint64_t> misses{0};
  };
  std::array<CacheShard, CommandHistograms::kShards> cache_;
};

// Parses latency-tracking-info-percentiles ("50 99 99.9"); nullopt unless every value is a
// number in [0, 100].
std::optional<std::vector<double>> ParsePercentiles(std::string_view text);
// The CONFIG SET error text for a bad latency-tracking-info-percentiles value (Redis's), or
// "" when it is good.
std::string CheckPercentiles(std::string_view text);
// A double as Redis prints percentiles and config values: shortest form ("50", "99.9").
std::string ShortDouble(double v);

}  // namespace keel::server
