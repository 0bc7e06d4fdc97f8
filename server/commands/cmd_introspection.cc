// Introspection commands: SLOWLOG LATENCY MONITOR MEMORY DEBUG (SLEEP, OBJECT), with Redis
// 7.0's replies and errors. Their state lives in the CommandObserver
// (server/observability/observer.h).
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "datatypes/encoding.h"
#include "datatypes/rdb.h"
#include "datatypes/string.h"
#include "server/commands/cmd_util.h"
#include "server/commands/command_table.h"
#include "server/net/connection.h"
#include "server/observability/metrics.h"
#include "server/server.h"

namespace keel::server {
namespace {

void ReplyHelp(CommandContext& c, std::initializer_list<const char*> lines) {
  c.reply.Array(lines.size());
  for (const char* l : lines) c.reply.SimpleString(l);
}

uint64_t NowSec() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// ----------------------------------------------------------------- SLOWLOG

void SlowlogGet(CommandContext& c) {
  int64_t count = 10;
  if (c.argv.size() == 3) {
    auto v = ToInt64(c.argv[2]);
    if (!v || *v < -1) return c.ErrorText("ERR count should be greater than or equal to -1");
    count = *v;
  } else if (c.argv.size() > 3) {
    return c.ErrorText("ERR unknown subcommand or wrong number of arguments for '" +
                       std::string(c.argv[1]) + "'. Try SLOWLOG HELP.");
  }
  auto entries = c.server.observer().slowlog().Get(count);
  c.reply.Array(entries.size());
  for (const auto& e : entries) {
    c.reply.Array(6);
    c.reply.Integer(static_cast<int64_t>(e.id));
    c.reply.Integer(e.time);
    c.reply.Integer(static_cast<int64_t>(e.usec));
    c.reply.Array(e.argv.size());
    for (const auto& a : e.argv) c.reply.Bulk(a);
    c.reply.Bulk(e.addr);
    c.reply.Bulk(e.name);
  }
}

void SlowlogLen(CommandContext& c) {
  c.reply.Integer(static_cast<int64_t>(c.server.observer().slowlog().Len()));
}

void SlowlogReset(CommandContext& c) {
  c.server.observer().slowlog().Reset();
  c.reply.Ok();
}

void SlowlogHelp(CommandContext& c) {
  ReplyHelp(c, {"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "GET [<count>]",
                "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                "    Entries are made of:",
                "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                "    client name", "LEN", "    Return the length of the slowlog.", "RESET",
                "    Reset the slowlog.", "HELP", "    Prints this help."});
}

// ----------------------------------------------------------------- LATENCY

void LatencyLatest(CommandContext& c) {
  auto latest = c.server.observer().latency_monitor().LatestAll();
  c.reply.Array(latest.size());
  for (const auto& l : latest) {
    c.reply.Array(4);
    c.reply.Bulk(l.event);
    c.reply.Integer(static_cast<int64_t>(l.time));
    c.reply.Integer(static_cast<int64_t>(l.latest));
    c.reply.Integer(static_cast<int64_t>(l.max));
  }
}

void LatencyHistory(CommandContext& c) {
  auto history = c.server.observer().latency_monitor().History(c.argv[2]);
  c.reply.Array(history.size());
  for (const auto& [time, ms] : history) {
    c.reply.Array(2);
    c.reply.Integer(static_cast<int64_t>(time));
    c.reply.Integer(static_cast<int64_t>(ms));
  }
}

void LatencyReset(CommandContext& c) {
  c.reply.Integer(
      static_cast<int64_t>(c.server.observer().latency_monitor().Reset(c.argv.subspan(2))));
}

// A small column chart of an event's samples, newest on the right, like Redis's LATENCY
// GRAPH: a header with the range, then four rows of marks scaled between low and high.
void LatencyGraph(CommandContext& c) {
  auto history = c.server.observer().latency_monitor().History(c.argv[2]);
  if (history.empty()) {
    return c.ErrorText("ERR No samples available for event '" + std::string(c.argv[2]) + "'");
  }
  uint64_t high = 0, low = UINT64_MAX, all_time = 0;
  for (const auto& [t, ms] : history) {
    high = std::max(high, ms);
    low = std::min(low, ms);
  }
  for (const auto& l : c.server.observer().latency_monitor().LatestAll()) {
    if (l.event == c.argv[2]) all_time = l.max;
  }
  std::string text = std::string(c.argv[2]) + " - high " + std::to_string(high) + " ms, low " +
                     std::to_string(low) + " ms (all time high " + std::to_string(all_time) +
                     " ms)\n" + std::string(80, '-') + "\n";
  constexpr int kRows = 4;
  size_t first = history.size() > 80 ? history.size() - 80 : 0;
  for (int row = kRows; row >= 1; --row) {
    std::string line;
    for (size_t i = first; i < history.size(); ++i) {
      double frac = high == low ? 1.0
                                : static_cast<double>(history[i].second - low) /
                                      static_cast<double>(high - low);
      int height = std::max(1, static_cast<int>(std::ceil(frac * kRows)));
      line.push_back(height >= row ? (height == row ? '#' : '|') : ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    text += line + "\n";
  }
  uint64_t now = NowSec();
  std::string ages;
  for (size_t i = first; i < history.size(); ++i) {
    uint64_t age = now > history[i].first ? now - history[i].first : 0;
    ages.push_back(age < 60 ? 's' : age < 3600 ? 'm' : age < 86400 ? 'h' : 'd');
  }
  text += ages +
          "\n\nThe marks on the last line are the samples' ages: s(econds) m(inutes) "
          "h(ours) d(ays).\n";
  c.reply.Verbatim(text);
}

void LatencyDoctor(CommandContext& c) {
  auto& lm = c.server.observer().latency_monitor();
  auto latest = lm.LatestAll();
  uint64_t threshold = c.server.observer().latency_threshold_ms();
  std::string text;
  if (threshold == 0) {
    text +=
        "The latency monitor is off (latency-monitor-threshold 0). Enable it with CONFIG SET "
        "latency-monitor-threshold <milliseconds>, e.g. 100, to record latency spikes.\n";
  }
  if (latest.empty()) {
    text +=
        "No latency spike was recorded since the server started (or the last LATENCY "
        "RESET).\n";
    return c.reply.Verbatim(text);
  }
  text += "Latency spikes recorded (latency-monitor-threshold " + std::to_string(threshold) +
          " ms):\n\n";
  int n = 0;
  for (const auto& l : latest) {
    auto history = lm.History(l.event);
    uint64_t sum = 0;
    for (const auto& [t, ms] : history) sum += ms;
    text += std::to_string(++n) + ". " + l.event + ": " + std::to_string(history.size()) +
            " latency spikes (average " +
            std::to_string(history.empty() ? 0 : sum / history.size()) + "ms), worst " +
            std::to_string(l.max) + "ms, latest " + std::to_string(l.latest) + "ms.\n";
  }
  text += "\nAdvice:\n";
  for (const auto& l : latest) {
    if (l.event == "command") {
      text +=
          "- Slow commands: look at SLOWLOG GET and avoid O(N) commands on big keys "
          "(KEYS, SMEMBERS, HGETALL, LRANGE 0 -1...). Use SCAN and friends instead.\n";
    } else if (l.event == "fast-command") {
      text +=
          "- O(1) commands were slow: the host may be overloaded or swapping, or RocksDB "
          "may be stalling writes (see INFO persistence and keel_rocksdb_write_stalls_total).\n";
    }
  }
  c.reply.Verbatim(text);
}

void ReplyCommandCdf(CommandContext& c, const CommandHistograms::Snapshot& snap) {
  c.reply.Map(2);
  c.reply.Bulk("calls");
  c.reply.Integer(static_cast<int64_t>(snap.count));
  c.reply.Bulk("histogram_usec");
  auto cdf = CommandHistograms::Cdf(snap);
  c.reply.Map(cdf.size());
  for (const auto& [label, n] : cdf) {
    c.reply.Integer(static_cast<int64_t>(label));
    c.reply.Integer(static_cast<int64_t>(n));
  }
}

void LatencyHistogram(CommandContext& c) {
  auto& hist = c.server.observer().histograms();
  std::vector<std::pair<const CommandSpec*, CommandHistograms::Snapshot>> found;
  auto add = [&](const CommandSpec* s) {
    CommandHistograms::Snapshot snap;
    if (hist.Read(s->id, &snap)) found.emplace_back(s, std::move(snap));
  };
  if (c.argv.size() == 2) {
    for (const CommandSpec* s : c.server.commands().all()) add(s);
  } else {
    for (size_t i = 2; i < c.argv.size(); ++i) {
      std::string_view name = c.argv[i];
      size_t bar = name.find('|');
      const CommandSpec* s = c.server.commands().Find(name.substr(0, bar));
      if (s != nullptr && bar != std::string_view::npos) {
        s = CommandTable::FindSub(*s, name.substr(bar + 1));
      }
      if (s == nullptr) continue;
      add(s);
      if (bar == std::string_view::npos) {
        for (const auto& sub : s->subcommands) add(&sub);
      }
    }
  }
  c.reply.Map(found.size());
  for (const auto& [s, snap] : found) {
    c.reply.Bulk(s->name);
    ReplyCommandCdf(c, snap);
  }
}

void LatencyHelp(CommandContext& c) {
  ReplyHelp(c, {"LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "DOCTOR",
                "    Return a human readable latency analysis report.", "GRAPH <event>",
                "    Return an ASCII latency graph for the <event> class.", "HISTORY <event>",
                "    Return time-latency samples for the <event> class.", "LATEST",
                "    Return the latest latency samples for all events.", "RESET [<event> ...]",
                "    Reset latency data of one or more <event> classes.",
                "    (default: reset all data for all event classes)", "HISTOGRAM [COMMAND ...]",
                "    Return a cumulative distribution of latencies in the format of a "
                "histogram for the specified command names.",
                "    If no commands are specified then all histograms are replied.", "HELP",
                "    Prints this help."});
}

// ----------------------------------------------------------------- MONITOR

void Monitor(CommandContext& c) {
  if (c.client.in_exec || c.client.connection == nullptr) {
    return c.ErrorText("ERR MONITOR isn't allowed for DENY BLOCKING client");
  }
  // A client already monitoring gets no reply at all, as in Redis.
  if (!c.server.observer().monitors().Add(c.client.id, c.client.connection->shared_from_this())) {
    return;
  }
  c.reply.Ok();
}

// ----------------------------------------------------------------- MEMORY

// What a record costs RocksDB beyond its key and value bytes (internal key trailer, length
// prefixes, index share), for estimates.
constexpr uint64_t kRecordOverhead = 16;

// Keel's estimate of the bytes `key` occupies in storage: its metadata record, its expiry
// index entry, and its elements (sampled and extrapolated, like Redis's MEMORY USAGE).
uint64_t KeyFootprint(CommandContext& c, std::string_view key, const KeyRecord& rec,
                      int64_t samples) {
  uint64_t bytes = kMetaKeyPrefixSize + key.size() + rec.raw.size() + kRecordOverhead;
  if (rec.meta.expire_at_ms != 0) bytes += 8 + kMetaKeyPrefixSize + key.size() + kRecordOverhead;
  if (!rec.meta.is_compound() || rec.meta.size == 0) return bytes;
  std::string prefix = SubKeyPrefix(c.txn->db(), key, rec.meta.version);
  auto it = c.txn->NewSubIterator();
  uint64_t seen = 0, seen_bytes = 0;
  for (it->Seek(prefix);
       it->Valid() && it->key().starts_with(prefix) && static_cast<int64_t>(seen) < samples;
       it->Next()) {
    seen_bytes += it->key().size() + it->value().size() + kRecordOverhead;
    ++seen;
  }
  if (seen == 0) return bytes;
  return bytes + static_cast<uint64_t>(static_cast<double>(seen_bytes) / static_cast<double>(seen) *
                                       static_cast<double>(rec.meta.size));
}

void MemoryUsage(CommandContext& c) {
  int64_t samples = 5;
  for (size_t j = 3; j < c.argv.size(); ++j) {
    if (EqualsIgnoreCase(c.argv[j], "SAMPLES") && j + 1 < c.argv.size()) {
      auto v = ToInt64(c.argv[j + 1]);
      if (!v) return c.Error(Code::kNotInteger);
      if (*v < 0) return c.Error(Code::kSyntax);
      samples = *v == 0 ? INT64_MAX : *v;
      ++j;
    } else {
      return c.Error(Code::kSyntax);
    }
  }
  c.txn->set_touch(false);
  KeyRecord rec;
  Status st = c.txn->Load(c.argv[2], &rec);
  if (!st.ok()) return c.Error(st);
  if (!rec.exists) return c.reply.NullBulk();
  c.reply.Integer(static_cast<int64_t>(KeyFootprint(c, c.argv[2], rec, samples)));
}

void MemoryStats(CommandContext& c) {
  Server& s = c.server;
  Storage& st = s.storage();
  uint64_t rss = ProcessRssBytes();
  uint64_t peak = std::max(rss, s.metrics().peak_rss_bytes());
  int64_t keys = 0;
  for (int db = 0; db < st.databases(); ++db) keys += std::max<int64_t>(st.KeyCount(db), 0);
  uint64_t cache = DbIntProperty(st, "rocksdb.block-cache-usage");
  uint64_t memtables = st.IntProperty("rocksdb.cur-size-all-mem-tables");
  uint64_t readers = st.IntProperty("rocksdb.estimate-table-readers-mem");
  uint64_t sst = st.IntProperty("rocksdb.live-sst-files-size");
  c.reply.Map(11);
  c.reply.Bulk("peak.allocated");
  c.reply.Integer(static_cast<int64_t>(peak));
  c.reply.Bulk("total.allocated");
  c.reply.Integer(static_cast<int64_t>(rss));
  c.reply.Bulk("clients.normal");
  c.reply.Integer(static_cast<int64_t>(s.client_count() * Connection::kReadChunk));
  c.reply.Bulk("keys.count");
  c.reply.Integer(keys);
  c.reply.Bulk("rocksdb.block-cache");
  c.reply.Integer(static_cast<int64_t>(cache));
  c.reply.Bulk("rocksdb.memtables");
  c.reply.Integer(static_cast<int64_t>(memtables));
  c.reply.Bulk("rocksdb.table-readers");
  c.reply.Integer(static_cast<int64_t>(readers));
  c.reply.Bulk("dataset.bytes");
  c.reply.Integer(static_cast<int64_t>(sst + memtables));
  c.reply.Bulk("keys.bytes-per-key");
  c.reply.Integer(keys > 0 ? static_cast<int64_t>((sst + memtables) / static_cast<uint64_t>(keys))
                           : 0);
  c.reply.Bulk("peak.percentage");
  c.reply.Double(peak > 0 ? 100.0 * static_cast<double>(rss) / static_cast<double>(peak) : 100.0);
  c.reply.Bulk("storage.on-disk");
  c.reply.Integer(static_cast<int64_t>(st.IntProperty("rocksdb.total-sst-files-size")));
}

void MemoryDoctor(CommandContext& c) {
  Storage& st = c.storage();
  uint64_t rss = ProcessRssBytes();
  uint64_t cache = DbIntProperty(st, "rocksdb.block-cache-usage");
  uint64_t capacity = DbIntProperty(st, "rocksdb.block-cache-capacity");
  uint64_t memtables = st.IntProperty("rocksdb.cur-size-all-mem-tables");
  std::string text =
      "Keel keeps its data in RocksDB; memory is mostly the block cache and the "
      "memtables.\n\n";
  text += "* RSS: " + std::to_string(rss) + " bytes\n";
  text += "* Block cache: " + std::to_string(cache) + " of " + std::to_string(capacity) +
          " bytes (rocksdb-block-cache-size)\n";
  text += "* Memtables: " + std::to_string(memtables) + " bytes (rocksdb-write-buffer-size)\n";
  if (capacity > 0 && cache * 10 >= capacity * 9) {
    text +=
        "\nThe block cache is full: if keel_rocksdb_block_cache_misses_total grows fast, "
        "a larger rocksdb-block-cache-size may help reads.\n";
  } else {
    text += "\nNo memory problem detected.\n";
  }
  c.reply.Verbatim(text);
}

void MemoryMallocStats(CommandContext& c) {
  c.reply.Verbatim("Stats not supported for the current allocator");
}

void MemoryPurge(CommandContext& c) { c.reply.Ok(); }

void MemoryHelp(CommandContext& c) {
  ReplyHelp(c, {"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "DOCTOR",
                "    Return memory problems reports.", "MALLOC-STATS",
                "    Return internal statistics report from the memory allocator.", "PURGE",
                "    Attempt to purge dirty pages for reclamation by the allocator.", "STATS",
                "    Return information about the memory usage of the server.",
                "USAGE <key> [SAMPLES <count>]",
                "    Return memory in bytes used by <key> and its value. Nested values are",
                "    sampled up to <count> times (default: 5, 0 means sample all).", "HELP",
                "    Prints this help."});
}

// ----------------------------------------------------------------- DEBUG

bool IsLocal(std::string_view addr) {
  return addr.starts_with("127.") || addr.starts_with("::1") || addr.starts_with("[::1]");
}

void DebugObject(CommandContext& c) {
  c.txn->set_touch(false);
  KeyRecord rec;
  Status st = c.txn->Load(c.argv[2], &rec);
  if (!st.ok()) return c.Error(st);
  if (!rec.exists) return c.ErrorText("ERR no such key");
  std::string_view encoding;
  uint64_t serialized = 0;
  if (rec.meta.type == ValueType::kString) {
    encoding = strings::EncodingOf(rec.body(), rec.meta.encoding);
    // The RDB object Redis would write: the DUMP payload minus its type byte and footer.
    serialized = EncodeStringDump(rec.body()).size() - 1 - 10;
  } else {
    std::string_view tail = rec.body();
    auto variant =
        !tail.empty() && tail[0] == 1 ? CompoundEncoding::kLarge : CompoundEncoding::kCompact;
    encoding = EncodingName(rec.meta.type, variant);
    serialized = KeyFootprint(c, c.argv[2], rec, 5);
  }
  uint64_t idle = c.storage().IdleSeconds(c.txn->db(), c.argv[2]);
  uint64_t lru = (NowSec() - idle) & ((1u << 24) - 1);  // Redis's 24-bit LRU clock, seconds
  c.reply.SimpleString("Value at:0x0 refcount:1 encoding:" + std::string(encoding) +
                       " serializedlength:" + std::to_string(serialized) +
                       " lru:" + std::to_string(lru) + " lru_seconds_idle:" + std::to_string(idle));
}

void Debug(CommandContext& c) {
  std::string mode = c.server.config().GetString("enable-debug-command");
  if (mode == "no" || (mode == "local" && !IsLocal(c.client.addr))) {
    return c.ErrorText(
        "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", "
        "you can run it from a local connection, otherwise you need to set this option in the "
        "configuration file, and then restart the server.");
  }
  std::string_view sub = c.argv[1];
  if (EqualsIgnoreCase(sub, "HELP") && c.argv.size() == 2) {
    return ReplyHelp(
        c, {"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "OBJECT <key>",
            "    Show low level info about `key` and associated value.", "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed. (Keel: stops the client's io",
            "    thread; clients on other io threads are still served.)", "HELP",
            "    Prints this help."});
  }
  if (EqualsIgnoreCase(sub, "SLEEP") && c.argv.size() == 3) {
    double secs = std::strtod(std::string(c.argv[2]).c_str(), nullptr);
    if (secs > 0 && std::isfinite(secs)) {
      std::this_thread::sleep_for(std::chrono::duration<double>(secs));
    }
    return c.reply.Ok();
  }
  if (EqualsIgnoreCase(sub, "OBJECT") && c.argv.size() == 3) return DebugObject(c);
  c.ErrorText("ERR unknown subcommand or wrong number of arguments for '" + std::string(sub) +
              "'. Try DEBUG HELP.");
}

constexpr uint32_t kLocal = kCmdNoStorage | kCmdLoading | kCmdStale;
constexpr uint32_t kAdminLocal = kLocal | kCmdAdmin;

}  // namespace

void RegisterIntrospectionCommands(std::vector<CommandSpec>* out) {
  const std::string_view admin_acl = "@admin @slow @dangerous";
  out->push_back({.name = "slowlog",
                  .arity = -2,
                  .flags = kCmdNoStorage,
                  .group = "server",
                  .summary = "A container for slow log commands",
                  .since = "2.2.12",
                  .complexity = "Depends on subcommand.",
                  .acl = "@slow",
                  .subcommands = {
                      {.name = "slowlog|get",
                       .arity = -2,
                       .flags = kAdminLocal,
                       .handler = SlowlogGet,
                       .group = "server",
                       .summary = "Get the slow log's entries",
                       .since = "2.2.12",
                       .complexity = "O(N) where N is the number of entries returned",
                       .acl = admin_acl},
                      {.name = "slowlog|len",
                       .arity = 2,
                       .flags = kAdminLocal,
                       .handler = SlowlogLen,
                       .group = "server",
                       .summary = "Get the slow log's length",
                       .since = "2.2.12",
                       .complexity = "O(1)",
                       .acl = admin_acl},
                      {.name = "slowlog|reset",
                       .arity = 2,
                       .flags = kAdminLocal,
                       .handler = SlowlogReset,
                       .group = "server",
                       .summary = "Clear all entries from the slow log",
                       .since = "2.2.12",
                       .complexity = "O(N) where N is the number of entries in the slowlog",
                       .acl = admin_acl},
                      {.name = "slowlog|help",
                       .arity = 2,
                       .flags = kLocal,
                       .handler = SlowlogHelp,
                       .group = "server",
                       .summary = "Show helpful text about the different subcommands",
                       .since = "6.2.0",
                       .complexity = "O(1)",
                       .acl = "@slow"},
                  }});
  const uint32_t latency_flags = kAdminLocal | kCmdNoScript;
  out->push_back(
      {.name = "latency",
       .arity = -2,
       .flags = kCmdNoStorage,
       .group = "server",
       .summary = "A container for latency diagnostics commands",
       .since = "2.8.13",
       .complexity = "Depends on subcommand.",
       .acl = "@slow",
       .subcommands = {
           {.name = "latency|doctor",
            .arity = 2,
            .flags = latency_flags,
            .handler = LatencyDoctor,
            .group = "server",
            .summary = "Return a human readable latency analysis report.",
            .since = "2.8.13",
            .complexity = "O(1)",
            .acl = admin_acl},
           {.name = "latency|graph",
            .arity = 3,
            .flags = latency_flags,
            .handler = LatencyGraph,
            .group = "server",
            .summary = "Return a latency graph for the event.",
            .since = "2.8.13",
            .complexity = "O(1)",
            .acl = admin_acl},
           {.name = "latency|history",
            .arity = 3,
            .flags = latency_flags,
            .handler = LatencyHistory,
            .group = "server",
            .summary = "Return timestamp-latency samples for the event.",
            .since = "2.8.13",
            .complexity = "O(1)",
            .acl = admin_acl},
           {.name = "latency|latest",
            .arity = 2,
            .flags = latency_flags,
            .handler = LatencyLatest,
            .group = "server",
            .summary = "Return the latest latency samples for all events.",
            .since = "2.8.13",
            .complexity = "O(1)",
            .acl = admin_acl},
           {.name = "latency|reset",
            .arity = -2,
            .flags = latency_flags,
            .handler = LatencyReset,
            .group = "server",
            .summary = "Reset latency data for one or more events.",
            .since = "2.8.13",
            .complexity = "O(1)",
            .acl = admin_acl},
           {.name = "latency|histogram",
            .arity = -2,
            .flags = latency_flags,
            .handler = LatencyHistogram,
            .group = "server",
            .summary =
                "Return the cumulative distribution of latencies of a subset of commands or all.",
            .since = "7.0.0",
            .complexity = "O(N) where N is the number of commands with latency information being "
                          "retrieved.",
            .acl = admin_acl},
           {.name = "latency|help",
            .arity = 2,
            .flags = kLocal,
            .handler = LatencyHelp,
            .group = "server",
            .summary = "Show helpful text about the different subcommands.",
            .since = "2.8.13",
            .complexity = "O(1)",
            .acl = "@slow"},
       }});
  out->push_back({.name = "monitor",
                  .arity = 1,
                  .flags = kAdminLocal | kCmdNoScript,
                  .handler = Monitor,
                  .group = "server",
                  .summary = "Listen for all requests received by the server in real time",
                  .since = "1.0.0",
                  .complexity = "",
                  .acl = admin_acl});
  out->push_back({.name = "memory",
                  .arity = -2,
                  .flags = kCmdNoStorage,
                  .group = "server",
                  .summary = "A container for memory diagnostics commands",
                  .since = "4.0.0",
                  .complexity = "Depends on subcommand.",
                  .acl = "@slow",
                  .subcommands = {
                      {.name = "memory|doctor",
                       .arity = 2,
                       .flags = kCmdNoStorage,
                       .handler = MemoryDoctor,
                       .group = "server",
                       .summary = "Outputs memory problems report",
                       .since = "4.0.0",
                       .complexity = "O(1)",
                       .acl = "@slow"},
                      {.name = "memory|malloc-stats",
                       .arity = 2,
                       .flags = kCmdNoStorage,
                       .handler = MemoryMallocStats,
                       .group = "server",
                       .summary = "Show allocator internal stats",
                       .since = "4.0.0",
                       .complexity = "Depends on how much memory is allocated, could be slow",
                       .acl = "@slow"},
                      {.name = "memory|purge",
                       .arity = 2,
                       .flags = kCmdNoStorage,
                       .handler = MemoryPurge,
                       .group = "server",
                       .summary = "Ask the allocator to release memory",
                       .since = "4.0.0",
                       .complexity = "Depends on how much memory is allocated, could be slow",
                       .acl = "@slow"},
                      {.name = "memory|stats",
                       .arity = 2,
                       .flags = kCmdNoStorage,
                       .handler = MemoryStats,
                       .group = "server",
                       .summary = "Show memory usage details",
                       .since = "4.0.0",
                       .complexity = "O(1)",
                       .acl = "@slow"},
                      {.name = "memory|usage",
                       .arity = -3,
                       .flags = kCmdReadOnly,
                       .first_key = 2,
                       .last_key = 2,
                       .step = 1,
                       .handler = MemoryUsage,
                       .group = "server",
                       .summary = "Estimate the memory usage of a key",
                       .since = "4.0.0",
                       .complexity = "O(N) where N is the number of samples.",
                       .acl = "@read @slow"},
                      {.name = "memory|help",
                       .arity = 2,
                       .flags = kLocal,
                       .handler = MemoryHelp,
                       .group = "server",
                       .summary = "Show helpful text about the different subcommands",
                       .since = "4.0.0",
                       .complexity = "O(1)",
                       .acl = "@slow"},
                  }});
  out->push_back({.name = "debug",
                  .arity = -2,
                  .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
                  .handler = Debug,
                  .group = "server",
                  .summary = "A container for debugging commands",
                  .since = "1.0.0",
                  .complexity = "Depends on subcommand.",
                  .acl = admin_acl});
}

}  // namespace keel::server
