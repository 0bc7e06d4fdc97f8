// Metrics: Keel's native Prometheus endpoint and the server-wide samplers behind INFO's
// instantaneous figures.
//
// GET /metrics on `metrics-port` (0 = off) of every `bind` address serves, in the Prometheus
// text format (through prometheus-cpp's Exposer):
//   * Keel's own families, read on demand at scrape time from the counters the server
//     already keeps (CommandTable stats, ServerStats, StorageStats, the CommandObserver's
//     sharded histograms) and from RocksDB properties — so serving metrics adds no work to
//     the command path beyond what INFO needs anyway (see docker/README.md for the list);
//   * every family other subsystems (replication, cluster) register in registry() with
//     prometheus-cpp's builders, and every collector they add with AddCollector().
// A port that cannot be bound is logged and skipped: the metrics endpoint never keeps the
// data store from starting (Prometheus then reports the target down).
//
// The sampler thread wakes every 100 ms to keep Redis's instantaneous_ops_per_sec /
// instantaneous_input_kbps / instantaneous_output_kbps (mean of the last 16 samples) and the
// RSS peak (used_memory_peak).
//
// Ownership: owned by the Server; Start() from Server::Start once storage is open, Stop()
// from Server::StopAll before storage closes (scrapes read storage). Thread-safety: all
// methods are thread-safe; scrapes run on the Exposer's own threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

namespace prometheus {
class Exposer;
class Collectable;
}  // namespace prometheus

namespace keel {
class Storage;
}

namespace keel::server {

class Server;

class Metrics {
 public:
  explicit Metrics(Server& server);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // For other subsystems' families (prometheus-cpp builders: BuildCounter().Name(...)
  // .Register(metrics.registry())). Names should start with keel_.
  prometheus::Registry& registry() { return *registry_; }
  // A function called on every scrape that appends families computed on demand.
  using CollectFn = std::function<void(std::vector<prometheus::MetricFamily>*)>;
  void AddCollector(CollectFn fn);

  void Start();
  void Stop();  // idempotent

  // The port /metrics is served on (the first bound address's), 0 if not serving.
  uint16_t port() const { return port_.load(std::memory_order_relaxed); }

  // Every family a scrape returns, and the same rendered in the text exposition format.
  std::vector<prometheus::MetricFamily> CollectAll() const;
  std::string Scrape() const;
  // Keel's own families only.
  void CollectKeel(std::vector<prometheus::MetricFamily>* out) const;

  // INFO stats / memory.
  double instantaneous_ops_per_sec() const;
  double instantaneous_input_kbps() const;
  double instantaneous_output_kbps() const;
  uint64_t peak_rss_bytes() const { return peak_rss_.load(std::memory_order_relaxed); }

 private:
  class KeelCollectable;
  class CallbackCollectable;
  void StartEndpoints();
  void SampleLoop();
  double Instantaneous(int which) const;

  Server& server_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> keel_;
  std::shared_ptr<prometheus::Collectable> callbacks_;
  mutable std::mutex collectors_mu_;
  std::vector<CollectFn> collectors_;

  std::mutex endpoints_mu_;
  std::vector<std::unique_ptr<prometheus::Exposer>> exposers_;
  std::vector<std::pair<std::string, uint16_t>> endpoints_;  // (address, port) listened on
  std::atomic<uint16_t> port_{0};

  // Sampler: ring of per-100ms rates for ops, input bytes, output bytes.
  static constexpr size_t kSamples = 16;
  mutable std::mutex samples_mu_;
  double samples_[3][kSamples] = {};
  size_t sample_idx_ = 0;
  std::atomic<uint64_t> peak_rss_{0};
  std::mutex sampler_mu_;
  std::condition_variable sampler_cv_;
  bool stopping_ = false;
  std::thread sampler_;
};

// A RocksDB integer property of the whole database (DB-wide properties such as
// rocksdb.is-write-stopped or rocksdb.block-cache-usage read once, not summed per family).
uint64_t DbIntProperty(const Storage& storage, const std::string& name);
// Write stalls so far, summed over column families: (slowdowns, stops).
std::pair<uint64_t, uint64_t> WriteStallCounts(const Storage& storage);
// Resident set size of this process in bytes.
uint64_t ProcessRssBytes();

}  // namespace keel::server
