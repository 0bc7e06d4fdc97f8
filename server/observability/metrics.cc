#include "server/observability/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/text_serializer.h>

#include <utility>  // before Asio: Boost 1.74 uses std::exchange without it in C++20

#include <boost/asio.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "datatypes/storage.h"
#include "server/observability/log.h"
#include "server/server.h"

namespace keel::server {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// ------------------------------------------------------------------------- helpers

uint64_t DbIntProperty(const Storage& storage, const std::string& name) {
  uint64_t v = 0;
  if (!storage.db()->GetIntProperty(storage.default_cf(), name, &v)) return 0;
  return v;
}

std::pair<uint64_t, uint64_t> WriteStallCounts(const Storage& storage) {
  uint64_t slowdowns = 0, stops = 0;
  for (auto* cf :
       {storage.default_cf(), storage.meta_cf(), storage.sub_cf(), storage.expiry_cf()}) {
    std::map<std::string, std::string> stats;
    if (!storage.db()->GetMapProperty(cf, rocksdb::DB::Properties::kCFStats, &stats)) continue;
    auto get = [&](const char* key) -> uint64_t {
      auto it = stats.find(key);
      return it == stats.end() ? 0 : std::strtoull(it->second.c_str(), nullptr, 10);
    };
    slowdowns += get("io_stalls.total_slowdown");
    stops += get("io_stalls.total_stop");
  }
  return {slowdowns, stops};
}

uint64_t ProcessRssBytes() {
  std::ifstream f("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

namespace {

struct ProcStat {
  double cpu_seconds = 0;
  uint64_t vsize = 0;
  uint64_t threads = 0;
};

ProcStat ReadProcStat() {
  ProcStat out;
  std::ifstream f("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  if (paren == std::string::npos) return out;
  std::istringstream in(text.substr(paren + 2));
  // Fields from 3 (state) on; utime is field 14, stime 15, num_threads 20, vsize 23.
  std::vector<std::string> fields;
  std::string field;
  while (in >> field) fields.push_back(field);
  auto num = [&](size_t field_no) -> uint64_t {
    size_t idx = field_no - 3;
    return idx < fields.size() ? std::strtoull(fields[idx].c_str(), nullptr, 10) : 0;
  };
  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  out.cpu_seconds = static_cast<double>(num(14) + num(15)) / ticks;
  out.threads = num(20);
  out.vsize = num(23);
  return out;
}

uint64_t OpenFds() {
  uint64_t n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
    if (n > 0) --n;  // the directory handle itself
  }
  return n;
}

MetricFamily& NewFamily(std::vector<MetricFamily>* out, std::string name, std::string help,
                        MetricType type) {
  out->push_back(MetricFamily{std::move(name), std::move(help), type, {}});
  return out->back();
}

void AddValue(MetricFamily& f, double v, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = v;
  } else {
    m.gauge.value = v;
  }
  f.metric.push_back(std::move(m));
}

void Single(std::vector<MetricFamily>* out, std::string name, std::string help, MetricType type,
            double v) {
  AddValue(NewFamily(out, std::move(name), std::move(help), type), v);
}

double D(uint64_t v) { return static_cast<double>(v); }

}  // namespace

// ------------------------------------------------------------------------- collectables

class Metrics::KeelCollectable : public prometheus::Collectable {
 public:
  explicit KeelCollectable(const Metrics& m) : m_(m) {}
  std::vector<MetricFamily> Collect() const override {
    std::vector<MetricFamily> out;
    m_.CollectKeel(&out);
    return out;
  }

 private:
  const Metrics& m_;
};

class Metrics::CallbackCollectable : public prometheus::Collectable {
 public:
  explicit CallbackCollectable(const Metrics& m) : m_(m) {}
  std::vector<MetricFamily> Collect() const override {
    std::vector<MetricFamily> out;
    std::lock_guard<std::mutex> l(m_.collectors_mu_);
    for (const auto& fn : m_.collectors_) fn(&out);
    return out;
  }

 private:
  const Metrics& m_;
};

// ------------------------------------------------------------------------- Metrics

Metrics::Metrics(Server& server)
    : server_(server),
      registry_(std::make_shared<prometheus::Registry>()),
      keel_(std::make_shared<KeelCollectable>(*this)),
      callbacks_(std::make_shared<CallbackCollectable>(*this)) {}

Metrics::~Metrics() { Stop(); }

void Metrics::AddCollector(CollectFn fn) {
  std::lock_guard<std::mutex> l(collectors_mu_);
  collectors_.push_back(std::move(fn));
}

void Metrics::Start() {
  {
    std::lock_guard<std::mutex> l(sampler_mu_);
    if (sampler_.joinable()) return;
    stopping_ = false;
    sampler_ = std::thread([this] { SampleLoop(); });
  }
  StartEndpoints();
}

void Metrics::StartEndpoints() {
  auto port = server_.config().GetInt("metrics-port");
  if (port <= 0) return;
  // keel_rocksdb_block_cache_{hits,misses}_total: counted only while metrics are served.
  server_.observer().set_count_block_cache(true);
  std::istringstream binds(server_.config().GetString("bind"));
  std::string addr;
  std::lock_guard<std::mutex> l(endpoints_mu_);
  while (binds >> addr) {
    bool optional = addr.starts_with("-");
    if (optional) addr = addr.substr(1);
    std::string endpoint = (addr.find(':') != std::string::npos ? "[" + addr + "]" : addr) + ":" +
                           std::to_string(port);
    try {
      auto exposer = std::make_unique<prometheus::Exposer>(
          std::vector<std::string>{"listening_ports", endpoint, "num_threads", "2"});
      exposer->RegisterCollectable(keel_);
      exposer->RegisterCollectable(registry_);
      exposer->RegisterCollectable(callbacks_);
      auto ports = exposer->GetListeningPorts();
      if (port_.load() == 0 && !ports.empty()) port_.store(static_cast<uint16_t>(ports[0]));
      for (int p : ports) endpoints_.emplace_back(addr, static_cast<uint16_t>(p));
      exposers_.push_back(std::move(exposer));
      Log(LogLevel::kNotice, "Serving Prometheus metrics on http://" + endpoint + "/metrics");
    } catch (const std::exception& e) {
      Log(optional ? LogLevel::kVerbose : LogLevel::kWarning,
          "Could not serve Prometheus metrics on " + endpoint + ": " + e.what() +
              " (the server keeps running without this endpoint)");
    }
  }
}

// CivetWeb's listener thread only notices it must stop when its poll() returns, which it
// does every 2 s when idle: Stop() would take up to 2 s. Connecting to the listening socket
// wakes it at once, so Stop() pokes every endpoint until the exposers are gone.
void Metrics::Stop() {
  {
    std::lock_guard<std::mutex> l(endpoints_mu_);
    std::atomic<bool> done{false};
    std::thread poker;
    if (!exposers_.empty()) {
      poker = std::thread([this, &done] {
        while (!done.load()) {
          for (const auto& [host, port] : endpoints_) {
            boost::system::error_code ec;
            boost::asio::io_context ioc;
            boost::asio::ip::tcp::socket sock(ioc);
            auto ip = boost::asio::ip::make_address(host, ec);
            if (ec) continue;
            if (ip.is_unspecified()) {
              ip = ip.is_v4() ? boost::asio::ip::address(boost::asio::ip::address_v4::loopback())
                              : boost::asio::ip::address(boost::asio::ip::address_v6::loopback());
            }
            sock.connect({ip, port}, ec);
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      });
    }
    exposers_.clear();  // joins the HTTP threads: no scrape runs after this
    done.store(true);
    if (poker.joinable()) poker.join();
    endpoints_.clear();
    port_.store(0);
  }
  {
    std::lock_guard<std::mutex> l(sampler_mu_);
    stopping_ = true;
  }
  sampler_cv_.notify_all();
  if (sampler_.joinable()) sampler_.join();
}

void Metrics::SampleLoop() {
  auto& stats = server_.stats();
  auto last_time = std::chrono::steady_clock::now();
  uint64_t last[3] = {stats.commands_processed.load(), stats.net_input_bytes.load(),
                      stats.net_output_bytes.load()};
  std::unique_lock<std::mutex> l(sampler_mu_);
  while (!stopping_) {
    sampler_cv_.wait_for(l, std::chrono::milliseconds(100));
    if (stopping_) break;
    auto now = std::chrono::steady_clock::now();
    double secs = std::chrono::duration<double>(now - last_time).count();
    uint64_t cur[3] = {stats.commands_processed.load(), stats.net_input_bytes.load(),
                       stats.net_output_bytes.load()};
    if (secs > 0) {
      std::lock_guard<std::mutex> s(samples_mu_);
      for (int i = 0; i < 3; ++i) {
        // Counters may go back on CONFIG RESETSTAT: such a sample counts as zero.
        double delta = cur[i] >= last[i] ? static_cast<double>(cur[i] - last[i]) : 0.0;
        samples_[i][sample_idx_] = delta / secs;
      }
      sample_idx_ = (sample_idx_ + 1) % kSamples;
    }
    for (int i = 0; i < 3; ++i) last[i] = cur[i];
    last_time = now;
    uint64_t rss = ProcessRssBytes();
    if (rss > peak_rss_.load(std::memory_order_relaxed)) peak_rss_.store(rss);
  }
}

double Metrics::Instantaneous(int which) const {
  std::lock_guard<std::mutex> s(samples_mu_);
  double sum = 0;
  for (double v : samples_[which]) sum += v;
  return sum / kSamples;
}

double Metrics::instantaneous_ops_per_sec() const { return Instantaneous(0); }
double Metrics::instantaneous_input_kbps() const { return Instantaneous(1) / 1024; }
double Metrics::instantaneous_output_kbps() const { return Instantaneous(2) / 1024; }

std::vector<MetricFamily> Metrics::CollectAll() const {
  std::vector<MetricFamily> out = keel_->Collect();
  for (auto& f : registry_->Collect()) out.push_back(std::move(f));
  for (auto& f : callbacks_->Collect()) out.push_back(std::move(f));
  return out;
}

std::string Metrics::Scrape() const { return prometheus::TextSerializer().Serialize(CollectAll()); }

void Metrics::CollectKeel(std::vector<MetricFamily>* out) const {
  Server& s = server_;
  const auto C = MetricType::Counter;
  const auto G = MetricType::Gauge;

  // --- build and process
  {
    auto& f =
        NewFamily(out, "keel_build_info", "Keel build information; the value is always 1.", G);
    AddValue(f, 1,
             {{"version", std::string(kKeelVersion)},
              {"redis_version", std::string(kRedisCompatVersion)}});
  }
  ProcStat ps = ReadProcStat();
  Single(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", C,
         ps.cpu_seconds);
  Single(out, "process_resident_memory_bytes", "Resident memory size in bytes.", G,
         D(ProcessRssBytes()));
  Single(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", G, D(ps.vsize));
  Single(out, "process_open_fds", "Number of open file descriptors.", G, D(OpenFds()));
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    Single(out, "process_max_fds", "Maximum number of open file descriptors.", G,
           rl.rlim_cur == RLIM_INFINITY ? std::numeric_limits<double>::infinity() : D(rl.rlim_cur));
  }
  Single(out, "process_threads", "Number of OS threads in the process.", G, D(ps.threads));
  Single(out, "process_start_time_seconds",
         "Start time of the process since unix epoch in seconds.", G,
         static_cast<double>(s.start_ms()) / 1000.0);

  // --- commands
  const CommandTable& table = s.commands();
  CommandObserver& obs = s.observer();
  auto& calls = NewFamily(out, "keel_commands_total",
                          "Commands processed (run to completion), by command.", C);
  auto& failed = NewFamily(out, "keel_commands_failed_total",
                           "Commands that ran and replied with an error, by command.", C);
  auto& rejected =
      NewFamily(out, "keel_commands_rejected_total",
                "Commands refused before running (arity, authentication...), by command.", C);
  auto& duration =
      NewFamily(out, "keel_command_duration_seconds",
                "Command run time (latency-tracking), by command.", MetricType::Histogram);
  const auto& bounds = CommandHistograms::kPromBoundsUsec;
  for (const CommandSpec* spec : table.all()) {
    const CommandStats& cs = table.stats(*spec);
    uint64_t n = cs.calls.load(std::memory_order_relaxed);
    uint64_t nf = cs.failed.load(std::memory_order_relaxed);
    uint64_t nr = cs.rejected.load(std::memory_order_relaxed);
    if (n == 0 && nr == 0) continue;
    std::vector<ClientMetric::Label> label = {{"cmd", std::string(spec->name)}};
    AddValue(calls, D(n), label);
    AddValue(failed, D(nf), label);
    AddValue(rejected, D(nr), label);
    CommandHistograms::Snapshot snap;
    if (!obs.histograms().Read(spec->id, &snap)) continue;
    ClientMetric m;
    m.label = label;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < CommandHistograms::kPromBuckets; ++i) {
      cumulative += snap.prom[i];
      double le = i < bounds.size() ? static_cast<double>(bounds[i]) / 1e6
                                    : std::numeric_limits<double>::infinity();
      m.histogram.bucket.push_back({cumulative, le});
    }
    m.histogram.sample_count = cumulative;
    m.histogram.sample_sum = static_cast<double>(snap.sum_usec) / 1e6;
    duration.metric.push_back(std::move(m));
  }
  {
    auto& f =
        NewFamily(out, "keel_errors_total", "Error replies by error code (INFO errorstats).", C);
    for (const auto& [code, n] : obs.errors().Snapshot()) {
      AddValue(f, D(n), {{"code", code}});
    }
  }
  auto& ss = s.stats();
  Single(out, "keel_error_replies_total", "Error replies sent to clients.", C,
         D(ss.total_error_replies.load()));
  Single(out, "keel_slowlog_length", "Entries in the slow log.", G, D(obs.slowlog().Len()));
  Single(out, "keel_slowlog_entries_total",
         "Commands ever logged to the slow log (its next entry id).", C, D(obs.slowlog().total()));

  // --- clients and network
  Single(out, "keel_connected_clients", "Client connections open.", G, D(s.client_count()));
  Single(out, "keel_blocked_clients", "Clients blocked in a blocking command.", G,
         D(s.blocking().blocked_clients()));
  Single(out, "keel_max_clients", "The maxclients setting.", G,
         D(static_cast<uint64_t>(s.config().GetInt("maxclients"))));
  Single(out, "keel_monitor_clients", "Clients in MONITOR mode.", G, D(obs.monitors().size()));
  Single(out, "keel_connections_received_total", "Client connections accepted.", C,
         D(ss.connections_received.load()));
  Single(out, "keel_rejected_connections_total", "Connections refused (maxclients).", C,
         D(ss.rejected_connections.load()));
  Single(out, "keel_net_input_bytes_total", "Bytes read from clients.", C,
         D(ss.net_input_bytes.load()));
  Single(out, "keel_net_output_bytes_total", "Bytes written to clients.", C,
         D(ss.net_output_bytes.load()));
  Single(out, "keel_pubsub_channels", "Channels with at least one subscriber.", G,
         D(s.pubsub().Channels(PubSub::Kind::kChannel, "").size()));
  Single(out, "keel_pubsub_patterns", "Patterns with at least one subscriber.", G,
         D(static_cast<uint64_t>(s.pubsub().NumPatterns())));
  Single(out, "keel_pubsub_shard_channels", "Shard channels with at least one subscriber.", G,
         D(s.pubsub().Channels(PubSub::Kind::kShard, "").size()));

  // --- keyspace
  Storage& st = s.storage();
  {
    auto& keys = NewFamily(out, "keel_db_keys", "Keys in the database.", G);
    auto& exp = NewFamily(out, "keel_db_keys_expiring", "Keys with an expiry in the database.", G);
    for (int db = 0; db < st.databases(); ++db) {
      int64_t n = st.KeyCount(db);
      if (n <= 0 && db != 0) continue;
      std::vector<ClientMetric::Label> label = {{"db", "db" + std::to_string(db)}};
      AddValue(keys, static_cast<double>(std::max<int64_t>(n, 0)), label);
      AddValue(exp, static_cast<double>(std::max<int64_t>(st.ExpiresCount(db), 0)), label);
    }
  }
  auto& sst = st.stats();
  Single(out, "keel_expired_keys_total", "Keys deleted because their TTL passed.", C,
         D(sst.expired_keys.load()));
  Single(out, "keel_evicted_keys_total", "Keys evicted by maxmemory (Keel does not evict yet).", C,
         0);
  Single(out, "keel_keyspace_hits_total", "Key lookups that found the key.", C,
         D(sst.keyspace_hits.load()));
  Single(out, "keel_keyspace_misses_total", "Key lookups that did not find the key.", C,
         D(sst.keyspace_misses.load()));

  // --- RocksDB
  Single(out, "keel_rocksdb_live_sst_files_size_bytes",
         "Size of the SST files of the current version.", G,
         D(st.IntProperty("rocksdb.live-sst-files-size")));
  Single(out, "keel_rocksdb_total_sst_files_size_bytes",
         "Size of all SST files, including obsolete ones not yet deleted.", G,
         D(st.IntProperty("rocksdb.total-sst-files-size")));
  Single(out, "keel_rocksdb_memtable_size_bytes", "Size of the active and immutable memtables.", G,
         D(st.IntProperty("rocksdb.cur-size-all-mem-tables")));
  Single(out, "keel_rocksdb_table_readers_memory_bytes",
         "Memory used by SST table readers (indexes and filters outside the block cache).", G,
         D(st.IntProperty("rocksdb.estimate-table-readers-mem")));
  Single(out, "keel_rocksdb_block_cache_usage_bytes", "Memory used by the block cache.", G,
         D(DbIntProperty(st, "rocksdb.block-cache-usage")));
  Single(out, "keel_rocksdb_block_cache_capacity_bytes", "Capacity of the block cache.", G,
         D(DbIntProperty(st, "rocksdb.block-cache-capacity")));
  Single(out, "keel_rocksdb_block_cache_pinned_usage_bytes", "Block cache memory pinned.", G,
         D(DbIntProperty(st, "rocksdb.block-cache-pinned-usage")));
  Single(out, "keel_rocksdb_block_cache_hits_total", "Block cache hits of reads made by commands.",
         C, D(obs.block_cache_hits()));
  Single(out, "keel_rocksdb_block_cache_misses_total",
         "Block cache misses of reads made by commands.", C, D(obs.block_cache_misses()));
  Single(out, "keel_rocksdb_estimate_pending_compaction_bytes",
         "Bytes compaction estimates it must rewrite to bring every level under its target.", G,
         D(st.IntProperty("rocksdb.estimate-pending-compaction-bytes")));
  Single(out, "keel_rocksdb_running_compactions", "Compactions running now.", G,
         D(DbIntProperty(st, "rocksdb.num-running-compactions")));
  Single(out, "keel_rocksdb_running_flushes", "Memtable flushes running now.", G,
         D(DbIntProperty(st, "rocksdb.num-running-flushes")));
  Single(out, "keel_rocksdb_immutable_memtables", "Immutable memtables waiting to be flushed.", G,
         D(st.IntProperty("rocksdb.num-immutable-mem-table")));
  auto [slowdowns, stops] = WriteStallCounts(st);
  {
    auto& f = NewFamily(out, "keel_rocksdb_write_stalls_total",
                        "Write stalls RocksDB imposed, by kind (slowdown: writes delayed; "
                        "stop: writes blocked).",
                        C);
    AddValue(f, D(slowdowns), {{"kind", "slowdown"}});
    AddValue(f, D(stops), {{"kind", "stop"}});
  }
  Single(out, "keel_rocksdb_write_stopped", "1 while RocksDB stops writes.", G,
         D(DbIntProperty(st, "rocksdb.is-write-stopped")));
  Single(out, "keel_rocksdb_delayed_write_rate_bytes_per_second",
         "Write rate RocksDB currently delays writes to, bytes per second (0 = not delaying).", G,
         D(DbIntProperty(st, "rocksdb.actual-delayed-write-rate")));
  Single(out, "keel_rocksdb_background_errors_total", "Background (flush/compaction) errors.", C,
         D(DbIntProperty(st, "rocksdb.background-errors")));
  Single(out, "keel_rocksdb_wal_syncs_total",
         "WAL fsyncs: writes committed with sync (appendfsync always) and the once-a-second "
         "WAL sync (appendfsync everysec).",
         C, D(sst.wal_syncs.load()));

  // --- the replica group (cluster-enabled only)
  if (auto* node = s.cluster()) {
    auto state = node->state();
    const auto& pc = node->counters();
    Single(out, "keel_paxos_role", "This replica's role: 0 follower, 1 candidate, 2 leader.", G,
           static_cast<double>(state.role));
    Single(out, "keel_paxos_has_leader", "1 if this replica knows a leader of its group.", G,
           state.leader != 0 ? 1 : 0);
    Single(out, "keel_paxos_ballot", "The ballot round this replica promised.", G,
           D(state.ballot.round));
    Single(out, "keel_paxos_commit_index", "Highest log index known chosen.", G, D(state.commit));
    Single(out, "keel_paxos_applied_index", "Highest log index applied to the data.", G,
           D(state.applied));
    Single(out, "keel_paxos_last_index", "Highest log index held.", G, D(state.last_index));
    Single(out, "keel_paxos_members", "Members (voters and learners) of the group.", G,
           D(state.membership.voters.size() + state.membership.learners.size()));
    Single(out, "keel_paxos_proposals_total", "Mutations proposed into the log.", C,
           D(pc.proposals.load()));
    Single(out, "keel_paxos_proposals_failed_total",
           "Proposals answered as not in the log or of unknown outcome.", C,
           D(pc.proposals_failed.load()));
    Single(out, "keel_paxos_proposal_seconds_total",
           "Submit-to-applied time of the proposals applied, summed.", C,
           static_cast<double>(pc.proposal_usec.load()) / 1e6);
    Single(out, "keel_paxos_proposals_applied_total", "Proposals applied on this leader.", C,
           D(pc.proposals_applied.load()));
    Single(out, "keel_paxos_entries_applied_total", "Log entries applied to the data.", C,
           D(pc.entries_applied.load()));
    Single(out, "keel_paxos_elections_total", "Times this replica started an election.", C,
           D(pc.elections.load()));
    Single(out, "keel_paxos_leader_changes_total", "Times the known leader changed.", C,
           D(pc.leader_changes.load()));
    Single(out, "keel_paxos_read_barriers_total", "Linearizable read barriers requested.", C,
           D(pc.read_barriers.load()));
    Single(out, "keel_paxos_snapshots_sent_total",
           "Snapshots streamed to a replica and handed to it.", C, D(pc.snapshots_sent.load()));
    Single(out, "keel_paxos_snapshots_failed_total",
           "Snapshot transfers abandoned (the replica refused a chunk or did not answer).", C,
           D(pc.snapshots_failed.load()));
    Single(out, "keel_paxos_snapshot_bytes_sent_total", "Bytes of snapshot records sent.", C,
           D(pc.snapshot_bytes_sent.load()));
    Single(out, "keel_paxos_snapshots_installed_total", "Snapshots this replica installed.", C,
           D(pc.snapshots_installed.load()));
    Single(out, "keel_paxos_log_compactions_total", "Times the log was compacted.", C,
           D(pc.compactions.load()));
    Single(out, "keel_paxos_log_bytes", "Bytes of the log entries kept after the compaction point.",
           G, D(pc.log_bytes.load()));
    if (state.role == replication::Role::kLeader) {
      auto& match = NewFamily(out, "keel_paxos_replica_match_index",
                              "Leader's view: the highest log index each member holds.", G);
      auto& lag = NewFamily(out, "keel_paxos_replica_lag_entries",
                            "Leader's view: entries each member is behind the leader.", G);
      for (const auto& n : node->Nodes()) {
        if (n.myself) continue;
        AddValue(match, D(n.match), {{"node_id", n.node_id}});
        AddValue(lag, D(state.last_index > n.match ? state.last_index - n.match : 0),
                 {{"node_id", n.node_id}});
      }
    }
  }

  // --- the data directory's filesystem (disk-full alerting)
  struct statvfs vfs {};
  if (statvfs(st.options().dir.c_str(), &vfs) == 0) {
    Single(out, "keel_data_dir_filesystem_size_bytes",
           "Size of the filesystem holding the data directory.", G,
           D(static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize));
    Single(out, "keel_data_dir_filesystem_avail_bytes",
           "Space available to Keel on the filesystem holding the data directory.", G,
           D(static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize));
  }
}

}  // namespace keel::server
