// Redis's own introspection over the wire, with Redis 7.0's replies: INFO (sections,
// commandstats, errorstats, latencystats, keyspace), SLOWLOG, LATENCY, MONITOR, CLIENT LIST
// flags, MEMORY USAGE, CONFIG RESETSTAT and DEBUG SLEEP / OBJECT. Most tests also pass
// against a real redis-server (KEEL_TEST_REDIS_PORT, started with enable-debug-command yes).
#include <algorithm>
#include <string>
#include <vector>

#include "datatypes/glob.h"
#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

// The lines of a reply (CRLF or LF separated).
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string::npos) j = text.size();
    std::string line = text.substr(i, j - i);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
    i = j + 1;
  }
  return out;
}

// Whether some line of `text` matches the Redis glob `pattern` and has `fields` '=' signs
// (so that a '*' cannot swallow extra fields).
bool HasLine(const std::string& text, std::string_view pattern, size_t fields) {
  for (const auto& line : Lines(text)) {
    if (GlobMatch(pattern, line) &&
        static_cast<size_t>(std::count(line.begin(), line.end(), '=')) == fields) {
      return true;
    }
  }
  return false;
}

class IntrospectionTest : public ServerTest {
 protected:
  ConfigPairs ExtraConfig() const override {
    return {{"metrics-port", "0"}, {"enable-debug-command", "yes"}};
  }
  void TearDown() override {
    if (external()) {
      // Put back what the tests change on a shared Redis.
      Client c(port());
      c.Cmd({"CONFIG", "SET", "slowlog-log-slower-than", "10000", "slowlog-max-len", "128",
             "latency-monitor-threshold", "0", "latency-tracking", "yes",
             "latency-tracking-info-percentiles", "50 99 99.9"});
      c.Cmd({"SLOWLOG", "RESET"});
      c.Cmd({"LATENCY", "RESET"});
    }
    ServerTest::TearDown();
  }
  std::string Info(const std::string& section) { return Cmd({"INFO", section}); }
  // The section headers of an INFO reply, in order.
  static std::vector<std::string> Headers(const std::string& info) {
    std::vector<std::string> out;
    for (const auto& line : Lines(info)) {
      if (line.starts_with("# ")) out.push_back(line.substr(2));
    }
    return out;
  }
};

using Strings = std::vector<std::string>;

// ------------------------------------------------------------------ INFO

TEST_F(IntrospectionTest, InfoWithoutArgumentsPrintsTheDefaultSectionsInRedisOrder) {
  EXPECT_EQ(Headers(Cmd({"INFO"})),
            Strings({"Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU",
                     "Modules", "Errorstats", "Cluster", "Keyspace"}));
  EXPECT_EQ(Headers(Cmd({"INFO", "default"})), Headers(Cmd({"INFO"})));
}

TEST_F(IntrospectionTest, InfoAllAddsCommandstatsAndLatencystats) {
  Strings all = {"Server",       "Clients", "Memory",  "Persistence",  "Stats",
                 "Replication",  "CPU",     "Modules", "Commandstats", "Errorstats",
                 "Latencystats", "Cluster", "Keyspace"};
  EXPECT_EQ(Headers(Cmd({"INFO", "all"})), all);
  EXPECT_EQ(Headers(Cmd({"INFO", "EVERYTHING"})), all);
}

TEST_F(IntrospectionTest, InfoPrintsRequestedSectionsInRedisOrderAndIgnoresUnknownOnes) {
  EXPECT_EQ(Headers(Cmd({"INFO", "keyspace", "CLIENTS", "server"})),
            Strings({"Server", "Clients", "Keyspace"}));
  EXPECT_EQ(Cmd({"INFO", "nosuchsection"}), "");
}

TEST_F(IntrospectionTest, InfoServerAndStatsHaveTheFieldsToolsRead) {
  std::string server = Info("server");
  for (const char* f :
       {"redis_version:7.0.15\r\n", "redis_mode:standalone\r\n", "run_id:", "tcp_port:",
        "uptime_in_seconds:", "process_id:", "executable:", "lru_clock:", "hz:10\r\n"}) {
    EXPECT_NE(server.find(f), std::string::npos) << f;
  }
  std::string stats = Info("stats");
  for (const char* f :
       {"total_commands_processed:", "instantaneous_ops_per_sec:", "instantaneous_input_kbps:",
        "keyspace_hits:", "keyspace_misses:", "expired_keys:", "evicted_keys:0\r\n",
        "pubsub_channels:", "total_error_replies:"}) {
    EXPECT_NE(stats.find(f), std::string::npos) << f;
  }
}

// The field names of an INFO reply, in order, without Keel's own additions (keel_*,
// rocksdb_*, appendfsync).
Strings InfoFields(const std::string& info) {
  Strings out;
  for (const auto& line : Lines(info)) {
    size_t colon = line.find(':');
    if (line.empty() || line[0] == '#' || colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    if (name.starts_with("keel_") || name.starts_with("rocksdb_") || name == "appendfsync") {
      continue;
    }
    out.push_back(name);
  }
  return out;
}

TEST_F(IntrospectionTest, InfoSectionsHaveEveryFieldOfRedis70InItsOrder) {
  // redis-server 7.0.15's INFO, standalone, no replicas (exporters and tools read these).
  const std::vector<std::pair<std::string, std::string>> sections = {
      {"server",
       "redis_version redis_git_sha1 redis_git_dirty redis_build_id redis_mode os arch_bits "
       "monotonic_clock multiplexing_api atomicvar_api gcc_version process_id "
       "process_supervised run_id tcp_port server_time_usec uptime_in_seconds uptime_in_days "
       "hz configured_hz lru_clock executable config_file io_threads_active"},
      {"clients",
       "connected_clients cluster_connections maxclients client_recent_max_input_buffer "
       "client_recent_max_output_buffer blocked_clients tracking_clients "
       "clients_in_timeout_table"},
      {"memory",
       "used_memory used_memory_human used_memory_rss used_memory_rss_human used_memory_peak "
       "used_memory_peak_human used_memory_peak_perc used_memory_overhead used_memory_startup "
       "used_memory_dataset used_memory_dataset_perc allocator_allocated allocator_active "
       "allocator_resident total_system_memory total_system_memory_human used_memory_lua "
       "used_memory_vm_eval used_memory_lua_human used_memory_scripts_eval "
       "number_of_cached_scripts number_of_functions number_of_libraries "
       "used_memory_vm_functions used_memory_vm_total used_memory_vm_total_human "
       "used_memory_functions used_memory_scripts used_memory_scripts_human maxmemory "
       "maxmemory_human maxmemory_policy allocator_frag_ratio allocator_frag_bytes "
       "allocator_rss_ratio allocator_rss_bytes rss_overhead_ratio rss_overhead_bytes "
       "mem_fragmentation_ratio mem_fragmentation_bytes mem_not_counted_for_evict "
       "mem_replication_backlog mem_total_replication_buffers mem_clients_slaves "
       "mem_clients_normal mem_cluster_links mem_aof_buffer mem_allocator "
       "active_defrag_running lazyfree_pending_objects lazyfreed_objects"},
      {"persistence",
       "loading async_loading current_cow_peak current_cow_size current_cow_size_age "
       "current_fork_perc current_save_keys_processed current_save_keys_total "
       "rdb_changes_since_last_save rdb_bgsave_in_progress rdb_last_save_time "
       "rdb_last_bgsave_status rdb_last_bgsave_time_sec rdb_current_bgsave_time_sec rdb_saves "
       "rdb_last_cow_size rdb_last_load_keys_expired rdb_last_load_keys_loaded aof_enabled "
       "aof_rewrite_in_progress aof_rewrite_scheduled aof_last_rewrite_time_sec "
       "aof_current_rewrite_time_sec aof_last_bgrewrite_status aof_rewrites "
       "aof_rewrites_consecutive_failures aof_last_write_status aof_last_cow_size "
       "module_fork_in_progress module_fork_last_cow_size"},
      {"stats",
       "total_connections_received total_commands_processed instantaneous_ops_per_sec "
       "total_net_input_bytes total_net_output_bytes total_net_repl_input_bytes "
       "total_net_repl_output_bytes instantaneous_input_kbps instantaneous_output_kbps "
       "instantaneous_input_repl_kbps instantaneous_output_repl_kbps rejected_connections "
       "sync_full sync_partial_ok sync_partial_err expired_keys expired_stale_perc "
       "expired_time_cap_reached_count expire_cycle_cpu_milliseconds evicted_keys "
       "evicted_clients total_eviction_exceeded_time current_eviction_exceeded_time "
       "keyspace_hits keyspace_misses pubsub_channels pubsub_patterns pubsubshard_channels "
       "latest_fork_usec total_forks migrate_cached_sockets slave_expires_tracked_keys "
       "active_defrag_hits active_defrag_misses active_defrag_key_hits "
       "active_defrag_key_misses total_active_defrag_time current_active_defrag_time "
       "tracking_total_keys tracking_total_items tracking_total_prefixes "
       "unexpected_error_replies total_error_replies dump_payload_sanitizations "
       "total_reads_processed total_writes_processed io_threaded_reads_processed "
       "io_threaded_writes_processed reply_buffer_shrinks reply_buffer_expands"},
      {"replication",
       "role connected_slaves master_failover_state master_replid master_replid2 "
       "master_repl_offset second_repl_offset repl_backlog_active repl_backlog_size "
       "repl_backlog_first_byte_offset repl_backlog_histlen"},
      {"cpu",
       "used_cpu_sys used_cpu_user used_cpu_sys_children used_cpu_user_children "
       "used_cpu_sys_main_thread used_cpu_user_main_thread"},
  };
  for (const auto& [section, fields] : sections) {
    Strings want;
    for (size_t i = 0; i < fields.size();) {
      size_t j = std::min(fields.find(' ', i), fields.size());
      want.push_back(fields.substr(i, j - i));
      i = j + 1;
    }
    EXPECT_EQ(InfoFields(Info(section)), want) << section;
  }
}

TEST_F(IntrospectionTest, InfoCommandstatsCountsCallsRejectionsAndFailures) {
  ASSERT_EQ(Cmd({"CONFIG", "RESETSTAT"}), "+OK");
  Cmd({"SET", "k", "v"});
  Cmd({"SET", "k", "v"});
  Cmd({"GET"});
  Cmd({"SET", "k", "v", "EX", "abc"});
  std::string stats = Info("commandstats");
  EXPECT_TRUE(HasLine(stats,
                      "cmdstat_set:calls=3,usec=[0-9]*,usec_per_call=[0-9]*.[0-9][0-9],"
                      "rejected_calls=0,failed_calls=1",
                      5))
      << stats;
  EXPECT_NE(stats.find("\r\ncmdstat_get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,"
                       "failed_calls=0\r\n"),
            std::string::npos)
      << stats;
}

TEST_F(IntrospectionTest, InfoErrorstatsCountsErrorsByCode) {
  ASSERT_EQ(Cmd({"CONFIG", "RESETSTAT"}), "+OK");
  MakeList("list");
  Cmd({"GET", "list"});
  Cmd({"GET", "list"});
  Cmd({"NOSUCHCOMMAND"});
  EXPECT_EQ(Info("errorstats"),
            "# Errorstats\r\nerrorstat_ERR:count=1\r\nerrorstat_WRONGTYPE:count=2\r\n");
  EXPECT_NE(Info("stats").find("total_error_replies:3\r\n"), std::string::npos);
  ASSERT_EQ(Cmd({"CONFIG", "RESETSTAT"}), "+OK");
  EXPECT_EQ(Info("errorstats"), "# Errorstats\r\n");
}

TEST_F(IntrospectionTest, InfoLatencystatsPrintsTheConfiguredPercentiles) {
  ASSERT_EQ(Cmd({"CONFIG", "RESETSTAT"}), "+OK");
  Cmd({"SET", "k", "v"});
  std::string stats = Info("latencystats");
  EXPECT_TRUE(HasLine(stats,
                      "latency_percentiles_usec_set:p50=[0-9]*.[0-9][0-9][0-9],"
                      "p99=[0-9]*.[0-9][0-9][0-9],p99.9=[0-9]*.[0-9][0-9][0-9]",
                      3))
      << stats;
  ASSERT_EQ(Cmd({"CONFIG", "SET", "latency-tracking-info-percentiles", "50.0 99.99"}), "+OK");
  EXPECT_EQ(Cmd({"CONFIG", "GET", "latency-tracking-info-percentiles"}),
            "[latency-tracking-info-percentiles,50 99.99]");
  stats = Info("latencystats");
  EXPECT_TRUE(HasLine(
      stats,
      "latency_percentiles_usec_set:p50=[0-9]*.[0-9][0-9][0-9],p99.99=[0-9]*.[0-9][0-9][0-9]", 2))
      << stats;
  ASSERT_EQ(Cmd({"CONFIG", "RESETSTAT"}), "+OK");
  EXPECT_EQ(Info("latencystats").find("usec_set"), std::string::npos);
}

TEST_F(IntrospectionTest, PercentilesConfigIsValidatedLikeRedis) {
  EXPECT_EQ(Cmd({"CONFIG", "SET", "latency-tracking-info-percentiles", "abc"}),
            "-ERR CONFIG SET failed (possibly related to argument "
            "'latency-tracking-info-percentiles') - Invalid latency-tracking-info-percentiles "
            "parameters");
  EXPECT_EQ(Cmd({"CONFIG", "SET", "latency-tracking-info-percentiles", "101"}),
            "-ERR CONFIG SET failed (possibly related to argument "
            "'latency-tracking-info-percentiles') - latency-tracking-info-percentiles "
            "parameters should sit between [0.0,100.0]");
}

TEST_F(IntrospectionTest, InfoKeyspaceListsDatabasesWithKeys) {
  Cmd({"SET", "a", "1"});
  Cmd({"SET", "b", "1", "EX", "100"});
  EXPECT_EQ(Info("keyspace"), "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n");
}

TEST_F(IntrospectionTest, ObservabilityOptionsHaveRedisDefaultsAndRanges) {
  EXPECT_EQ(Cmd({"CONFIG", "GET", "slowlog-log-slower-than"}), "[slowlog-log-slower-than,10000]");
  EXPECT_EQ(Cmd({"CONFIG", "GET", "slowlog-max-len"}), "[slowlog-max-len,128]");
  EXPECT_EQ(Cmd({"CONFIG", "GET", "latency-monitor-threshold"}), "[latency-monitor-threshold,0]");
  EXPECT_EQ(Cmd({"CONFIG", "GET", "latency-tracking"}), "[latency-tracking,yes]");
  EXPECT_EQ(Cmd({"CONFIG", "SET", "slowlog-log-slower-than", "-2"}),
            "-ERR CONFIG SET failed (possibly related to argument 'slowlog-log-slower-than') - "
            "argument must be between -1 and 9223372036854775807 inclusive");
  EXPECT_EQ(Cmd({"CONFIG", "SET", "enable-debug-command", "yes"}),
            "-ERR CONFIG SET failed (possibly related to argument 'enable-debug-command') - "
            "can't set immutable config");
}

TEST_F(IntrospectionTest, ConfigSetOfAnOptionTheServerAppliesReturnsAtOnce) {
  // The config hook used to run under the config lock and deadlock on reading it back.
  EXPECT_EQ(Cmd({"CONFIG", "SET", "proto-max-bulk-len", "100mb"}), "+OK");
  EXPECT_EQ(Cmd({"CONFIG", "GET", "proto-max-bulk-len"}), "[proto-max-bulk-len,104857600]");
}

// ------------------------------------------------------------------ SLOWLOG

TEST_F(IntrospectionTest, SlowlogRecordsCommandsAtTheThreshold) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "slowlog-log-slower-than", "0"}), "+OK");
  ASSERT_EQ(Cmd({"SLOWLOG", "RESET"}), "+OK");
  ASSERT_EQ(Cmd({"CLIENT", "SETNAME", "probe"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  auto reply = client_->Raw({"SLOWLOG", "GET", "1"});
  ASSERT_NE(reply, nullptr);
  ASSERT_EQ(reply->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(reply->elements, 1u);
  const redisReply* e = reply->element[0];
  ASSERT_EQ(e->elements, 6u);
  EXPECT_EQ(e->element[0]->type, REDIS_REPLY_INTEGER);
  EXPECT_NEAR(static_cast<double>(e->element[1]->integer), static_cast<double>(time(nullptr)), 5);
  EXPECT_GE(e->element[2]->integer, 0);
  EXPECT_EQ(FormatReply(e->element[3]), "[SET,k,v]");
  EXPECT_TRUE(std::string(e->element[4]->str).starts_with("127.0.0.1:"));
  EXPECT_EQ(std::string(e->element[5]->str), "probe");
}

TEST_F(IntrospectionTest, SlowlogLenResetAndCount) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "slowlog-log-slower-than", "0"}), "+OK");
  ASSERT_EQ(Cmd({"SLOWLOG", "RESET"}), "+OK");
  Cmd({"SET", "a", "1"});
  Cmd({"SET", "b", "1"});
  // The SLOWLOG commands themselves are logged too, after they ran: RESET, SET, SET.
  EXPECT_EQ(Cmd({"SLOWLOG", "LEN"}), ":3");
  EXPECT_EQ(Cmd({"SLOWLOG", "GET", "0"}), "[]");
  auto all = client_->Raw({"SLOWLOG", "GET", "-1"});
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->elements, 5u);  // RESET, SET, SET, LEN, GET 0
  EXPECT_EQ(Cmd({"SLOWLOG", "GET", "-2"}), "-ERR count should be greater than or equal to -1");
  EXPECT_EQ(Cmd({"SLOWLOG", "GET", "abc"}), "-ERR count should be greater than or equal to -1");
  EXPECT_EQ(Cmd({"SLOWLOG", "GET", "1", "2"}),
            "-ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.");
}

TEST_F(IntrospectionTest, SlowlogCutsLongArgumentsAndRedactsPasswords) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "slowlog-log-slower-than", "0"}), "+OK");
  ASSERT_EQ(Cmd({"SLOWLOG", "RESET"}), "+OK");
  Cmd({"AUTH", "not-the-password"});
  Cmd({"SET", "k", std::string(200, 'b')});
  auto reply = client_->Raw({"SLOWLOG", "GET", "2"});
  ASSERT_NE(reply, nullptr);
  ASSERT_EQ(reply->elements, 2u);
  EXPECT_EQ(FormatReply(reply->element[0]->element[3]),
            "[SET,k," + std::string(128, 'b') + "... (72 more bytes)]");
  EXPECT_EQ(FormatReply(reply->element[1]->element[3]), "[AUTH,(redacted)]");
}

TEST_F(IntrospectionTest, SlowlogIsOffAtMinusOneAndTrimmedToMaxLen) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "slowlog-log-slower-than", "-1"}), "+OK");
  ASSERT_EQ(Cmd({"SLOWLOG", "RESET"}), "+OK");
  Cmd({"SET", "a", "1"});
  EXPECT_EQ(Cmd({"SLOWLOG", "LEN"}), ":0");
  ASSERT_EQ(Cmd({"CONFIG", "SET", "slowlog-log-slower-than", "0", "slowlog-max-len", "2"}), "+OK");
  for (int i = 0; i < 5; ++i) Cmd({"SET", "a", "1"});
  EXPECT_EQ(Cmd({"SLOWLOG", "LEN"}), ":2");
}

// ------------------------------------------------------------------ LATENCY

TEST_F(IntrospectionTest, LatencyMonitorRecordsSpikesAboveTheThreshold) {
  Cmd({"LATENCY", "RESET"});
  EXPECT_EQ(Cmd({"LATENCY", "LATEST"}), "[]");
  ASSERT_EQ(Cmd({"CONFIG", "SET", "latency-monitor-threshold", "20"}), "+OK");
  ASSERT_EQ(Cmd({"DEBUG", "SLEEP", "0.05"}), "+OK");
  auto latest = client_->Raw({"LATENCY", "LATEST"});
  ASSERT_NE(latest, nullptr);
  ASSERT_EQ(latest->elements, 1u);
  const redisReply* e = latest->element[0];
  ASSERT_EQ(e->elements, 4u);
  EXPECT_EQ(std::string(e->element[0]->str), "command");
  EXPECT_GE(e->element[2]->integer, 50);
  EXPECT_EQ(e->element[3]->integer, e->element[2]->integer);
  auto history = client_->Raw({"LATENCY", "HISTORY", "command"});
  ASSERT_NE(history, nullptr);
  ASSERT_EQ(history->elements, 1u);
  EXPECT_EQ(history->element[0]->element[1]->integer, e->element[2]->integer);
  EXPECT_EQ(Cmd({"LATENCY", "HISTORY", "nosuchevent"}), "[]");
  EXPECT_EQ(Cmd({"LATENCY", "RESET", "command", "nosuchevent"}), ":1");
  EXPECT_EQ(Cmd({"LATENCY", "GRAPH", "command"}), "-ERR No samples available for event 'command'");
}

TEST_F(IntrospectionTest, FastCommandsAreTheirOwnLatencyEvent) {
  KEEL_ONLY();  // needs an O(1) command slower than 1 ms, which DEBUG SLEEP is not
  ASSERT_EQ(Cmd({"CONFIG", "SET", "latency-monitor-threshold", "1"}), "+OK");
  server().observer().latency_monitor().AddSample("fast-command", 3, 100);
  EXPECT_EQ(Cmd({"LATENCY", "HISTORY", "fast-command"}), "[[:100,:3]]");
}

TEST_F(IntrospectionTest, LatencyHistogramIsACumulativeMapPerCommand) {
  ASSERT_EQ(Cmd({"CONFIG", "RESETSTAT"}), "+OK");
  Cmd({"SET", "a", "1"});
  Cmd({"SET", "a", "2"});
  auto reply = client_->Raw({"LATENCY", "HISTOGRAM", "set", "nosuchcommand"});
  ASSERT_NE(reply, nullptr);
  ASSERT_EQ(reply->elements, 2u);  // RESP2: the map as a flat array
  EXPECT_EQ(std::string(reply->element[0]->str), "set");
  const redisReply* m = reply->element[1];
  ASSERT_EQ(m->elements, 4u);
  EXPECT_EQ(FormatReply(m->element[0]), "calls");
  EXPECT_EQ(m->element[1]->integer, 2);
  EXPECT_EQ(FormatReply(m->element[2]), "histogram_usec");
  const redisReply* h = m->element[3];
  ASSERT_GE(h->elements, 2u);
  EXPECT_EQ(h->element[h->elements - 1]->integer, 2) << "the last bucket counts every call";
  EXPECT_EQ(Cmd({"LATENCY", "HISTOGRAM", "nosuchcommand"}), "[]");
}

TEST_F(IntrospectionTest, LatencyUnknownSubcommandPointsAtHelp) {
  EXPECT_EQ(Cmd({"LATENCY", "foo"}), "-ERR unknown subcommand 'foo'. Try LATENCY HELP.");
  auto help = client_->Raw({"LATENCY", "HELP"});
  ASSERT_NE(help, nullptr);
  EXPECT_GT(help->elements, 10u);
}

// ------------------------------------------------------------------ MONITOR

class MonitorTest : public IntrospectionTest {
 protected:
  // Starts MONITOR on a raw connection.
  std::unique_ptr<RawConnection> StartMonitor() {
    auto m = std::make_unique<RawConnection>(port());
    EXPECT_EQ(m->Roundtrip(EncodeCommand({"MONITOR"})), "+OK\r\n");
    return m;
  }
  // The next monitor line without its timestamp and address: "+<sec>.<usec> [0 <ip:port>]
  // ..." -> "[0 ADDR] ...".
  static std::string NextLine(RawConnection& m) {
    std::string line = m.ReadReply();
    if (!GlobMatch("+[0-9]*.[0-9][0-9][0-9][0-9][0-9][0-9] [[]* 127.0.0.1:*] *\r\n", line)) {
      return "unexpected: " + line;
    }
    size_t db = line.find(" [") + 2;
    size_t addr = line.find(' ', db);
    size_t rest = line.find("] ", addr) + 2;
    return "[" + line.substr(db, addr - db) + " ADDR] " + line.substr(rest, line.size() - rest - 2);
  }
};

TEST_F(MonitorTest, MonitorShowsCommandsAsRedisFormatsThem) {
  auto m = StartMonitor();
  Cmd({"SET", "k", std::string("va\"l\n\x01\\", 7)});
  Cmd({"SELECT", "3"});
  Cmd({"GET", "k"});
  EXPECT_EQ(NextLine(*m), "[0 ADDR] \"SET\" \"k\" \"va\\\"l\\n\\x01\\\\\"");
  EXPECT_EQ(NextLine(*m), "[3 ADDR] \"SELECT\" \"3\"");
  EXPECT_EQ(NextLine(*m), "[3 ADDR] \"GET\" \"k\"");
}

TEST_F(MonitorTest, MonitorHidesAdminCommandsRejectionsAndPasswords) {
  auto m = StartMonitor();
  Cmd({"CONFIG", "GET", "port"});
  Cmd({"NOSUCHCOMMAND"});
  Cmd({"GET"});
  Cmd({"AUTH", "secret"});
  Cmd({"HELLO", "2", "AUTH", "default", "secret"});
  Cmd({"PING"});
  EXPECT_EQ(NextLine(*m), "[0 ADDR] \"AUTH\" \"(redacted)\"");
  EXPECT_EQ(NextLine(*m), "[0 ADDR] \"HELLO\" \"2\" \"AUTH\" \"(redacted)\" \"(redacted)\"");
  EXPECT_EQ(NextLine(*m), "[0 ADDR] \"PING\"");
}

TEST_F(MonitorTest, AMonitorIsFlaggedInClientListAndLeavesWithReset) {
  auto m = StartMonitor();
  std::string list = Cmd({"CLIENT", "LIST"});
  EXPECT_NE(list.find(" flags=O "), std::string::npos) << list;
  EXPECT_NE(list.find(" cmd=monitor "), std::string::npos) << list;
  // MONITOR again: no reply at all; the next command's reply comes next.
  EXPECT_EQ(m->Roundtrip(EncodeCommand({"MONITOR"}) + EncodeCommand({"PING"})), "+PONG\r\n");
  EXPECT_EQ(NextLine(*m), "[0 ADDR] \"PING\"");
  EXPECT_EQ(m->Roundtrip(EncodeCommand({"RESET"})), "+RESET\r\n");
  Cmd({"SET", "a", "b"});
  EXPECT_EQ(m->Roundtrip(EncodeCommand({"PING"})), "+PONG\r\n") << "no more monitor lines";
  EXPECT_EQ(Cmd({"CLIENT", "LIST"}).find(" flags=O "), std::string::npos);
}

TEST_F(MonitorTest, EveryMonitorGetsEveryLine) {
  auto m1 = StartMonitor();
  auto m2 = StartMonitor();
  Cmd({"INCR", "n"});
  EXPECT_EQ(NextLine(*m1), "[0 ADDR] \"INCR\" \"n\"");
  EXPECT_EQ(NextLine(*m2), "[0 ADDR] \"INCR\" \"n\"");
}

TEST_F(MonitorTest, ClosedMonitorsAreForgotten) {
  KEEL_ONLY();
  {
    auto m = StartMonitor();
    EXPECT_EQ(server().observer().monitors().size(), 1u);
  }
  EXPECT_TRUE(WaitUntil([&] {
    Cmd({"PING"});  // a feed prunes monitors that are gone
    return server().observer().monitors().size() == 0;
  }));
}

// ------------------------------------------------------------------ MEMORY, DEBUG

TEST_F(IntrospectionTest, MemoryUsageEstimatesExistingKeysOnly) {
  Cmd({"SET", "small", "v"});
  Cmd({"SET", "big", std::string(10000, 'x')});
  EXPECT_EQ(Cmd({"MEMORY", "USAGE", "missing"}), "(nil)");
  std::string small = Cmd({"MEMORY", "USAGE", "small"});
  std::string big = Cmd({"MEMORY", "USAGE", "big", "SAMPLES", "0"});
  ASSERT_EQ(small[0], ':');
  ASSERT_EQ(big[0], ':');
  EXPECT_GT(std::stoll(big.substr(1)), 10000);
  EXPECT_LT(std::stoll(small.substr(1)), 1000);
  EXPECT_EQ(Cmd({"MEMORY", "USAGE", "small", "SAMPLES"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"MEMORY", "USAGE", "small", "SAMPLES", "-1"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"MEMORY", "USAGE", "small", "SAMPLES", "x"}),
            "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"MEMORY", "USAGE", "small", "FOO", "1"}), "-ERR syntax error");
}

TEST_F(IntrospectionTest, DebugObjectDescribesAValue) {
  Cmd({"SET", "s", "bar"});
  Cmd({"SET", "n", "12345"});
  std::string s = Cmd({"DEBUG", "OBJECT", "s"});
  EXPECT_TRUE(
      GlobMatch("+Value at:0x[0-9a-f]* refcount:1 encoding:embstr serializedlength:4 "
                "lru:[0-9]* lru_seconds_idle:[0-9]*",
                s))
      << s;
  std::string n = Cmd({"DEBUG", "OBJECT", "n"});
  EXPECT_TRUE(GlobMatch("+Value at:0x* refcount:1 encoding:int serializedlength:3 lru:*", n)) << n;
  EXPECT_EQ(Cmd({"DEBUG", "OBJECT", "missing"}), "-ERR no such key");
}

TEST_F(IntrospectionTest, DebugSleepAndUnknownSubcommands) {
  EXPECT_EQ(Cmd({"DEBUG", "SLEEP", "0"}), "+OK");
  EXPECT_EQ(Cmd({"DEBUG", "SLEEP", "abc"}), "+OK");
  EXPECT_EQ(Cmd({"DEBUG", "sleep"}),
            "-ERR unknown subcommand or wrong number of arguments for 'sleep'. Try DEBUG HELP.");
  EXPECT_EQ(Cmd({"DEBUG"}), "-ERR wrong number of arguments for 'debug' command");
}

class DebugDisabledTest : public ServerTest {
 protected:
  ConfigPairs ExtraConfig() const override { return {{"metrics-port", "0"}}; }
};

TEST_F(DebugDisabledTest, DebugIsRefusedUnlessEnabledLikeRedis70) {
  KEEL_ONLY();  // the shared Redis is started with DEBUG enabled
  EXPECT_EQ(Cmd({"DEBUG", "SLEEP", "0"}),
            "-ERR DEBUG command not allowed. If the enable-debug-command option is set to "
            "\"local\", you can run it from a local connection, otherwise you need to set this "
            "option in the configuration file, and then restart the server.");
}

}  // namespace
}  // namespace keel::server::test
