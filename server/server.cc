#include "server/server.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "cluster/slot.h"
#include "datatypes/number.h"
#include "server/commands/errors.h"
#include "server/exec_batch.h"
#include "server/net/connection.h"
#include "server/notify.h"
#include "server/observability/log.h"
#include "server/observability/metrics.h"

namespace keel::server {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

std::string RandomHex(size_t n) {
  std::random_device rd;
  std::string out;
  const char* digits = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) out.push_back(digits[rd() % 16]);
  return out;
}

}  // namespace

Server::Server(std::unique_ptr<Config> config, Clock clock)
    : config_(std::move(config)), clock_(clock ? std::move(clock) : Clock(SystemClockMs)) {
  metrics_ = std::make_unique<Metrics>(*this);
  run_id_ = RandomHex(40);
  start_ms_ = NowMs();
  config_->set_hook(
      [this](const std::string& name, const std::string& value) { ApplyConfig(name, value); });
}

Server::~Server() {
  RequestShutdown();
  StopAll();
}

std::mt19937_64& Server::rng() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
}

bool Server::CheckPassword(std::string_view password) const {
  std::string expected = config_->GetString("requirepass");
  if (expected.size() != password.size()) return false;
  unsigned char diff = 0;  // constant time over the length
  for (size_t i = 0; i < expected.size(); ++i) {
    diff |= static_cast<unsigned char>(expected[i] ^ password[i]);
  }
  return diff == 0;
}

void Server::ApplyConfig(const std::string& name, const std::string& value) {
  if (name == "requirepass") requirepass_set_.store(!value.empty());
  if (name == "proto-max-bulk-len") proto_max_bulk_len_.store(config_->GetInt(name));
  if (name == "client-query-buffer-limit") query_buffer_limit_.store(config_->GetInt(name));
  if (name == "loglevel") LogSetLevel(value);
  observer_.ApplyConfig(name, value);  // slowlog-*, latency-*, log-format
  if (name == "notify-keyspace-events") notify_flags_.store(ParseNotifyFlags(value).value_or(0));
  if (name == "client-output-buffer-limit") {
    auto parsed = ParseOutputBufferLimits(value);
    if (parsed) {
      std::lock_guard<std::mutex> l(limits_mu_);
      for (const auto& [cls, limit] : *parsed) output_limits_[cls] = limit;
    }
  }
  if (name == "appendfsync" && storage_) {
    FsyncPolicy policy = ParseFsyncPolicy(value).value_or(FsyncPolicy::kEverySec);
    storage_->set_fsync_policy(policy);
    if (cluster_) {
      cluster_->SetLogSync(policy == FsyncPolicy::kAlways, policy == FsyncPolicy::kEverySec);
    }
  }
}

Status Server::Start() {
  LogSetLevel(config_->GetString("loglevel"));
  LogSetFile(config_->GetString("logfile"));
  for (const char* name : {"requirepass", "proto-max-bulk-len", "client-query-buffer-limit",
                           "client-output-buffer-limit", "notify-keyspace-events"}) {
    ApplyConfig(name, config_->GetString(name));
  }
  for (const char* name : CommandObserver::kConfigOptions) {
    ApplyConfig(name, config_->GetString(name));
  }
  signal(SIGPIPE, SIG_IGN);

  StorageOptions so;
  so.dir = config_->GetString("dir");
  so.clock = clock_;
  so.fsync = ParseFsyncPolicy(config_->GetString("appendfsync")).value_or(FsyncPolicy::kEverySec);
  so.databases = static_cast<int>(config_->GetInt("databases"));
  so.block_cache_bytes = static_cast<size_t>(config_->GetInt("rocksdb-block-cache-size"));
  so.write_buffer_bytes = static_cast<size_t>(config_->GetInt("rocksdb-write-buffer-size"));
  auto storage = Storage::Open(so);
  if (!storage.ok()) return storage.status();
  storage_ = std::move(storage).value();
  // Called with the key's stripe locked: WATCH sees the expiry before anyone can lock the key.
  storage_->set_expired_hook([this](int db, std::string_view key) {
    watches_.TouchExpired(db, std::string(key));
    PublishKeyEvent('x', "expired", db, key);
  });

  size_t n = static_cast<size_t>(config_->GetInt("io-threads"));
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  for (size_t i = 0; i < n; ++i) {
    io_contexts_.push_back(std::make_unique<asio::io_context>(1));
    work_.push_back(asio::make_work_guard(*io_contexts_.back()));
  }

  auto port = static_cast<uint16_t>(config_->GetInt("port"));
  std::istringstream binds(config_->GetString("bind"));
  std::string addr;
  while (binds >> addr) {
    if (addr.starts_with("-")) addr = addr.substr(1);  // redis.conf's "-::1" = optional
    boost::system::error_code ec;
    auto ip = asio::ip::make_address(addr, ec);
    if (ec) return Status(Code::kInvalidArgument, "invalid bind address '" + addr + "'");
    auto acceptor = std::make_unique<tcp::acceptor>(*io_contexts_[0]);
    tcp::endpoint ep(ip, port_ != 0 ? port_ : port);
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && ip.is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(static_cast<int>(config_->GetInt("tcp-backlog")), ec);
    if (ec) {
      return Status(Code::kStorage, "Could not create server TCP listening socket " + addr + ":" +
                                        std::to_string(port) + ": " + ec.message());
    }
    port_ = acceptor->local_endpoint().port();
    acceptors_.push_back(std::move(acceptor));
  }
  if (acceptors_.empty()) return Status(Code::kInvalidArgument, "no bind address");

  if (config_->GetBool("cluster-enabled")) {
    cluster::ClusterNodeOptions co;
    co.dir = so.dir;
    std::string first_bind;
    std::istringstream(config_->GetString("bind")) >> first_bind;
    if (first_bind.starts_with("-")) first_bind = first_bind.substr(1);
    co.bind = first_bind.empty() ? "127.0.0.1" : first_bind;
    co.ip = config_->GetString("cluster-announce-ip");
    if (co.ip.empty()) co.ip = co.bind == "0.0.0.0" || co.bind == "::" ? "127.0.0.1" : co.bind;
    co.port = port_;
    co.bus_port = static_cast<uint16_t>(config_->GetInt("cluster-port"));
    co.node_timeout_ms = static_cast<uint32_t>(config_->GetInt("cluster-node-timeout"));
    co.sync = so.fsync == FsyncPolicy::kAlways;
    co.sync_every_second = so.fsync == FsyncPolicy::kEverySec;
    co.compact_bytes = static_cast<uint64_t>(config_->GetInt("cluster-log-compact-bytes"));
    co.on_progress = [this] { blocking_.Wake({{0, std::string(kReplicationProgressKey)}}); };
    // PUBLISH on any node reaches subscribers on every node, as in Redis Cluster.
    co.on_publish = [this](std::string_view channel, std::string_view message) {
      (void)pubsub_.Publish(channel, message);
    };
    auto node = cluster::ClusterNode::Start(co, storage_.get());
    if (!node.ok()) return node.status();
    cluster_ = std::move(node).value();
    Log(LogLevel::kNotice, "Cluster node " + cluster_->node_id() + " (group " +
                               std::to_string(cluster_->group()) + "), cluster bus on port " +
                               std::to_string(cluster_->bus_port()));
  }

  std::string pidfile = config_->GetString("pidfile");
  if (!pidfile.empty()) std::ofstream(pidfile) << getpid() << "\n";

  signals_ = std::make_unique<asio::signal_set>(*io_contexts_[0], SIGTERM, SIGINT);
  signals_->async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    Log(LogLevel::kWarning, std::string("Received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                                " scheduling shutdown...");
    RequestShutdown();
  });
  for (size_t i = 0; i < acceptors_.size(); ++i) Accept(i);
  for (auto& ioc : io_contexts_) {
    threads_.emplace_back([ctx = ioc.get()] { ctx->run(); });
  }
  Log(LogLevel::kNotice,
      "Keel " + std::string(kKeelVersion) + " (Redis " + std::string(kRedisCompatVersion) +
          " compatible) pid=" + std::to_string(getpid()) + " data=" + so.dir + " io-threads=" +
          std::to_string(n) + " appendfsync=" + std::string(FsyncPolicyName(so.fsync)));
  Log(LogLevel::kNotice, "Ready to accept connections tcp on port " + std::to_string(port_));
  metrics_->Start();  // never fails the start: an unbindable metrics port is logged
  return Status::Ok();
}

void Server::Accept(size_t listener) {
  size_t idx = next_io_.fetch_add(1) % io_contexts_.size();
  acceptors_[listener]->async_accept(
      *io_contexts_[idx],
      [this, listener](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
          stats_.connections_received.fetch_add(1, std::memory_order_relaxed);
          if (client_count() >= static_cast<size_t>(config_->GetInt("maxclients"))) {
            stats_.rejected_connections.fetch_add(1, std::memory_order_relaxed);
            boost::system::error_code ignored;
            asio::write(socket,
                        asio::buffer(std::string_view("-ERR max number of clients reached\r\n")),
                        ignored);
            socket.close(ignored);
          } else {
            auto conn = std::make_shared<Connection>(*this, std::move(socket), NextClientId());
            Register(conn);
            conn->Start();
          }
        }
        Accept(listener);
      });
}

void Server::RequestShutdown() {
  {
    std::lock_guard<std::mutex> l(shutdown_mu_);
    shutdown_requested_ = true;
  }
  shutdown_cv_.notify_all();
}

void Server::Wait() {
  {
    std::unique_lock<std::mutex> l(shutdown_mu_);
    shutdown_cv_.wait(l, [this] { return shutdown_requested_; });
  }
  StopAll();
}

void Server::StopAll() {
  {
    std::lock_guard<std::mutex> l(shutdown_mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  metrics_->Stop();  // no scrape may read storage while it closes
  if (!io_contexts_.empty()) {
    Log(LogLevel::kWarning, "User requested shutdown...");
    // Close listeners and clients on their own threads, then stop the loops.
    asio::post(*io_contexts_[0], [this] {
      boost::system::error_code ec;
      for (auto& a : acceptors_) a->close(ec);
      if (signals_) signals_->cancel(ec);
    });
    for (auto& c : Clients()) c->Kill();
    for (auto& w : work_) w.reset();
    for (auto& ioc : io_contexts_) {
      // Give in-flight commands and close handlers a moment, then stop.
      asio::post(*ioc, [ctx = ioc.get()] { ctx->stop(); });
    }
    for (auto& t : threads_) t.join();
    threads_.clear();
    acceptors_.clear();
    signals_.reset();
    io_contexts_.clear();  // destroys pending handlers and with them the connections
  }
  if (cluster_) {
    cluster_->Stop();  // what is still in flight is answered as of unknown outcome
    cluster_.reset();
  }
  if (storage_) {
    (void)storage_->SyncWal();
    storage_.reset();
    Log(LogLevel::kNotice, "RocksDB closed; Keel is now ready to exit, bye bye...");
  }
  std::string pidfile = config_->GetString("pidfile");
  if (!pidfile.empty()) unlink(pidfile.c_str());
}

void Server::ParkBlocked(CommandContext& ctx, BlockRequest request) {
  if (ctx.client.in_exec || ctx.client.connection == nullptr) {
    // Inside MULTI/EXEC a blocking command never blocks: it times out at once.
    ctx.blocked = false;
    if (request.timeout_reply == BlockRequest::TimeoutReply::kNullBulk) {
      ctx.reply.NullBulk();
    } else {
      ctx.reply.NullArray();
    }
    return;
  }
  ctx.client.connection->OnBlocked(std::move(request), ctx.argv);
}

namespace {

// Runs a command's handler, then places the keyspace events it raised with
// CommandContext::events_after_reply set right after its reply.
void RunHandler(CommandContext& ctx) {
  ctx.spec.handler(ctx);
  if (!ctx.had_events_after_reply) return;
  size_t end =
      ctx.reply.output() != nullptr ? ctx.reply.output()->size() : KeyEvent::kNoReplyOffset;
  // Once set, events_after_reply stays set for the command: its events are the suffix.
  auto& events = ctx.client.batch->events().notifications;
  for (auto it = events.rbegin(); it != events.rend() && it->reply_offset == KeyEvent::kAfterReply;
       ++it) {
    it->reply_offset = end;
  }
}

}  // namespace

void Server::OnCommitted(ExecBatch::Events&& events, Connection* origin) {
  for (const auto& e : events.notifications) {
    // The origin's own pushes go before the reply of the command that raised them.
    if (origin != nullptr) origin->PlaceOwnPushesAt(e.reply_offset);
    PublishKeyEvent(e.type, e.event, e.db, e.key);
  }
  if (origin != nullptr) origin->EndOwnPushes();
  if (!events.modified.empty()) blocking_.Wake(events.modified);
}

void Server::PublishKeyEvent(char type, std::string_view event, int db, std::string_view key) {
  int flags = notify_flags_.load(std::memory_order_relaxed);
  if (!(flags & NotifyClassFlag(type)) || pubsub_.empty()) return;
  std::string prefix = "__key";
  if (flags & kNotifyKeyspace) {
    std::string channel = "__keyspace@" + std::to_string(db) + "__:";
    channel.append(key);
    pubsub_.Publish(channel, event);
  }
  if (flags & kNotifyKeyevent) {
    std::string channel = "__keyevent@" + std::to_string(db) + "__:";
    channel.append(event);
    pubsub_.Publish(channel, key);
  }
}

void Server::OnClientClosed(Client& client, const Connection* conn) {
  for (const auto& ch : client.channels) pubsub_.Remove(PubSub::Kind::kChannel, ch, conn);
  for (const auto& p : client.patterns) pubsub_.Remove(PubSub::Kind::kPattern, p, conn);
  for (const auto& ch : client.shard_channels) pubsub_.Remove(PubSub::Kind::kShard, ch, conn);
  client.channels.clear();
  client.patterns.clear();
  client.shard_channels.clear();
  client.SyncShared();
  for (const auto& w : client.watched) watches_.Unwatch(w.db, w.key, client.watch_dirty);
  client.watched.clear();
}

std::vector<size_t> Server::AtomicStripes(Client& client, resp::ReplyBuilder& reply) {
  // Every key of every queued command, following SELECTs inside the block.
  std::vector<size_t> stripes;
  int db = client.db;
  for (auto& q : client.queued) {
    std::vector<std::string_view> argv(q.argv.begin(), q.argv.end());
    CommandContext ctx{*this, client, argv, reply, *q.spec};
    if (q.spec->name == "select" && argv.size() == 2) {
      int64_t v;
      if (ParseInt64(argv[1], &v) && v >= 0 && v < storage_->databases()) db = static_cast<int>(v);
    }
    auto s = StripesFor(ctx, db);
    stripes.insert(stripes.end(), s.begin(), s.end());
  }
  return stripes;
}

void Server::ExecTransaction(Client& client, resp::ReplyBuilder& reply) {
  ExecBatch& batch = *client.batch;
  if (!client.exec_resume) {
    // The block's locks were taken by Execute (TryBeginAtomic) before EXEC ran.
    auto queued = std::move(client.queued);
    client.queued.clear();
    client.in_multi = false;
    // CLIENT LIST keeps showing the transaction (flag x, multi=<queued>) until EXEC returns,
    // as Redis does: multi_count still holds the number queued.
    // WATCH: a watched key changed (or expired) since it was watched -> null reply.
    bool dirty = client.watch_dirty->load(std::memory_order_acquire);
    uint64_t now = storage_->NowMs();
    for (const auto& w : client.watched) {
      if (w.expire_at_ms != 0 && w.expire_at_ms <= now) dirty = true;
    }
    for (const auto& w : client.watched) watches_.Unwatch(w.db, w.key, client.watch_dirty);
    client.watched.clear();
    client.watch_dirty->store(false);
    if (dirty) {
      (void)batch.EndAtomic();
      client.SyncShared();
      reply.NullArray();
      return;
    }
    reply.Array(queued.size());
    client.exec_resume.emplace(Client::ExecResume{std::move(queued), 0});
  }
  // Run the block from where it stopped. A whole-store command (FLUSHDB, FLUSHALL, SWAPDB;
  // the block then holds the store exclusively) needs what the block wrote before it applied
  // first, and the block's later commands need its own mutation applied: the block stops
  // there (RequestResume), the connection commits without waiting and runs EXEC again.
  Client::ExecResume& run = *client.exec_resume;
  client.in_exec = true;
  while (run.next < run.queued.size()) {
    auto& q = run.queued[run.next];
    if ((q.spec->flags & kCmdOwnsDbGuard) && batch.has_writes()) {
      client.in_exec = false;
      batch.RequestResume();
      return;
    }
    ++run.next;
    std::vector<std::string_view> argv(q.argv.begin(), q.argv.end());
    Execute(client, argv, reply);
    if (batch.commit_requested() && run.next < run.queued.size()) {
      client.in_exec = false;
      batch.RequestResume();
      return;
    }
  }
  client.exec_resume.reset();
  client.in_exec = false;
  client.SyncShared();
  (void)batch.EndAtomic();  // one mutation; a failure drops the replies (see Connection)
}

std::string Server::Redirect(const Client& client, const CommandSpec& spec,
                             std::span<const std::string_view> argv) {
  // Served by any node: commands that touch no data, and reads that need no key (DBSIZE,
  // SCAN...: this node's applied state, as a Redis replica's), and keyed reads on a
  // connection that sent READONLY. Everything else needs the group's leader.
  if (spec.flags & kCmdNoStorage) return "";
  bool write = spec.flags & kCmdWrite;
  bool keyed = spec.first_key > 0 || spec.keys != nullptr;
  if (!write && (!keyed || client.readonly)) return "";
  if (cluster_->serving()) return "";
  auto leader = cluster_->Leader();
  if (!leader || leader->myself) return "CLUSTERDOWN The cluster is down";
  auto keys = KeyPositions(spec, argv);
  if (keys.empty()) return "READONLY You can't write against a read only replica.";
  return "MOVED " + std::to_string(keel::cluster::KeySlot(argv[keys[0]])) + " " + leader->ip + ":" +
         std::to_string(leader->port);
}

std::string Server::CommitErrorText(const Status& st) {
  if (st.code() == Code::kNotLeader && cluster_) {
    // Certainly not in the log: the client may retry at the leader.
    auto leader = cluster_->Leader();
    if (leader && !leader->myself) {
      return "MOVED 0 " + leader->ip + ":" + std::to_string(leader->port);
    }
    return "CLUSTERDOWN The cluster is down";
  }
  if (st.code() == Code::kUnknownOutcome) return ErrorText(st, "");
  return "ERR storage error: the write batch could not be committed";
}

std::vector<size_t> Server::StripesFor(CommandContext& ctx, int db) {
  std::vector<size_t> stripes;
  uint8_t pdb = storage_->PhysicalDb(db);
  for (size_t pos : KeyPositions(ctx.spec, ctx.argv)) {
    stripes.push_back(storage_->locks().StripeOf(pdb, ctx.argv[pos]));
  }
  if (ctx.spec.extra_locks != nullptr) {
    std::vector<std::pair<int, std::string_view>> extra;
    ctx.spec.extra_locks(ctx, &extra);
    for (auto& [ldb, key] : extra) {
      stripes.push_back(storage_->locks().StripeOf(storage_->PhysicalDb(ldb), key));
    }
  }
  return stripes;
}

bool Server::UnblockClient(uint64_t id, bool with_error) {
  for (auto& conn : Clients()) {
    if (conn->client().id != id) continue;
    if (!conn->client().blocked.load(std::memory_order_relaxed)) return false;
    conn->PostUnblock(with_error);
    return true;
  }
  return false;
}

void Server::Register(const std::shared_ptr<Connection>& conn) {
  std::lock_guard<std::mutex> l(clients_mu_);
  clients_[conn->client().id] = conn;
}

void Server::Unregister(uint64_t id) {
  std::lock_guard<std::mutex> l(clients_mu_);
  clients_.erase(id);
}

std::vector<std::shared_ptr<Connection>> Server::Clients() {
  std::lock_guard<std::mutex> l(clients_mu_);
  std::vector<std::shared_ptr<Connection>> out;
  for (auto& [id, weak] : clients_) {
    if (auto c = weak.lock()) out.push_back(std::move(c));
  }
  return out;
}

size_t Server::client_count() {
  std::lock_guard<std::mutex> l(clients_mu_);
  return clients_.size();
}

Server::Outcome Server::Execute(Client& client, std::span<const std::string_view> argv,
                                resp::ReplyBuilder& reply) {
  const CommandSpec* spec = commands_.Find(argv[0]);
  // CLIENT LIST's cmd=, as Redis's lastcmd: the command as looked up (null if unknown), also
  // when refused or queued; inside EXEC it stays "exec".
  auto note_last = [&](const CommandSpec* s) {
    if (!client.in_exec) client.last_command.store(s, std::memory_order_relaxed);
  };
  auto reject = [&](const std::string& text, const CommandSpec* s) {
    note_last(s);
    std::string shown = text;
    if (s != nullptr && s->name == "exec") {
      // Redis's execCommandAbort: a rejected EXEC discards the transaction (if any) and says
      // why, without the "ERR " of the error it was rejected with.
      client.in_multi = false;
      client.multi_error = false;
      client.queued.clear();
      client.SyncShared();
      for (const auto& w : client.watched) watches_.Unwatch(w.db, w.key, client.watch_dirty);
      client.watched.clear();
      client.watch_dirty->store(false);
      std::string_view why(text);
      if (why.starts_with("ERR ")) why.remove_prefix(4);
      shown = "EXECABORT Transaction discarded because of: " + std::string(why);
    }
    reply.Error(shown);
    observer_.OnErrorReply(shown);
    stats_.total_error_replies.fetch_add(1, std::memory_order_relaxed);
    if (s != nullptr) commands_.stats(*s).rejected.fetch_add(1, std::memory_order_relaxed);
    if (client.in_multi && !client.in_exec) client.multi_error = true;
    observer_.OnCommand(s, client, argv, 0, true, true);
  };
  if (spec == nullptr) {
    reject(UnknownCommandError(argv[0], argv.subspan(1)), nullptr);
    return Outcome::kDone;
  }
  if (!spec->subcommands.empty() && (argv.size() >= 2 || spec->handler == nullptr)) {
    if (argv.size() < 2) {
      reject(ArityError(spec->name), spec);
      return Outcome::kDone;
    }
    const CommandSpec* sub = CommandTable::FindSub(*spec, argv[1]);
    if (sub == nullptr) {
      std::string upper(spec->name);
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      reject(UnknownSubcommandError(argv[1], upper), spec);
      note_last(nullptr);
      return Outcome::kDone;
    }
    spec = sub;
  }
  int argc = static_cast<int>(argv.size());
  if ((spec->arity > 0 && spec->arity != argc) || (argc < -spec->arity)) {
    reject(ArityError(spec->name), spec);
    return Outcome::kDone;
  }
  if (!client.authenticated && requirepass_set() && !(spec->flags & kCmdNoAuth)) {
    reject("NOAUTH Authentication required.", spec);
    return Outcome::kDone;
  }
  if (client.protocol == 2 && client.in_pubsub() && !(spec->flags & kCmdPubSubContext)) {
    reject("ERR Can't execute '" + std::string(spec->name) +
               "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are "
               "allowed in this context",
           spec);
    return Outcome::kDone;
  }
  note_last(spec);
  if (cluster_ && !client.in_exec) {
    std::string redirect = Redirect(client, *spec, argv);
    if (!redirect.empty()) {
      reject(redirect, spec);
      return Outcome::kDone;
    }
  }
  if (client.in_multi && !client.in_exec && !(spec->flags & kCmdTxnControl)) {
    if (spec->flags & kCmdNoMulti) {
      client.multi_error = true;
      reject("ERR Command not allowed inside a transaction", spec);
      return Outcome::kDone;
    }
    client.queued.push_back(Client::QueuedCommand{spec, {argv.begin(), argv.end()}});
    client.multi_count.store(static_cast<int64_t>(client.queued.size()), std::memory_order_relaxed);
    reply.SimpleString("QUEUED");
    return Outcome::kDone;
  }

  // Linearizable reads: on the leader, a read (or an EXEC, whose block may read) runs only
  // behind a quorum confirmation requested after its bytes arrived (one per input burst).
  if (cluster_ && !client.in_exec && !client.readonly &&
      client.read_barrier_burst != client.read_burst &&
      ((!(spec->flags & kCmdWrite) && !(spec->flags & kCmdNoStorage)) ||
       (spec->name == "exec" && client.in_multi)) &&
      cluster_->serving()) {
    return Outcome::kWaitRead;
  }

  // Commit points. Some commands need the client's pending writes applied before they run:
  // keyless reads (DBSIZE, KEYS, SCAN, INFO... see committed data), EXEC (locks its keys
  // from an empty batch), whole-store commands, and a write that cannot join the batch (full,
  // or a stripe busy elsewhere: committing first is what keeps lock growth deadlock-free).
  // The connection commits without blocking its io thread and runs the command again.
  // From an empty batch, a lock held elsewhere (by a batch in flight, or a whole-store
  // command) parks the connection instead (kWaitLocks): an io thread never waits for one.
  ExecBatch& batch = *client.batch;
  bool is_write = spec->flags & kCmdWrite;
  auto busy = [&batch] { return batch.pending() ? Outcome::kCommitFirst : Outcome::kWaitLocks; };
  std::vector<size_t> joined;  // a write's stripes, when TryJoin computed and took them
  std::shared_lock<SharedGate> read_guard;
  if (!batch.atomic() && !batch.commit_failed()) {
    bool storage = !(spec->flags & kCmdNoStorage);
    if (batch.pending()) {
      bool keyless_read = !is_write && (spec->first_key == 0 || !storage);
      if ((spec->flags & (kCmdCommitFirst | kCmdOwnsDbGuard)) != 0 || keyless_read ||
          batch.commit_requested()) {
        return Outcome::kCommitFirst;
      }
    }
    if (spec->flags & kCmdOwnsDbGuard) {
      if (!batch.TryBeginExclusive()) return busy();
    } else if (spec->name == "exec" && client.in_multi && !client.multi_error &&
               !client.exec_resume) {
      // EXEC locks every key of the block at once; a block with FLUSHDB/FLUSHALL/SWAPDB holds
      // the whole storage instead (see TryBeginAtomic).
      bool exclusive = std::any_of(client.queued.begin(), client.queued.end(), [](const auto& q) {
        return (q.spec->flags & kCmdOwnsDbGuard) != 0;
      });
      if (!batch.TryBeginAtomic([&] { return AtomicStripes(client, reply); }, exclusive)) {
        return busy();
      }
    } else if (is_write && storage) {
      CommandContext probe{*this, client, argv, reply, *spec};
      if (!batch.TryJoin([&] { return StripesFor(probe, client.db); }, &joined)) return busy();
    } else if (storage && !batch.has_txn() && !batch.holds_gate()) {
      if (!batch.TryLockRead(&read_guard)) return busy();
    }
  }

  auto start = std::chrono::steady_clock::now();
  CommandContext ctx{*this, client, argv, reply, *spec};
  ctx.retry = client.retrying;
  batch.set_output(reply.output());
  struct OutputReset {
    ExecBatch& b;
    ~OutputReset() { b.set_output(nullptr); }
  } output_reset{batch};
  if (batch.commit_failed()) {
    ctx.ErrorText("ERR storage error: the write batch could not be committed");
  } else if (spec->flags & kCmdNoStorage) {
    RunHandler(ctx);
  } else if (spec->flags & kCmdOwnsDbGuard) {
    // FLUSHDB/FLUSHALL/SWAPDB hold the storage exclusively (TryBeginExclusive above, or the
    // exclusive EXEC block they run in). Their mutation becomes the batch's, and the
    // connection commits it before running anything else.
    ctx.guard_held = true;
    RunHandler(ctx);
  } else if (is_write) {
    auto txn = joined.empty()
                   ? batch.BeginWrite(client.db, [&] { return StripesFor(ctx, client.db); })
                   : batch.BeginWrite(client.db, std::move(joined));
    if (!txn.ok()) {
      ctx.Error(txn.status());
    } else {
      ctx.txn = *txn;
      RunHandler(ctx);
      batch.EndCommand(ctx.failed);
    }
  } else if (Txn* pending = batch.BeginRead(client.db)) {
    ctx.txn = pending;
    RunHandler(ctx);
    batch.EndCommand(false);
  } else {
    // The db gate is held shared by read_guard (taken above) unless this runs inside an
    // exclusive EXEC block, which holds it.
    Txn txn(storage_.get(), client.db, TxnMode::kRead);
    txn.set_event_sink(&batch);  // keymiss events
    ctx.txn = &txn;
    RunHandler(ctx);
    if (!batch.pending() && !batch.events().notifications.empty()) {
      ExecBatch::Events events = std::move(batch.events());
      batch.events() = ExecBatch::Events();
      OnCommitted(std::move(events), client.connection);
    }
  }
  auto usec = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  CommandStats& cs = commands_.stats(*spec);
  cs.calls.fetch_add(1, std::memory_order_relaxed);
  cs.usec.fetch_add(static_cast<uint64_t>(usec), std::memory_order_relaxed);
  if (ctx.failed) {
    cs.failed.fetch_add(1, std::memory_order_relaxed);
    stats_.total_error_replies.fetch_add(1, std::memory_order_relaxed);
  }
  stats_.commands_processed.fetch_add(1, std::memory_order_relaxed);
  client.commands.fetch_add(1, std::memory_order_relaxed);
  observer_.OnCommand(spec, client, argv, static_cast<uint64_t>(usec), ctx.failed, false);
  return Outcome::kDone;
}

}  // namespace keel::server
