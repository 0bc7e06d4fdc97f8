#include "server/observability/latency.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace keel::server {
size_t CommandHistograms::ThisThreadShard() {
  static std::atomic<size_t> next{0};
  thread_local size_t shard = next.fetch_add(1, std::memory_order_relaxed) % kShards;
  return shard;
}

struct CommandHistograms::Block {
  std::atomic<uint64_t> sum{0};
  std::array<std::atomic<uint64_t>, kPromBuckets> prom{};
  std::array<std::atomic<uint64_t>, kFineBuckets> fine{};
};

size_t CommandHistograms::FineIndex(uint64_t usec) {
  if (usec < kExact) return static_cast<size_t>(usec);
  int e = std::bit_width(usec) - 1;  // >= 5
  if (e > kMaxExponent) return kFineBuckets - 1;
  size_t sub = static_cast<size_t>(usec >> (e - kSubBits)) & ((size_t{1} << kSubBits) - 1);
  return kExact + static_cast<size_t>(e - 5) * (size_t{1} << kSubBits) + sub;
}

uint64_t CommandHistograms::FineLower(size_t index) {
  if (index < kExact) return index;
  size_t rel = index - kExact;
  int e = 5 + static_cast<int>(rel >> kSubBits);
  uint64_t sub = rel & ((size_t{1} << kSubBits) - 1);
  return ((uint64_t{1} << kSubBits) + sub) << (e - kSubBits);
}

uint64_t CommandHistograms::FineUpper(size_t index) {
  if (index < kExact) return index + 1;
  size_t rel = index - kExact;
  int e = 5 + static_cast<int>(rel >> kSubBits);
  uint64_t sub = rel & ((size_t{1} << kSubBits) - 1);
  return ((uint64_t{1} << kSubBits) + sub + 1) << (e - kSubBits);
}

size_t CommandHistograms::PromIndex(uint64_t usec) {
  size_t i = 0;
  while (i < kPromBoundsUsec.size() && usec > kPromBoundsUsec[i]) ++i;
  return i;
}

CommandHistograms::CommandHistograms(size_t commands)
    : commands_(commands), blocks_(new std::atomic<Block*>[kShards * commands]) {
  for (size_t i = 0; i < kShards * commands; ++i) blocks_[i].store(nullptr);
}

CommandHistograms::~CommandHistograms() {
  for (size_t i = 0; i < kShards * commands_; ++i) delete blocks_[i].load();
}

CommandHistograms::Block* CommandHistograms::BlockFor(size_t shard, size_t id) {
  std::atomic<Block*>& slot = blocks_[shard * commands_ + id];
  Block* b = slot.load(std::memory_order_acquire);
  if (b != nullptr) return b;
  auto fresh = std::make_unique<Block>();
  if (slot.compare_exchange_strong(b, fresh.get(), std::memory_order_acq_rel)) {
    return fresh.release();
  }
  return b;  // another thread of this shard won the race
}

void CommandHistograms::Record(size_t id, uint64_t usec) {
  if (id >= commands_) return;
  Block* b = BlockFor(ThisThreadShard(), id);
  b->fine[FineIndex(usec)].fetch_add(1, std::memory_order_relaxed);
  b->prom[PromIndex(usec)].fetch_add(1, std::memory_order_relaxed);
  b->sum.fetch_add(usec, std::memory_order_relaxed);
}

bool CommandHistograms::Read(size_t id, Snapshot* out) const {
  if (id >= commands_) return false;
  Snapshot s;
  bool any = false;
  for (size_t shard = 0; shard < kShards; ++shard) {
    const Block* b = blocks_[shard * commands_ + id].load(std::memory_order_acquire);
    if (b == nullptr) continue;
    any = true;
    s.sum_usec += b->sum.load(std::memory_order_relaxed);
    for (size_t i = 0; i < kPromBuckets; ++i)
      s.prom[i] += b->prom[i].load(std::memory_order_relaxed);
    for (size_t i = 0; i < kFineBuckets; ++i) {
      uint64_t n = b->fine[i].load(std::memory_order_relaxed);
      s.fine[i] += n;
      s.count += n;
    }
  }
  if (!any || s.count == 0) return false;
  *out = s;
  return true;
}

void CommandHistograms::Reset() {
  for (size_t i = 0; i < kShards * commands_; ++i) {
    Block* b = blocks_[i].load(std::memory_order_acquire);
    if (b == nullptr) continue;
    b->sum.store(0, std::memory_order_relaxed);
    for (auto& n : b->prom) n.store(0, std::memory_order_relaxed);
    for (auto& n : b->fine) n.store(0, std::memory_order_relaxed);
  }
}

double CommandHistograms::Percentile(const Snapshot& s, double percentile) {
  uint64_t total = 0;
  for (uint64_t n : s.fine) total += n;
  if (total == 0) return 0;
  double p = std::clamp(percentile, 0.0, 100.0);
  auto rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total)));
  rank = std::clamp<uint64_t>(rank, 1, total);
  uint64_t seen = 0;
  for (size_t i = 0; i < kFineBuckets; ++i) {
    seen += s.fine[i];
    if (seen >= rank) return static_cast<double>(FineUpper(i) - 1);
  }
  return static_cast<double>(FineUpper(kFineBuckets - 1) - 1);
}

std::vector<std::pair<uint64_t, uint64_t>> CommandHistograms::Cdf(const Snapshot& s) {
  uint64_t total = 0;
  for (uint64_t n : s.fine) total += n;
  std::vector<std::pair<uint64_t, uint64_t>> out;
  uint64_t cumulative = 0, previous = 0;
  size_t i = 0;
  for (int k = 0; k < 62 && previous < total; ++k) {
    // Redis iterates HdrHistogram's log buckets from 1024 ns doubling, labelled by the
    // bucket's highest nanosecond value in whole microseconds.
    uint64_t label = ((uint64_t{1024} << k) - 1) / 1000;
    while (i < kFineBuckets && FineUpper(i) - 1 <= label) cumulative += s.fine[i++];
    if (i == kFineBuckets) cumulative = total;
    if (cumulative > previous) out.emplace_back(label, cumulative);
    previous = cumulative;
  }
  return out;
}

void LatencyMonitor::AddSample(std::string_view event, uint64_t latency_ms, uint64_t now_sec) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = events_.find(event);
  if (it == events_.end()) it = events_.emplace(std::string(event), Series{}).first;
  Series& s = it->second;
  s.max = std::max(s.max, latency_ms);
  auto& prev = s.samples[(s.next + kHistoryLen - 1) % kHistoryLen];
  if (prev.first == now_sec) {
    prev.second = std::max(prev.second, latency_ms);
    return;
  }
  s.samples[s.next] = {now_sec, latency_ms};
  s.next = (s.next + 1) % kHistoryLen;
}

std::vector<LatencyMonitor::Latest> LatencyMonitor::LatestAll() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<Latest> out;
  for (const auto& [name, s] : events_) {
    const auto& last = s.samples[(s.next + kHistoryLen - 1) % kHistoryLen];
    out.push_back({name, last.first, last.second, s.max});
  }
  return out;
}

std::vector<std::pair<uint64_t, uint64_t>> LatencyMonitor::History(std::string_view event) const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::pair<uint64_t, uint64_t>> out;
  auto it = events_.find(event);
  if (it == events_.end()) return out;
  const Series& s = it->second;
  for (size_t j = 0; j < kHistoryLen; ++j) {
    const auto& sample = s.samples[(s.next + j) % kHistoryLen];
    if (sample.first != 0) out.push_back(sample);
  }
  return out;
}

size_t LatencyMonitor::Reset(std::span<const std::string_view> events) {
  std::lock_guard<std::mutex> l(mu_);
  if (events.empty()) {
    size_t n = events_.size();
    events_.clear();
    return n;
  }
  size_t n = 0;
  for (std::string_view e : events) {
    auto it = events_.find(e);
    if (it == events_.end()) continue;
    events_.erase(it);
    ++n;
  }
  return n;
}

bool LatencyMonitor::empty() const {
  std::lock_guard<std::mutex> l(mu_);
  return events_.empty();
}

}  // namespace keel::server
