#include "server/observability/observer.h"

#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>

#include <charconv>
#include <chrono>

#include "server/commands/command.h"
#include "server/net/client.h"
#include "server/observability/log.h"
#include "server/server.h"

namespace keel::server {
namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

int64_t ToInt(const std::string& s) {
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

// ------------------------------------------------------------------------- ErrorStats

std::string_view ErrorStats::Code(std::string_view error) {
  if (!error.empty() && error.front() == '-') error.remove_prefix(1);
  size_t space = error.substr(0, 32).find(' ');
  if (space == std::string_view::npos || space == 0) return "ERR";
  return error.substr(0, space);
}

void ErrorStats::Count(std::string_view error) {
  std::string_view code = Code(error);
  for (size_t i = 0; i < kKnown.size(); ++i) {
    if (kKnown[i] == code) {
      known_[i].fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  auto it = other_.find(code);
  if (it != other_.end()) {
    ++it->second;
  } else if (other_.size() + kKnown.size() < kMaxKinds) {
    other_.emplace(std::string(code), 1);
  }
}

std::vector<std::pair<std::string, uint64_t>> ErrorStats::Snapshot() const {
  std::map<std::string, uint64_t> all;
  for (size_t i = 0; i < kKnown.size(); ++i) {
    uint64_t n = known_[i].load(std::memory_order_relaxed);
    if (n > 0) all.emplace(std::string(kKnown[i]), n);
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [code, n] : other_) all.emplace(code, n);
  }
  return {all.begin(), all.end()};
}

void ErrorStats::Reset() {
  for (auto& n : known_) n.store(0, std::memory_order_relaxed);
  std::lock_guard<std::mutex> l(mu_);
  other_.clear();
}

// ------------------------------------------------------------------------- config helpers

namespace {

// 0: parsed; 1: not a number; 2: out of [0, 100].
int ParsePercentilesInto(std::string_view text, std::vector<double>* out) {
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    if (i >= text.size()) break;
    size_t j = text.find(' ', i);
    if (j == std::string_view::npos) j = text.size();
    double v = 0;
    auto [ptr, ec] = std::from_chars(text.data() + i, text.data() + j, v);
    if (ec != std::errc() || ptr != text.data() + j) return 1;
    if (!(v >= 0.0 && v <= 100.0)) return 2;
    out->push_back(v);
    i = j;
  }
  return 0;
}

}  // namespace

std::optional<std::vector<double>> ParsePercentiles(std::string_view text) {
  std::vector<double> out;
  if (ParsePercentilesInto(text, &out) != 0) return std::nullopt;
  return out;
}

std::string CheckPercentiles(std::string_view text) {
  std::vector<double> out;
  switch (ParsePercentilesInto(text, &out)) {
    case 0:
      return "";
    case 2:
      return "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
    default:
      return "Invalid latency-tracking-info-percentiles parameters";
  }
}

std::string ShortDouble(double v) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, ptr) : std::to_string(v);
}

// ------------------------------------------------------------------------- CommandObserver

CommandObserver::CommandObserver(Server& server) : histograms_(server.commands().all().size()) {}

void CommandObserver::ApplyConfig(const std::string& name, const std::string& value) {
  if (name == "slowlog-log-slower-than") {
    slowlog_.set_threshold_usec(ToInt(value));
  } else if (name == "slowlog-max-len") {
    slowlog_.set_max_len(static_cast<uint64_t>(ToInt(value)));
  } else if (name == "latency-monitor-threshold") {
    latency_threshold_ms_.store(static_cast<uint64_t>(ToInt(value)), std::memory_order_relaxed);
  } else if (name == "latency-tracking") {
    latency_tracking_.store(value == "yes", std::memory_order_relaxed);
  } else if (name == "latency-tracking-info-percentiles") {
    if (auto p = ParsePercentiles(value)) {
      std::lock_guard<std::mutex> l(percentiles_mu_);
      percentiles_ = std::move(*p);
    }
  } else if (name == "log-format") {
    LogSetFormat(value);
  }
}

std::vector<double> CommandObserver::info_percentiles() const {
  std::lock_guard<std::mutex> l(percentiles_mu_);
  return percentiles_;
}

std::vector<uint8_t> CommandObserver::Redactions(const CommandSpec& spec,
                                                 std::span<const std::string_view> argv) {
  std::vector<uint8_t> out;
  auto hide = [&](size_t i) {
    if (i >= argv.size()) return;
    if (out.empty()) out.assign(argv.size(), 0);
    out[i] = 1;
  };
  std::string_view name = spec.name;
  if (name == "auth") {
    for (size_t i = 1; i < argv.size(); ++i) hide(i);
  } else if (name == "hello") {
    for (size_t j = 2; j < argv.size(); ++j) {
      if (EqualsNoCase(argv[j], "AUTH") && j + 2 < argv.size()) {
        hide(j + 1);
        hide(j + 2);
        j += 2;
      } else if (EqualsNoCase(argv[j], "SETNAME") && j + 1 < argv.size()) {
        ++j;
      } else {
        break;
      }
    }
  } else if (name == "migrate") {
    for (size_t j = 6; j < argv.size(); ++j) {
      if (EqualsNoCase(argv[j], "AUTH")) {
        hide(j + 1);
        ++j;
      } else if (EqualsNoCase(argv[j], "AUTH2")) {
        hide(j + 1);
        hide(j + 2);
        j += 2;
      } else if (EqualsNoCase(argv[j], "KEYS")) {
        break;
      }
    }
  } else if (name == "config|set") {
    for (size_t j = 2; j + 1 < argv.size(); j += 2) {
      if (EqualsNoCase(argv[j], "requirepass") || EqualsNoCase(argv[j], "masterauth")) {
        hide(j + 1);
      }
    }
  }
  return out;
}

void CommandObserver::OnCommand(const CommandSpec* spec, const Client& client,
                                std::span<const std::string_view> argv, uint64_t usec,
                                bool /*failed*/, bool rejected) {
  // Refused commands never ran: Redis keeps them out of the latency histograms, the slow
  // log, the latency monitor and MONITOR (their errors are counted by OnErrorReply).
  if (rejected || spec == nullptr) return;
  if (latency_tracking_.load(std::memory_order_relaxed)) histograms_.Record(spec->id, usec);
  if (count_block_cache_.load(std::memory_order_relaxed)) CountBlockCache();

  bool slow = !(spec->flags & kCmdSkipSlowlog) && slowlog_.ShouldLog(usec);
  uint64_t threshold = latency_threshold_ms_.load(std::memory_order_relaxed);
  bool spike = threshold > 0 && usec / 1000 >= threshold;
  // A blocked command is shown once, when it first runs, not on its retries.
  bool monitor =
      monitors_.active() && !(spec->flags & (kCmdSkipMonitor | kCmdAdmin)) && !client.retrying;
  if (slow || spike || monitor) SlowPath(*spec, client, argv, usec, slow, monitor, spike);
}

void CommandObserver::SlowPath(const CommandSpec& spec, const Client& client,
                               std::span<const std::string_view> argv, uint64_t usec, bool slow,
                               bool monitor, bool spike) {
  std::vector<uint8_t> redacted = Redactions(spec, argv);
  auto now_sec = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  if (spike) {
    latency_.AddSample((spec.flags & kCmdFast) ? "fast-command" : "command", usec / 1000, now_sec);
  }
  if (slow) {
    std::string name;
    {
      std::lock_guard<std::mutex> l(client.mu);
      name = client.name;
    }
    slowlog_.Push(argv, redacted, usec, static_cast<int64_t>(now_sec), client.addr,
                  std::move(name));
  }
  if (monitor) monitors_.Feed(client, argv, redacted);
}

void CommandObserver::CountBlockCache() {
  struct ThreadCounts {
    bool enabled = false;
    uint64_t hits = 0;
    uint64_t misses = 0;
  };
  thread_local ThreadCounts seen;
  rocksdb::PerfContext* pc = rocksdb::get_perf_context();
  if (!seen.enabled) {
    if (rocksdb::GetPerfLevel() < rocksdb::PerfLevel::kEnableCount) {
      rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
    }
    seen.enabled = true;
    seen.hits = pc->block_cache_hit_count;
    seen.misses = pc->block_read_count;  // block reads that went to the file
    return;
  }
  uint64_t hits = pc->block_cache_hit_count, misses = pc->block_read_count;
  if (hits == seen.hits && misses == seen.misses) return;
  // The perf context may have been reset by someone else: never count backwards.
  CacheShard& shard = cache_[CommandHistograms::ThisThreadShard()];
  if (hits > seen.hits) shard.hits.fetch_add(hits - seen.hits, std::memory_order_relaxed);
  if (misses > seen.misses) {
    shard.misses.fetch_add(misses - seen.misses, std::memory_order_relaxed);
  }
  seen.hits = hits;
  seen.misses = misses;
}

uint64_t CommandObserver::block_cache_hits() const {
  uint64_t n = 0;
  for (const auto& s : cache_) n += s.hits.load(std::memory_order_relaxed);
  return n;
}

uint64_t CommandObserver::block_cache_misses() const {
  uint64_t n = 0;
  for (const auto& s : cache_) n += s.misses.load(std::memory_order_relaxed);
  return n;
}

void CommandObserver::ResetStats() {
  histograms_.Reset();
  errors_.Reset();
}

}  // namespace keel::server
