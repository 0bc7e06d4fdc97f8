// Server: keel-server's process-wide state — config, storage, command table, io threads,
// listening sockets, the registry of connected clients — and the command dispatcher.
//
// Threads: `io-threads` io_contexts, one thread each; connections are spread over them
// round-robin and stay on one. Commands run on their connection's io thread.
// Thread-safety: everything here is thread-safe; the client registry has its own mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "datatypes/clock.h"

#include <utility>  // before Asio: Boost 1.74 uses std::exchange without it in C++20

#include <boost/asio.hpp>

#include "cluster/node/cluster_node.h"
#include "datatypes/keyspace.h"
#include "datatypes/storage.h"
#include "resp/reply_builder.h"
#include "server/blocking.h"
#include "server/commands/command_table.h"
#include "server/config.h"
#include "server/exec_batch.h"
#include "server/net/client.h"
#include "server/observability/observer.h"
#include "server/pubsub.h"
#include "server/watch.h"

namespace keel::server {

class Connection;
class Metrics;

inline constexpr std::string_view kKeelVersion = "0.1.0";
// The Redis version whose behaviour Keel implements (what INFO and HELLO report).
inline constexpr std::string_view kRedisCompatVersion = "7.0.15";

struct ServerStats {
  std::atomic<uint64_t> connections_received{0};
  std::atomic<uint64_t> rejected_connections{0};
  std::atomic<uint64_t> commands_processed{0};
  std::atomic<uint64_t> net_input_bytes{0};
  std::atomic<uint64_t> net_output_bytes{0};
  std::atomic<uint64_t> unexpected_error_replies{0};
  std::atomic<uint64_t> total_error_replies{0};
  std::atomic<uint64_t> reads_processed{0};   // socket reads (INFO total_reads_processed)
  std::atomic<uint64_t> writes_processed{0};  // socket writes (INFO total_writes_processed)
};

class Server {
 public:
  // `clock` is the one wall clock of the server and its storage (SystemClockMs if empty).
  explicit Server(std::unique_ptr<Config> config, Clock clock = {});
  uint64_t NowMs() const { return clock_(); }
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Opens the storage, binds the listeners and starts the io threads.
  Status Start();
  // Blocks until the server has shut down (SHUTDOWN, SIGTERM, SIGINT or RequestShutdown).
  void Wait();
  // Thread-safe; returns at once.
  void RequestShutdown();

  // Runs one command and appends its reply, or (kCommitFirst) runs nothing and replies
  // nothing because the command needs the client's pending batch applied first: the
  // connection commits it (asynchronously) and then runs the same command again.
  // kWaitLocks: runs and replies nothing because a lock it needs is held elsewhere and the
  // client's batch is empty; the connection parks in the lock manager's ParkingLot (with
  // ExecBatch::wait_generation()) and runs the same command again when woken.
  // kWaitRead (cluster leader): a read that needs a read barrier newer than its input; the
  // connection asks ClusterNode::ReadIndex and runs it again once confirmed.
  enum class Outcome : uint8_t { kDone, kCommitFirst, kWaitLocks, kWaitRead };
  Outcome Execute(Client& client, std::span<const std::string_view> argv,
                  resp::ReplyBuilder& reply);

  Storage& storage() { return *storage_; }
  // The node's replica group (null unless cluster-enabled).
  cluster::ClusterNode* cluster() { return cluster_.get(); }
  // The reply for a commit that failed with `st` (MOVED/CLUSTERDOWN, TIMEOUT, storage).
  std::string CommitErrorText(const Status& st);
  // In cluster mode: the redirection for a command this node cannot serve (empty: serve it).
  std::string Redirect(const Client& client, const CommandSpec& spec,
                       std::span<const std::string_view> argv);
  Config& config() { return *config_; }
  const CommandTable& commands() const { return commands_; }
  ServerStats& stats() { return stats_; }
  keys::ScanCursors& scan_cursors() { return scan_cursors_; }
  uint16_t port() const { return port_; }
  const std::string& run_id() const { return run_id_; }
  uint64_t start_ms() const { return start_ms_; }
  size_t io_threads() const { return io_contexts_.size(); }

  // Hot config values, refreshed on CONFIG SET.
  bool requirepass_set() const { return requirepass_set_.load(std::memory_order_relaxed); }
  bool CheckPassword(std::string_view password) const;
  int64_t proto_max_bulk_len() const { return proto_max_bulk_len_.load(std::memory_order_relaxed); }
  int64_t query_buffer_limit() const { return query_buffer_limit_.load(std::memory_order_relaxed); }

  // client-output-buffer-limit, per class (0 normal, 1 replica, 2 pubsub); 0 = no limit.
  OutputLimit output_limit(int limit_class) const {
    std::lock_guard<std::mutex> l(limits_mu_);
    return output_limits_[limit_class];
  }

  // Client registry.
  uint64_t NextClientId() { return next_client_id_.fetch_add(1); }
  void Register(const std::shared_ptr<Connection>& conn);
  void Unregister(uint64_t id);
  std::vector<std::shared_ptr<Connection>> Clients();
  size_t client_count();

  std::mt19937_64& rng();  // per thread

  // Blocking commands and post-commit events.
  BlockingManager& blocking() { return blocking_; }
  CommandObserver& observer() { return observer_; }
  // The Prometheus endpoint and registry (server/observability/metrics.h); exists from
  // construction.
  Metrics& metrics() { return *metrics_; }
  void ParkBlocked(CommandContext& ctx, BlockRequest request);
  // Called (on the committing thread, after locks are released) with a batch's events;
  // `origin` is the connection whose commands raised them (null if none), which must be
  // running this call on its own thread.
  void OnCommitted(ExecBatch::Events&& events, Connection* origin = nullptr);
  // CLIENT UNBLOCK: true if the client was blocked.
  bool UnblockClient(uint64_t id, bool with_error);

  // Pub/sub, WATCH and keyspace notifications.
  PubSub& pubsub() { return pubsub_; }
  WatchRegistry& watches() { return watches_; }
  const std::atomic<int>& notify_flags() const { return notify_flags_; }
  // Publishes a keyspace event if notify-keyspace-events enables its class.
  void PublishKeyEvent(char type, std::string_view event, int db, std::string_view key);
  // Called when a connection closes: drops its subscriptions and watches.
  void OnClientClosed(Client& client, const Connection* conn);
  // Runs a client's queued MULTI commands atomically and replies (EXEC).
  void ExecTransaction(Client& client, resp::ReplyBuilder& reply);
  // The stripes of every key of the client's queued MULTI block.
  std::vector<size_t> AtomicStripes(Client& client, resp::ReplyBuilder& reply);
  // The lock stripes a command needs (its keys, plus extra locks) in logical db `db`.
  std::vector<size_t> StripesFor(CommandContext& ctx, int db);

 private:
  void Accept(size_t listener);
  void ApplyConfig(const std::string& name, const std::string& value);
  void StopAll();

  std::unique_ptr<Config> config_;
  Clock clock_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<cluster::ClusterNode> cluster_;  // cluster-enabled only
  CommandTable commands_;
  ServerStats stats_;
  keys::ScanCursors scan_cursors_;
  BlockingManager blocking_;
  PubSub pubsub_;
  WatchRegistry watches_;
  std::atomic<int> notify_flags_{0};
  CommandObserver observer_{*this};
  std::unique_ptr<Metrics> metrics_;

  std::vector<std::unique_ptr<boost::asio::io_context>> io_contexts_;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::unique_ptr<boost::asio::signal_set> signals_;
  std::atomic<size_t> next_io_{0};
  uint16_t port_ = 0;

  std::mutex clients_mu_;
  std::map<uint64_t, std::weak_ptr<Connection>> clients_;
  std::atomic<uint64_t> next_client_id_{1};

  mutable std::mutex limits_mu_;
  OutputLimit output_limits_[3];
  std::atomic<bool> requirepass_set_{false};
  std::atomic<int64_t> proto_max_bulk_len_{512 << 20};
  std::atomic<int64_t> query_buffer_limit_{1 << 30};

  std::mutex shutdown_mu_;
  std::condition_variable shutdown_cv_;
  bool shutdown_requested_ = false;
  bool stopped_ = false;
  std::string run_id_;
  uint64_t start_ms_ = 0;
};

}  // namespace keel::server
