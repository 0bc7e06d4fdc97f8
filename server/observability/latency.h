// Latency bookkeeping: per-command latency histograms (INFO latencystats, LATENCY HISTOGRAM
// and the keel_command_duration_seconds Prometheus histograms) and the LATENCY monitor's
// per-event time series (LATENCY LATEST / HISTORY / RESET).
//
// CommandHistograms: one histogram per command id, sharded per thread so that recording is
// a few relaxed atomic increments on memory no other thread writes to (threads are spread
// over kShards shards; two threads may share a shard, hence atomics). Each shard's block for
// a command is allocated on its first sample and lives until the CommandHistograms dies.
// Every sample lands in two bucket sets: a fine log-linear one (exact below 32 us, then 16
// buckets per power of two, so a percentile is off by at most ~3%) for percentiles and
// LATENCY HISTOGRAM, and the fixed Prometheus buckets (kPromBoundsUsec) so that the exported
// histogram's `le` boundaries are exact. Readers sum the shards; a read racing writers sees
// each counter either before or after a concurrent increment. Thread-safe.
//
// LatencyMonitor: Redis's latency monitor (latency.c): for each event name a ring of the
// last kHistoryLen one-second samples (samples within the same second keep the maximum) and
// the all-time maximum. Only samples at or above latency-monitor-threshold reach it, so the
// mutex is off the common path. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel::server {

class CommandHistograms {
 public:
  // Upper bounds (inclusive, microseconds) of the Prometheus buckets; +Inf follows.
  static constexpr std::array<uint64_t, 20> kPromBoundsUsec = {
      5,     10,    25,    50,     100,    250,    500,     1000,    2500,    5000,
      10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
  static constexpr size_t kPromBuckets = kPromBoundsUsec.size() + 1;  // + the +Inf bucket
  static constexpr size_t kExact = 32;                                // 0..31 us: one bucket each
  static constexpr int kSubBits = 4;                                  // 16 buckets per octave
  static constexpr int kMaxExponent = 39;  // samples >= 2^40 us land in the last bucket
  static constexpr size_t kFineBuckets = kExact + (kMaxExponent - 4) * (size_t{1} << kSubBits);
  static constexpr size_t kShards = 16;

  // Index of the fine bucket holding `usec`, and the range [lower, upper) of bucket `index`.
  static size_t FineIndex(uint64_t usec);
  static uint64_t FineLower(size_t index);
  static uint64_t FineUpper(size_t index);
  // Index of the Prometheus bucket holding `usec` (kPromBuckets - 1 is +Inf).
  static size_t PromIndex(uint64_t usec);

  explicit CommandHistograms(size_t commands);
  ~CommandHistograms();
  CommandHistograms(const CommandHistograms&) = delete;
  CommandHistograms& operator=(const CommandHistograms&) = delete;

  size_t commands() const { return commands_; }
  // The calling thread's shard (threads get one round-robin on first use).
  static size_t ThisThreadShard();

  // Records one run of command `id` that took `usec`. Lock-free.
  void Record(size_t id, uint64_t usec);

  // The sum over all shards of one command's histogram. `count` is the number of samples in
  // the fine buckets; the Prometheus buckets, read a moment later, may hold a few more.
  struct Snapshot {
    uint64_t count = 0;
    uint64_t sum_usec = 0;
    std::array<uint64_t, kPromBuckets> prom{};  // per bucket, not cumulative
    std::array<uint64_t, kFineBuckets> fine{};
  };
  // False (and *out untouched) when command `id` has never been recorded since the last Reset.
  bool Read(size_t id, Snapshot* out) const;
  // Zeroes every histogram (CONFIG RESETSTAT). Samples recorded concurrently may survive.
  void Reset();

  // The `percentile` (0..100] of a snapshot in microseconds: the largest value of the bucket
  // holding that rank (HdrHistogram's "highest equivalent value"). 0 for an empty snapshot.
  static double Percentile(const Snapshot& s, double percentile);
  // LATENCY HISTOGRAM's cumulative distribution: (bucket label in us, samples at or below
  // it), over Redis's power-of-two buckets (1024 ns doubling, labelled in whole us), only
  // where the cumulative count grows, up to the last sample.
  static std::vector<std::pair<uint64_t, uint64_t>> Cdf(const Snapshot& s);

 private:
  struct Block;
  Block* BlockFor(size_t shard, size_t id);

  size_t commands_;
  // [shard * commands_ + id]; null until the first sample.
  std::unique_ptr<std::atomic<Block*>[]> blocks_;
};

class LatencyMonitor {
 public:
  static constexpr size_t kHistoryLen = 160;  // Redis's LATENCY_TS_LEN

  // Adds a sample of `latency_ms` for `event` at Unix time `now_sec`.
  void AddSample(std::string_view event, uint64_t latency_ms, uint64_t now_sec);

  struct Latest {
    std::string event;
    uint64_t time = 0;    // Unix seconds of the latest sample
    uint64_t latest = 0;  // its latency, ms
    uint64_t max = 0;     // the all-time maximum, ms
  };
  std::vector<Latest> LatestAll() const;
  // (Unix seconds, ms) samples of `event`, oldest first; empty for an unknown event.
  std::vector<std::pair<uint64_t, uint64_t>> History(std::string_view event) const;
  // Forgets the named events (all when `events` is empty); returns how many existed.
  size_t Reset(std::span<const std::string_view> events);
  bool empty() const;

 private:
  struct Series {
    std::array<std::pair<uint64_t, uint64_t>, kHistoryLen> samples{};  // (time, ms)
    size_t next = 0;
    uint64_t max = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, Series, std::less<>> events_;
};

}  // namespace keel::server
