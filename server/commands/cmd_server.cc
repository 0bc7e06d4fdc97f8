// Server commands: COMMAND CONFIG INFO DBSIZE FLUSHDB FLUSHALL SWAPDB TIME SHUTDOWN.
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <shared_mutex>

#include "datatypes/glob.h"
#include "server/commands/cmd_util.h"
#include "server/commands/command_table.h"
#include "server/net/connection.h"
#include "server/observability/metrics.h"
#include "server/server.h"

namespace keel::server {
namespace {

// ----------------------------------------------------------------- COMMAND

void ReplyKeySpecs(CommandContext& c, const CommandSpec& s) {
  // Redis 7.0 replies with a set of key specs (RESP3 '~').
  if (s.first_key <= 0) return c.reply.Set(0);
  c.reply.Set(1);
  c.reply.Map(3);
  c.reply.Bulk("flags");
  c.reply.Set(1);
  c.reply.SimpleString((s.flags & kCmdWrite) ? "RW" : "RO");
  c.reply.Bulk("begin_search");
  c.reply.Map(2);
  c.reply.Bulk("type");
  c.reply.Bulk("index");
  c.reply.Bulk("spec");
  c.reply.Map(1);
  c.reply.Bulk("index");
  c.reply.Integer(s.first_key);
  c.reply.Bulk("find_keys");
  c.reply.Map(2);
  c.reply.Bulk("type");
  c.reply.Bulk("range");
  c.reply.Bulk("spec");
  c.reply.Map(3);
  c.reply.Bulk("lastkey");
  c.reply.Integer(s.last_key < 0 ? s.last_key : s.last_key - s.first_key);
  c.reply.Bulk("keystep");
  c.reply.Integer(s.step);
  c.reply.Bulk("limit");
  c.reply.Integer(0);
}

std::vector<std::string_view> AclCategories(std::string_view acl) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < acl.size()) {
    size_t j = acl.find(' ', i);
    if (j == std::string_view::npos) j = acl.size();
    if (j > i) out.push_back(acl.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

void ReplyCommandInfo(CommandContext& c, const CommandSpec& s) {
  c.reply.Array(10);
  c.reply.Bulk(s.name);
  c.reply.Integer(s.arity);
  auto flags = FlagNames(s.flags);
  c.reply.Set(flags.size());
  for (auto f : flags) c.reply.SimpleString(f);
  c.reply.Integer(s.first_key);
  c.reply.Integer(s.last_key);
  c.reply.Integer(s.step);
  auto acl = AclCategories(s.acl);
  c.reply.Set(acl.size());
  for (auto a : acl) c.reply.SimpleString(a);
  c.reply.Set(0);  // tips
  ReplyKeySpecs(c, s);
  // As Redis 7.0: an empty set when there are no subcommands, else an array.
  if (s.subcommands.empty()) return c.reply.Set(0);
  c.reply.Array(s.subcommands.size());
  for (const auto& sub : s.subcommands) ReplyCommandInfo(c, sub);
}

void ReplyCommandDocs(CommandContext& c, const CommandSpec& s) {
  c.reply.Bulk(
      s.name.substr(s.name.find('|') == std::string_view::npos ? 0 : s.name.find('|') + 1));
  c.reply.Map(s.subcommands.empty() ? 4 : 5);
  c.reply.Bulk("summary");
  c.reply.Bulk(s.summary);
  c.reply.Bulk("since");
  c.reply.Bulk(s.since);
  c.reply.Bulk("group");
  c.reply.Bulk(s.group);
  c.reply.Bulk("complexity");
  c.reply.Bulk(s.complexity);
  if (!s.subcommands.empty()) {
    c.reply.Bulk("subcommands");
    c.reply.Map(s.subcommands.size());
    for (const auto& sub : s.subcommands) {
      c.reply.Bulk(sub.name);
      c.reply.Map(4);
      c.reply.Bulk("summary");
      c.reply.Bulk(sub.summary);
      c.reply.Bulk("since");
      c.reply.Bulk(sub.since);
      c.reply.Bulk("group");
      c.reply.Bulk(sub.group);
      c.reply.Bulk("complexity");
      c.reply.Bulk(sub.complexity);
    }
  }
}

void Command(CommandContext& c) {
  const auto& cmds = c.server.commands().commands();
  c.reply.Array(cmds.size());
  for (const auto& s : cmds) ReplyCommandInfo(c, s);
}

const CommandSpec* FindAny(CommandContext& c, std::string_view name) {
  size_t bar = name.find('|');
  if (bar == std::string_view::npos) return c.server.commands().Find(name);
  const CommandSpec* parent = c.server.commands().Find(name.substr(0, bar));
  return parent ? CommandTable::FindSub(*parent, name.substr(bar + 1)) : nullptr;
}

void CommandCount(CommandContext& c) {
  c.reply.Integer(static_cast<int64_t>(c.server.commands().commands().size()));
}

void CommandInfo(CommandContext& c) {
  if (c.argv.size() == 2) return Command(c);
  c.reply.Array(c.argv.size() - 2);
  for (size_t i = 2; i < c.argv.size(); ++i) {
    const CommandSpec* s = FindAny(c, c.argv[i]);
    if (s == nullptr) {
      c.reply.NullArray();
    } else {
      ReplyCommandInfo(c, *s);
    }
  }
}

void CommandDocs(CommandContext& c) {
  std::vector<const CommandSpec*> specs;
  if (c.argv.size() == 2) {
    for (const auto& s : c.server.commands().commands()) specs.push_back(&s);
  } else {
    for (size_t i = 2; i < c.argv.size(); ++i) {
      if (const CommandSpec* s = FindAny(c, c.argv[i])) specs.push_back(s);
    }
  }
  c.reply.Map(specs.size());
  for (const auto* s : specs) ReplyCommandDocs(c, *s);
}

void CommandList(CommandContext& c) {
  std::optional<std::string_view> pattern;
  if (c.argv.size() == 5 && EqualsIgnoreCase(c.argv[2], "FILTERBY") &&
      EqualsIgnoreCase(c.argv[3], "PATTERN")) {
    pattern = c.argv[4];
  } else if (c.argv.size() != 2) {
    return c.Error(Code::kSyntax);
  }
  // As Redis: subcommands are listed too, by their full name ("config|get").
  std::vector<std::string_view> names;
  for (const auto& s : c.server.commands().commands()) {
    if (!pattern || GlobMatch(*pattern, s.name, true)) names.push_back(s.name);
    for (const auto& sub : s.subcommands) {
      if (!pattern || GlobMatch(*pattern, sub.name, true)) names.push_back(sub.name);
    }
  }
  c.reply.Array(names.size());
  for (auto n : names) c.reply.Bulk(n);
}

void CommandGetKeys(CommandContext& c) {
  auto args = c.argv.subspan(2);
  const CommandSpec* s = c.server.commands().Find(args[0]);
  if (s == nullptr) return c.ErrorText("ERR Invalid command specified");
  if (!s->subcommands.empty() && args.size() >= 2) {
    if (const CommandSpec* sub = CommandTable::FindSub(*s, args[1])) s = sub;
  }
  int argc = static_cast<int>(args.size());
  if ((s->arity > 0 && s->arity != argc) || argc < -s->arity) {
    return c.ErrorText("ERR Invalid number of arguments specified for command");
  }
  auto pos = KeyPositions(*s, args);
  if (pos.empty()) return c.ErrorText("ERR The command has no key arguments");
  c.reply.Array(pos.size());
  for (size_t p : pos) c.reply.Bulk(args[p]);
}

void CommandHelp(CommandContext& c) {
  static const char* kLines[] = {
      "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "(no subcommand)",
      "    Return details about all Redis commands.",
      "COUNT",
      "    Return the total number of commands in this Redis server.",
      "LIST",
      "    Return a list of all commands in this Redis server.",
      "INFO [<command-name> ...]",
      "    Return details about multiple Redis commands.",
      "DOCS [<command-name> ...]",
      "    Return documentation details about multiple Redis commands.",
      "GETKEYS <full-command>",
      "    Return the keys from a full Redis command.",
      "HELP",
      "    Prints this help.",
  };
  c.reply.Array(std::size(kLines));
  for (const char* l : kLines) c.reply.SimpleString(l);
}

// COMMAND with no subcommand is the parent itself: the dispatcher routes "COMMAND" alone
// here because the parent has arity -1.
void CommandRoot(CommandContext& c) { Command(c); }

// ----------------------------------------------------------------- CONFIG

void ConfigGet(CommandContext& c) {
  auto pairs = c.server.config().Get(c.argv.subspan(2));
  c.reply.Map(pairs.size());
  for (const auto& [k, v] : pairs) {
    c.reply.Bulk(k);
    c.reply.Bulk(v);
  }
}

void ConfigSet(CommandContext& c) {
  if (c.argv.size() % 2 != 0) return c.Error(Code::kSyntax);  // as Redis: a dangling name
  std::vector<std::pair<std::string, std::string>> pairs;
  for (size_t i = 2; i + 1 < c.argv.size(); i += 2) pairs.emplace_back(c.argv[i], c.argv[i + 1]);
  Status st = c.server.config().Set(pairs, /*startup=*/false);
  if (!st.ok()) return c.Error(st);
  c.reply.Ok();
}

void ConfigResetStat(CommandContext& c) {
  for (const CommandSpec* s : c.server.commands().all()) {
    auto& st = c.server.commands().stats(*s);
    st.calls = 0;
    st.usec = 0;
    st.failed = 0;
    st.rejected = 0;
  }
  auto& ss = c.server.stats();
  ss.connections_received = 0;
  ss.rejected_connections = 0;
  ss.commands_processed = 0;
  ss.net_input_bytes = 0;
  ss.net_output_bytes = 0;
  ss.total_error_replies = 0;
  ss.unexpected_error_replies = 0;
  ss.reads_processed = 0;
  ss.writes_processed = 0;
  c.server.observer().ResetStats();  // latency histograms, error stats
  auto& st = c.storage().stats();
  st.expired_keys = 0;
  st.keyspace_hits = 0;
  st.keyspace_misses = 0;
  c.reply.Ok();
}

void ConfigHelp(CommandContext& c) {
  static const char* kLines[] = {
      "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GET <pattern>",
      "    Return parameters matching the glob-like <pattern> and their values.",
      "SET <directive> <value>",
      "    Set the configuration <directive> to <value>.",
      "RESETSTAT",
      "    Reset statistics reported by the INFO command.",
      "HELP",
      "    Prints this help.",
  };
  c.reply.Array(std::size(kLines));
  for (const char* l : kLines) c.reply.SimpleString(l);
}

// ----------------------------------------------------------------- INFO

std::string Human(uint64_t bytes) {
  char buf[32];
  double b = static_cast<double>(bytes);
  if (b < 1024) {
    snprintf(buf, sizeof(buf), "%lluB", static_cast<unsigned long long>(bytes));
  } else if (b < 1024.0 * 1024) {
    snprintf(buf, sizeof(buf), "%.2fK", b / 1024);
  } else if (b < 1024.0 * 1024 * 1024) {
    snprintf(buf, sizeof(buf), "%.2fM", b / 1024 / 1024);
  } else {
    snprintf(buf, sizeof(buf), "%.2fG", b / 1024 / 1024 / 1024);
  }
  return buf;
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::string OsName() {
  utsname u{};
  if (uname(&u) != 0) return "Linux";
  return std::string(u.sysname) + " " + u.release + " " + u.machine;
}

std::string Executable() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// INFO's sections in the order Redis prints them, and which ones INFO / INFO default print.
struct InfoSectionName {
  std::string_view name;
  bool in_default;
};
constexpr InfoSectionName kInfoSections[] = {
    {"server", true},        {"clients", true},     {"memory", true},        {"persistence", true},
    {"stats", true},         {"replication", true}, {"cpu", true},           {"modules", true},
    {"commandstats", false}, {"errorstats", true},  {"latencystats", false}, {"cluster", true},
    {"keyspace", true},
};

std::string InfoSection(CommandContext& c, std::string_view section) {
  Server& s = c.server;
  Storage& st = s.storage();
  std::string o;
  auto line = [&](std::string_view k, const std::string& v) {
    o.append(k);
    o += ":";
    o += v;
    o += "\r\n";
  };
  auto num = [&](std::string_view k, uint64_t v) { line(k, std::to_string(v)); };
  uint64_t now = s.NowMs();
  if (section == "server") {
    o += "# Server\r\n";
    line("redis_version", std::string(kRedisCompatVersion));
    line("redis_git_sha1", "00000000");
    line("redis_git_dirty", "0");
    line("redis_build_id", "0");
    line("redis_mode", "standalone");
    line("os", OsName());
    num("arch_bits", sizeof(void*) * 8);
    line("monotonic_clock", "POSIX clock_gettime");
    line("multiplexing_api", "epoll");
    line("atomicvar_api", "c11-builtin");
    line("gcc_version", std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
                            std::to_string(__GNUC_PATCHLEVEL__));
    num("process_id", static_cast<uint64_t>(getpid()));
    line("process_supervised", "no");
    line("run_id", s.run_id());
    num("tcp_port", s.port());
    num("server_time_usec", now * 1000);
    num("uptime_in_seconds", (now - s.start_ms()) / 1000);
    num("uptime_in_days", (now - s.start_ms()) / 86400000);
    num("hz", 10);
    num("configured_hz", 10);
    num("lru_clock", (now / 1000) & ((1u << 24) - 1));
    line("executable", Executable());
    line("config_file", s.config().config_file());
    num("io_threads_active", s.io_threads() > 1 ? 1 : 0);
    line("keel_version", std::string(kKeelVersion));
    num("keel_io_threads", s.io_threads());
    num("keel_metrics_port", s.metrics().port());
  } else if (section == "clients") {
    o += "# Clients\r\n";
    uint64_t max_in = 0, max_out = 0;
    for (const auto& conn : s.Clients()) {
      max_in = std::max(max_in, conn->client().query_buffer_bytes.load(std::memory_order_relaxed));
      max_out =
          std::max(max_out, conn->client().output_buffer_bytes.load(std::memory_order_relaxed));
    }
    num("connected_clients", s.client_count());
    num("cluster_connections", 0);
    num("maxclients", static_cast<uint64_t>(s.config().GetInt("maxclients")));
    num("client_recent_max_input_buffer", max_in);
    num("client_recent_max_output_buffer", max_out);
    num("blocked_clients", s.blocking().blocked_clients());
    num("tracking_clients", 0);
    num("clients_in_timeout_table", 0);
  } else if (section == "memory") {
    o += "# Memory\r\n";
    uint64_t rss = ProcessRssBytes();
    uint64_t peak = std::max(rss, s.metrics().peak_rss_bytes());
    uint64_t system = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) *
                      static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    // Client buffers as CLIENT LIST's tot-mem: the overhead; the rest of the RSS is the data
    // set (block cache, memtables, table readers).
    uint64_t clients_mem = 0;
    for (const auto& conn : s.Clients()) {
      const Client& cl = conn->client();
      clients_mem += cl.query_buffer_bytes.load(std::memory_order_relaxed) +
                     cl.output_buffer_bytes.load(std::memory_order_relaxed) +
                     Connection::kReadChunk;
    }
    uint64_t overhead = std::min(clients_mem, rss);
    auto perc = [](uint64_t part, uint64_t whole) {
      return Fixed(
                 whole > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 100.0,
                 2) +
             "%";
    };
    num("used_memory", rss);
    line("used_memory_human", Human(rss));
    num("used_memory_rss", rss);
    line("used_memory_rss_human", Human(rss));
    num("used_memory_peak", peak);
    line("used_memory_peak_human", Human(peak));
    line("used_memory_peak_perc", perc(rss, peak));
    num("used_memory_overhead", overhead);
    num("used_memory_startup", 0);
    num("used_memory_dataset", rss - overhead);
    line("used_memory_dataset_perc", perc(rss - overhead, rss));
    num("allocator_allocated", rss);  // libc malloc keeps no such statistics: the RSS
    num("allocator_active", rss);
    num("allocator_resident", rss);
    num("total_system_memory", system);
    line("total_system_memory_human", Human(system));
    num("used_memory_lua", 0);  // no scripting engine
    num("used_memory_vm_eval", 0);
    line("used_memory_lua_human", "0B");
    num("used_memory_scripts_eval", 0);
    num("number_of_cached_scripts", 0);
    num("number_of_functions", 0);
    num("number_of_libraries", 0);
    num("used_memory_vm_functions", 0);
    num("used_memory_vm_total", 0);
    line("used_memory_vm_total_human", "0B");
    num("used_memory_functions", 0);
    num("used_memory_scripts", 0);
    line("used_memory_scripts_human", "0B");
    num("maxmemory", 0);
    line("maxmemory_human", "0B");
    line("maxmemory_policy", "noeviction");
    line("allocator_frag_ratio", "1.00");
    num("allocator_frag_bytes", 0);
    line("allocator_rss_ratio", "1.00");
    num("allocator_rss_bytes", 0);
    line("rss_overhead_ratio", "1.00");
    num("rss_overhead_bytes", 0);
    line("mem_fragmentation_ratio", "1.00");  // used_memory is the RSS itself
    num("mem_fragmentation_bytes", 0);
    num("mem_not_counted_for_evict", 0);
    num("mem_replication_backlog", 0);
    num("mem_total_replication_buffers", 0);
    num("mem_clients_slaves", 0);
    num("mem_clients_normal", clients_mem);
    num("mem_cluster_links", 0);
    num("mem_aof_buffer", 0);
    line("mem_allocator", "libc");
    num("active_defrag_running", 0);
    num("lazyfree_pending_objects", 0);
    num("lazyfreed_objects", 0);
    num("rocksdb_block_cache_usage", DbIntProperty(st, "rocksdb.block-cache-usage"));
    num("rocksdb_block_cache_capacity", DbIntProperty(st, "rocksdb.block-cache-capacity"));
    num("rocksdb_memtables_bytes", st.IntProperty("rocksdb.cur-size-all-mem-tables"));
    num("rocksdb_table_readers_bytes", st.IntProperty("rocksdb.estimate-table-readers-mem"));
  } else if (section == "persistence") {
    o += "# Persistence\r\n";
    uint64_t bg_errors = DbIntProperty(st, "rocksdb.background-errors");
    num("loading", 0);
    num("async_loading", 0);
    num("current_cow_peak", 0);
    num("current_cow_size", 0);
    num("current_cow_size_age", 0);
    line("current_fork_perc", "0.00");
    num("current_save_keys_processed", 0);
    num("current_save_keys_total", 0);
    num("rdb_changes_since_last_save", 0);
    num("rdb_bgsave_in_progress", 0);
    num("rdb_last_save_time", s.start_ms() / 1000);
    line("rdb_last_bgsave_status", "ok");
    line("rdb_last_bgsave_time_sec", "-1");
    line("rdb_current_bgsave_time_sec", "-1");
    num("rdb_saves", 0);
    num("rdb_last_cow_size", 0);
    num("rdb_last_load_keys_expired", 0);
    num("rdb_last_load_keys_loaded", 0);
    num("aof_enabled", 1);
    num("aof_rewrite_in_progress", 0);
    num("aof_rewrite_scheduled", 0);
    line("aof_last_rewrite_time_sec", "-1");
    line("aof_current_rewrite_time_sec", "-1");
    line("aof_last_bgrewrite_status", "ok");
    num("aof_rewrites", 0);
    num("aof_rewrites_consecutive_failures", 0);
    line("aof_last_write_status", bg_errors == 0 ? "ok" : "err");
    num("aof_last_cow_size", 0);
    num("module_fork_in_progress", 0);
    num("module_fork_last_cow_size", 0);
    line("appendfsync", std::string(FsyncPolicyName(st.fsync_policy())));
    num("rocksdb_wal_syncs", st.stats().wal_syncs.load());
    num("rocksdb_live_sst_files_size", st.IntProperty("rocksdb.live-sst-files-size"));
    num("rocksdb_estimate_pending_compaction_bytes",
        st.IntProperty("rocksdb.estimate-pending-compaction-bytes"));
    num("rocksdb_actual_delayed_write_rate",
        DbIntProperty(st, "rocksdb.actual-delayed-write-rate"));
    num("rocksdb_is_write_stopped", DbIntProperty(st, "rocksdb.is-write-stopped"));
    auto [slowdowns, stops] = WriteStallCounts(st);
    num("rocksdb_write_stall_slowdowns", slowdowns);
    num("rocksdb_write_stall_stops", stops);
    num("rocksdb_background_errors", bg_errors);
  } else if (section == "stats") {
    o += "# Stats\r\n";
    auto& ss = s.stats();
    Metrics& m = s.metrics();
    num("total_connections_received", ss.connections_received.load());
    num("total_commands_processed", ss.commands_processed.load());
    num("instantaneous_ops_per_sec",
        static_cast<uint64_t>(std::llround(m.instantaneous_ops_per_sec())));
    num("total_net_input_bytes", ss.net_input_bytes.load());
    num("total_net_output_bytes", ss.net_output_bytes.load());
    num("total_net_repl_input_bytes", 0);
    num("total_net_repl_output_bytes", 0);
    line("instantaneous_input_kbps", Fixed(m.instantaneous_input_kbps(), 2));
    line("instantaneous_output_kbps", Fixed(m.instantaneous_output_kbps(), 2));
    line("instantaneous_input_repl_kbps", "0.00");
    line("instantaneous_output_repl_kbps", "0.00");
    num("rejected_connections", ss.rejected_connections.load());
    num("sync_full", 0);
    num("sync_partial_ok", 0);
    num("sync_partial_err", 0);
    num("expired_keys", st.stats().expired_keys.load());
    line("expired_stale_perc", "0.00");
    num("expired_time_cap_reached_count", 0);
    num("expire_cycle_cpu_milliseconds", 0);
    num("evicted_keys", 0);
    num("evicted_clients", 0);
    num("total_eviction_exceeded_time", 0);
    num("current_eviction_exceeded_time", 0);
    num("keyspace_hits", st.stats().keyspace_hits.load());
    num("keyspace_misses", st.stats().keyspace_misses.load());
    num("pubsub_channels", s.pubsub().Channels(PubSub::Kind::kChannel, "").size());
    num("pubsub_patterns", static_cast<uint64_t>(s.pubsub().NumPatterns()));
    num("pubsubshard_channels", s.pubsub().Channels(PubSub::Kind::kShard, "").size());
    num("latest_fork_usec", 0);
    num("total_forks", 0);
    num("migrate_cached_sockets", 0);
    num("slave_expires_tracked_keys", 0);
    num("active_defrag_hits", 0);
    num("active_defrag_misses", 0);
    num("active_defrag_key_hits", 0);
    num("active_defrag_key_misses", 0);
    num("total_active_defrag_time", 0);
    num("current_active_defrag_time", 0);
    num("tracking_total_keys", 0);
    num("tracking_total_items", 0);
    num("tracking_total_prefixes", 0);
    num("unexpected_error_replies", ss.unexpected_error_replies.load());
    num("total_error_replies", ss.total_error_replies.load());
    num("dump_payload_sanitizations", 0);
    uint64_t reads = ss.reads_processed.load(), writes = ss.writes_processed.load();
    num("total_reads_processed", reads);
    num("total_writes_processed", writes);
    // Every client's socket is read and written on an io thread.
    num("io_threaded_reads_processed", s.io_threads() > 1 ? reads : 0);
    num("io_threaded_writes_processed", s.io_threads() > 1 ? writes : 0);
    num("reply_buffer_shrinks", 0);
    num("reply_buffer_expands", 0);
    num("rocksdb_block_cache_hits", s.observer().block_cache_hits());
    num("rocksdb_block_cache_misses", s.observer().block_cache_misses());
  } else if (section == "replication" && s.cluster() != nullptr) {
    // The replica group: the role, the leader, and each replica's match index and lag (in
    // log entries); offsets are log indexes.
    o += "# Replication\r\n";
    auto* n = s.cluster();
    auto state = n->state();
    auto nodes = n->Nodes();
    bool leader = state.role == replication::Role::kLeader;
    line("role", leader ? "master" : "slave");
    if (leader) {
      num("connected_slaves", static_cast<int64_t>(nodes.size() > 0 ? nodes.size() - 1 : 0));
      int i = 0;
      for (auto& x : nodes) {
        if (x.myself) continue;
        line("slave" + std::to_string(i++),
             "ip=" + x.ip + ",port=" + std::to_string(x.port) +
                 ",state=online,offset=" + std::to_string(x.match) +
                 ",lag=" + std::to_string(state.applied > x.match ? state.applied - x.match : 0) +
                 ",node_id=" + x.node_id + (x.voter ? ",voter=1" : ",voter=0"));
      }
    } else {
      auto l = n->Leader();
      line("master_host", l ? l->ip : "?");
      num("master_port", l ? l->port : 0);
      line("master_link_status", l ? "up" : "down");
      num("slave_repl_offset", static_cast<int64_t>(state.applied));
      num("slave_read_only", 1);
      num("connected_slaves", 0);
    }
    num("master_repl_offset", static_cast<int64_t>(state.applied));
    line("keel_paxos_role", replication::RoleName(state.role));
    num("keel_paxos_ballot", static_cast<int64_t>(state.ballot.round));
    num("keel_paxos_commit_index", static_cast<int64_t>(state.commit));
    num("keel_paxos_applied_index", static_cast<int64_t>(state.applied));
    num("keel_paxos_last_index", static_cast<int64_t>(state.last_index));
    const auto& pc = n->counters();
    num("keel_paxos_log_bytes", static_cast<int64_t>(pc.log_bytes.load()));
    num("keel_paxos_log_compactions", static_cast<int64_t>(pc.compactions.load()));
    num("keel_paxos_snapshots_sent", static_cast<int64_t>(pc.snapshots_sent.load()));
    num("keel_paxos_snapshots_installed", static_cast<int64_t>(pc.snapshots_installed.load()));
  } else if (section == "replication") {
    o += "# Replication\r\n";
    line("role", "master");
    num("connected_slaves", 0);
    line("master_failover_state", "no-failover");
    line("master_replid", s.run_id());
    line("master_replid2", std::string(40, '0'));
    num("master_repl_offset", 0);
    line("second_repl_offset", "-1");
    num("repl_backlog_active", 0);
    num("repl_backlog_size", 1048576);
    num("repl_backlog_first_byte_offset", 0);
    num("repl_backlog_histlen", 0);
  } else if (section == "cpu") {
    o += "# CPU\r\n";
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    char buf[64];
    snprintf(buf, sizeof(buf), "%ld.%06ld", static_cast<long>(ru.ru_stime.tv_sec),
             static_cast<long>(ru.ru_stime.tv_usec));
    line("used_cpu_sys", buf);
    snprintf(buf, sizeof(buf), "%ld.%06ld", static_cast<long>(ru.ru_utime.tv_sec),
             static_cast<long>(ru.ru_utime.tv_usec));
    line("used_cpu_user", buf);
    line("used_cpu_sys_children", "0.000000");
    line("used_cpu_user_children", "0.000000");
    // Keel has no main thread: the io thread running this INFO.
    rusage th{};
    getrusage(RUSAGE_THREAD, &th);
    snprintf(buf, sizeof(buf), "%ld.%06ld", static_cast<long>(th.ru_stime.tv_sec),
             static_cast<long>(th.ru_stime.tv_usec));
    line("used_cpu_sys_main_thread", buf);
    snprintf(buf, sizeof(buf), "%ld.%06ld", static_cast<long>(th.ru_utime.tv_sec),
             static_cast<long>(th.ru_utime.tv_usec));
    line("used_cpu_user_main_thread", buf);
  } else if (section == "modules") {
    o += "# Modules\r\n";
  } else if (section == "commandstats") {
    o += "# Commandstats\r\n";
    for (const CommandSpec* spec : s.commands().all()) {
      auto& cs = s.commands().stats(*spec);
      uint64_t calls = cs.calls.load(), rejected = cs.rejected.load();
      if (calls == 0 && rejected == 0) continue;
      uint64_t usec = cs.usec.load();
      line("cmdstat_" + std::string(spec->name),
           "calls=" + std::to_string(calls) + ",usec=" + std::to_string(usec) +
               ",usec_per_call=" + Fixed(calls ? static_cast<double>(usec) / calls : 0.0, 2) +
               ",rejected_calls=" + std::to_string(rejected) +
               ",failed_calls=" + std::to_string(cs.failed.load()));
    }
  } else if (section == "errorstats") {
    o += "# Errorstats\r\n";
    for (const auto& [code, n] : s.observer().errors().Snapshot()) {
      line("errorstat_" + code, "count=" + std::to_string(n));
    }
  } else if (section == "latencystats") {
    o += "# Latencystats\r\n";
    auto percentiles = s.observer().info_percentiles();
    for (const CommandSpec* spec : s.commands().all()) {
      CommandHistograms::Snapshot snap;
      if (!s.observer().histograms().Read(spec->id, &snap)) continue;
      std::string v;
      for (double p : percentiles) {
        if (!v.empty()) v += ",";
        v += "p" + ShortDouble(p) + "=" + Fixed(CommandHistograms::Percentile(snap, p), 3);
      }
      line("latency_percentiles_usec_" + std::string(spec->name), v);
    }
  } else if (section == "cluster") {
    o += "# Cluster\r\n";
    num("cluster_enabled", s.cluster() != nullptr ? 1 : 0);
  } else if (section == "keyspace") {
    o += "# Keyspace\r\n";
    for (int db = 0; db < st.databases(); ++db) {
      int64_t keys = st.KeyCount(db);
      if (keys <= 0) continue;
      line("db" + std::to_string(db), "keys=" + std::to_string(keys) + ",expires=" +
                                          std::to_string(st.ExpiresCount(db)) + ",avg_ttl=0");
    }
  }
  return o;
}

// INFO [section ...]: the named sections (case-insensitive; "default", "all" and
// "everything" as in Redis 7.0), printed in Redis's section order whatever the argument
// order; unknown names are ignored.
void Info(CommandContext& c) {
  std::vector<bool> wanted(std::size(kInfoSections), false);
  auto want_default = [&](bool all) {
    for (size_t i = 0; i < wanted.size(); ++i) {
      if (all || kInfoSections[i].in_default) wanted[i] = true;
    }
  };
  if (c.argv.size() == 1) want_default(false);
  for (size_t i = 1; i < c.argv.size(); ++i) {
    std::string name(c.argv[i]);
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (name == "default") {
      want_default(false);
    } else if (name == "all" || name == "everything") {
      want_default(true);
    } else {
      for (size_t j = 0; j < wanted.size(); ++j) {
        if (kInfoSections[j].name == name) wanted[j] = true;
      }
    }
  }
  std::string text;
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (!wanted[i]) continue;
    std::string part = InfoSection(c, kInfoSections[i].name);
    if (!text.empty()) text += "\r\n";
    text += part;
  }
  c.reply.Verbatim(text);
}

// ----------------------------------------------------------------- keyspace-wide

void DbSize(CommandContext& c) {
  // Counts the keys the pending transaction (MULTI/EXEC, pipeline) created or removed too.
  c.reply.Integer(c.storage().KeyCount(c.client.db) + c.txn->PendingKeyDelta(c.txn->db()));
}

bool ParseFlushMode(CommandContext& c) {
  if (c.argv.size() > 2 || (c.argv.size() == 2 && !EqualsIgnoreCase(c.argv[1], "ASYNC") &&
                            !EqualsIgnoreCase(c.argv[1], "SYNC"))) {
    c.Error(Code::kSyntax);
    return false;
  }
  return true;
}

// WATCH and whole-database operations (Redis's touchAllWatchedKeysInDb): an EXEC fails if a
// key it watches existed in a database that FLUSHDB/FLUSHALL emptied, or in either database
// of a SWAPDB. The watchers are marked dirty before the operation (so no EXEC can succeed on
// the data after it), and watchers that came in while it waited for the storage are marked
// after it (they cannot be told apart from watchers of a missing key any more).
class WatchedDbTouch {
 public:
  // `dbs` are the databases emptied or swapped; a key counts if it exists in any of them.
  WatchedDbTouch(CommandContext& c, std::vector<int> dbs) : c_(c), dbs_(std::move(dbs)) {
    auto& watches = c_.server.watches();
    if (watches.empty()) return;
    Storage& st = c_.storage();
    std::shared_lock<SharedGate> guard(st.db_guard(), std::defer_lock);
    if (!c_.guard_held) guard.lock();  // ReadKey maps the db
    for (int db : dbs_) {
      for (auto& key : watches.KeysOf(db)) {
        bool exists = false;
        for (int where : dbs_) {
          KeyRecord rec;
          if (st.ReadKey(where, key, &rec).ok() && rec.exists) exists = true;
        }
        before_.emplace_back(db, key);
        if (exists) touch_.emplace_back(db, std::move(key));
      }
    }
    watches.Touch(touch_);
  }
  // After the operation.
  void Done() {
    auto& watches = c_.server.watches();
    if (watches.empty()) return;
    std::vector<std::pair<int, std::string>> late;
    for (int db : dbs_) {
      for (auto& key : watches.KeysOf(db)) {
        std::pair<int, std::string> k(db, std::move(key));
        if (std::find(before_.begin(), before_.end(), k) == before_.end()) late.push_back(k);
      }
    }
    watches.Touch(late);
  }

 private:
  CommandContext& c_;
  std::vector<int> dbs_;
  std::vector<std::pair<int, std::string>> before_, touch_;
};

// A whole-store command's mutation (the db gate is held exclusively) becomes the
// connection's batch, committed before anything else runs (inside a MULTI/EXEC block, before
// the block's next command: Server::ExecTransaction).
Status CommitWholeStore(CommandContext& c, Mutation mutation) {
  c.client.batch->AddWholeStore(std::move(mutation));
  return Status::Ok();
}

void FlushDb(CommandContext& c) {
  if (!ParseFlushMode(c)) return;
  WatchedDbTouch watched(c, {c.client.db});
  Status st = CommitWholeStore(c, c.storage().BuildFlushDb(c.client.db));
  watched.Done();
  if (!st.ok()) return c.Error(st);
  c.reply.Ok();
}

void FlushAll(CommandContext& c) {
  if (!ParseFlushMode(c)) return;
  std::vector<int> all;
  for (int db = 0; db < c.storage().databases(); ++db) all.push_back(db);
  WatchedDbTouch watched(c, std::move(all));
  Status st = CommitWholeStore(c, c.storage().BuildFlushAll());
  watched.Done();
  if (!st.ok()) return c.Error(st);
  c.reply.Ok();
}

void SwapDb(CommandContext& c) {
  auto a = ToInt64(c.argv[1]);
  if (!a) return c.ErrorText("ERR invalid first DB index");
  auto b = ToInt64(c.argv[2]);
  if (!b) return c.ErrorText("ERR invalid second DB index");
  int n = c.storage().databases();
  if (*a < 0 || *a >= n || *b < 0 || *b >= n) return c.Error(Code::kInvalidDbIndex);
  WatchedDbTouch watched(c, {static_cast<int>(*a), static_cast<int>(*b)});
  Status st =
      CommitWholeStore(c, c.storage().BuildSwapDb(static_cast<int>(*a), static_cast<int>(*b)));
  watched.Done();
  if (!st.ok()) return c.Error(st);
  // Clients blocked on keys of either db may now be servable.
  c.server.blocking().WakeDb(static_cast<int>(*a));
  c.server.blocking().WakeDb(static_cast<int>(*b));
  c.reply.Ok();
}

void Time(CommandContext& c) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  c.reply.Array(2);
  c.reply.Bulk(std::to_string(us / 1000000));
  c.reply.Bulk(std::to_string(us % 1000000));
}

void Shutdown(CommandContext& c) {
  for (size_t i = 1; i < c.argv.size(); ++i) {
    std::string_view a = c.argv[i];
    if (EqualsIgnoreCase(a, "ABORT")) {
      return c.ErrorText("ERR No shutdown in progress.");
    }
    if (!EqualsIgnoreCase(a, "NOSAVE") && !EqualsIgnoreCase(a, "SAVE") &&
        !EqualsIgnoreCase(a, "NOW") && !EqualsIgnoreCase(a, "FORCE")) {
      return c.Error(Code::kSyntax);
    }
  }
  // Data is already durable in RocksDB; the WAL is synced while stopping. Like Redis, the
  // client gets no reply: the connection closes.
  c.client.close_after_reply = true;
  c.server.RequestShutdown();
}

constexpr uint32_t kLocal = kCmdNoStorage | kCmdLoading | kCmdStale;

}  // namespace

void RegisterServerCommands(std::vector<CommandSpec>* out) {
  out->push_back({.name = "command",
                  .arity = -1,
                  .flags = kLocal,
                  .handler = CommandRoot,
                  .group = "server",
                  .summary = "Get array of Redis command details",
                  .since = "2.8.13",
                  .complexity = "O(N) where N is the total number of Redis commands",
                  .acl = "@slow @connection",
                  .subcommands = {
                      {.name = "command|count",
                       .arity = 2,
                       .flags = kLocal,
                       .handler = CommandCount,
                       .group = "server",
                       .summary = "Get total number of Redis commands",
                       .since = "2.8.13",
                       .complexity = "O(1)",
                       .acl = "@slow @connection"},
                      {.name = "command|info",
                       .arity = -2,
                       .flags = kLocal,
                       .handler = CommandInfo,
                       .group = "server",
                       .summary = "Get array of specific Redis command details",
                       .since = "2.8.13",
                       .complexity = "O(N) where N is the number of commands to look up",
                       .acl = "@slow @connection"},
                      {.name = "command|docs",
                       .arity = -2,
                       .flags = kLocal,
                       .handler = CommandDocs,
                       .group = "server",
                       .summary = "Get array of specific Redis command documentation",
                       .since = "7.0.0",
                       .complexity = "O(N) where N is the number of commands to look up",
                       .acl = "@slow @connection"},
                      {.name = "command|list",
                       .arity = -2,
                       .flags = kLocal,
                       .handler = CommandList,
                       .group = "server",
                       .summary = "Get an array of Redis command names",
                       .since = "7.0.0",
                       .complexity = "O(N) where N is the total number of Redis commands",
                       .acl = "@slow @connection"},
                      {.name = "command|getkeys",
                       .arity = -4,
                       .flags = kLocal,
                       .handler = CommandGetKeys,
                       .group = "server",
                       .summary = "Extract keys given a full Redis command",
                       .since = "2.8.13",
                       .complexity = "O(N) where N is the number of arguments to the command",
                       .acl = "@slow @connection"},
                      {.name = "command|help",
                       .arity = 2,
                       .flags = kLocal,
                       .handler = CommandHelp,
                       .group = "server",
                       .summary = "Show helpful text about the different subcommands",
                       .since = "5.0.0",
                       .complexity = "O(1)",
                       .acl = "@slow @connection"},
                  }});
  out->push_back(
      {.name = "config",
       .arity = -2,
       .flags = kCmdNoStorage,
       .group = "server",
       .summary = "A container for server configuration commands",
       .since = "2.0.0",
       .complexity = "Depends on subcommand.",
       .acl = "@slow",
       .subcommands = {
           {.name = "config|get",
            .arity = -3,
            .flags = kLocal | kCmdAdmin | kCmdNoScript,
            .handler = ConfigGet,
            .group = "server",
            .summary = "Get the values of configuration parameters",
            .since = "2.0.0",
            .complexity = "O(N) when N is the number of configuration parameters provided",
            .acl = "@admin @slow @dangerous"},
           {.name = "config|set",
            .arity = -4,
            .flags = kLocal | kCmdAdmin | kCmdNoScript,
            .handler = ConfigSet,
            .group = "server",
            .summary = "Set configuration parameters to the given values",
            .since = "2.0.0",
            .complexity = "O(N) when N is the number of configuration parameters provided",
            .acl = "@admin @slow @dangerous"},
           {.name = "config|resetstat",
            .arity = 2,
            .flags = kLocal | kCmdAdmin | kCmdNoScript,
            .handler = ConfigResetStat,
            .group = "server",
            .summary = "Reset the stats returned by INFO",
            .since = "2.0.0",
            .complexity = "O(1)",
            .acl = "@admin @slow @dangerous"},
           {.name = "config|help",
            .arity = 2,
            .flags = kLocal,
            .handler = ConfigHelp,
            .group = "server",
            .summary = "Show helpful text about the different subcommands",
            .since = "5.0.0",
            .complexity = "O(1)",
            .acl = "@slow"},
       }});
  out->push_back({.name = "info",
                  .arity = -1,
                  .flags = kLocal,
                  .handler = Info,
                  .group = "server",
                  .summary = "Get information and statistics about the server",
                  .since = "1.0.0",
                  .complexity = "O(1)",
                  .acl = "@slow @dangerous"});
  out->push_back({.name = "dbsize",
                  .arity = 1,
                  .flags = kCmdReadOnly | kCmdFast,
                  .handler = DbSize,
                  .group = "server",
                  .summary = "Return the number of keys in the selected database",
                  .since = "1.0.0",
                  .complexity = "O(1)",
                  .acl = "@keyspace @read @fast"});
  out->push_back({.name = "flushdb",
                  .arity = -1,
                  .flags = kCmdWrite | kCmdOwnsDbGuard,
                  .handler = FlushDb,
                  .group = "server",
                  .summary = "Remove all keys from the current database",
                  .since = "1.0.0",
                  .complexity = "O(N) where N is the number of hash slots holding keys",
                  .acl = "@keyspace @write @slow @dangerous"});
  out->push_back({.name = "flushall",
                  .arity = -1,
                  .flags = kCmdWrite | kCmdOwnsDbGuard,
                  .handler = FlushAll,
                  .group = "server",
                  .summary = "Remove all keys from all databases",
                  .since = "1.0.0",
                  .complexity = "O(1)",
                  .acl = "@keyspace @write @slow @dangerous"});
  out->push_back({.name = "swapdb",
                  .arity = 3,
                  .flags = kCmdWrite | kCmdFast | kCmdOwnsDbGuard,
                  .handler = SwapDb,
                  .group = "server",
                  .summary = "Swaps two Redis databases",
                  .since = "4.0.0",
                  .complexity = "O(1)",
                  .acl = "@keyspace @write @fast @dangerous"});
  out->push_back({.name = "time",
                  .arity = 1,
                  .flags = kLocal | kCmdFast,
                  .handler = Time,
                  .group = "server",
                  .summary = "Return the current server time",
                  .since = "2.6.0",
                  .complexity = "O(1)",
                  .acl = "@fast"});
  out->push_back({.name = "shutdown",
                  .arity = -1,
                  .flags = kLocal | kCmdAdmin | kCmdNoScript | kCmdNoMulti | kCmdAllowBusy,
                  .handler = Shutdown,
                  .group = "server",
                  .summary = "Synchronously save the dataset to disk and then shut down the server",
                  .since = "1.0.0",
                  .complexity = "O(1)",
                  .acl = "@admin @slow @dangerous"});
}

}  // namespace keel::server
