// The observability plumbing: latency histograms, the latency monitor, the slow log, MONITOR
// line formatting, error statistics, log lines, and the Prometheus registry wiring (what a
// scrape of a live server contains and how the /metrics endpoint binds).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "datatypes/glob.h"
#include "server/observability/log.h"
#include "server/observability/metrics.h"
#include "server/observability/observer.h"
#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

// A port nobody listens on right now (the OS's pick for a socket closed at once).
uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// GET `path` over plain HTTP/1.0; the whole response (headers and body).
std::string HttpGet(uint16_t port, const std::string& path) {
  RawConnection raw(port);
  if (!raw.connected()) return "";
  raw.Send("GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  std::string data;
  raw.WaitForClose(10s, &data);
  return data;
}

// The value of the sample line `series` (e.g. `keel_commands_total{cmd="set"}`) in a scrape,
// or -1 if absent.
double SampleValue(const std::string& scrape, const std::string& series) {
  std::istringstream in(scrape);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, series.size(), series) == 0 && line.size() > series.size() &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

// ------------------------------------------------------------------ CommandHistograms

TEST(CommandHistogramsTest, FineBucketsAreContiguousAndCoverEveryValue) {
  for (size_t i = 0; i + 1 < CommandHistograms::kFineBuckets; ++i) {
    EXPECT_EQ(CommandHistograms::FineUpper(i), CommandHistograms::FineLower(i + 1)) << i;
    EXPECT_LT(CommandHistograms::FineLower(i), CommandHistograms::FineUpper(i)) << i;
  }
  for (uint64_t v :
       {0ull, 1ull, 31ull, 32ull, 33ull, 47ull, 48ull, 1000ull, 123456ull, (1ull << 39) + 5}) {
    size_t i = CommandHistograms::FineIndex(v);
    EXPECT_LE(CommandHistograms::FineLower(i), v) << v;
    EXPECT_GT(CommandHistograms::FineUpper(i), v) << v;
  }
  EXPECT_EQ(CommandHistograms::FineIndex(UINT64_MAX), CommandHistograms::kFineBuckets - 1);
}

TEST(CommandHistogramsTest, FineBucketsAreExactBelow32MicrosecondsAndWithin7PercentAbove) {
  for (uint64_t v = 0; v < 32; ++v) {
    size_t i = CommandHistograms::FineIndex(v);
    EXPECT_EQ(CommandHistograms::FineUpper(i) - CommandHistograms::FineLower(i), 1u);
  }
  for (uint64_t v = 32; v < 100000; v = v * 3 / 2) {
    size_t i = CommandHistograms::FineIndex(v);
    double width =
        static_cast<double>(CommandHistograms::FineUpper(i) - CommandHistograms::FineLower(i));
    EXPECT_LE(width / static_cast<double>(CommandHistograms::FineLower(i)), 1.0 / 16 + 1e-9);
  }
}

TEST(CommandHistogramsTest, PrometheusBucketsCountValuesAtOrBelowTheirBound) {
  EXPECT_EQ(CommandHistograms::PromIndex(0), 0u);
  EXPECT_EQ(CommandHistograms::PromIndex(5), 0u);  // le="5e-06" includes 5 us
  EXPECT_EQ(CommandHistograms::PromIndex(6), 1u);
  EXPECT_EQ(CommandHistograms::PromIndex(10000000), CommandHistograms::kPromBoundsUsec.size() - 1);
  EXPECT_EQ(CommandHistograms::PromIndex(10000001), CommandHistograms::kPromBuckets - 1);
}

TEST(CommandHistogramsTest, ReadSumsTheSamplesOfEveryThread) {
  CommandHistograms h(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h] {
      for (uint64_t i = 1; i <= 1000; ++i) h.Record(2, i);
    });
  }
  for (auto& t : threads) t.join();
  CommandHistograms::Snapshot s;
  ASSERT_TRUE(h.Read(2, &s));
  EXPECT_EQ(s.count, 4000u);
  EXPECT_EQ(s.sum_usec, 4u * 500500u);
  uint64_t prom = 0;
  for (uint64_t n : s.prom) prom += n;
  EXPECT_EQ(prom, 4000u);
  EXPECT_FALSE(h.Read(1, &s)) << "a command never recorded has no histogram";
  EXPECT_FALSE(h.Read(99, &s)) << "ids past the table are ignored";
}

TEST(CommandHistogramsTest, PercentilesAreWithinTheBucketPrecision) {
  CommandHistograms h(1);
  for (uint64_t i = 1; i <= 10000; ++i) h.Record(0, i);
  CommandHistograms::Snapshot s;
  ASSERT_TRUE(h.Read(0, &s));
  EXPECT_NEAR(CommandHistograms::Percentile(s, 50), 5000, 5000 * 0.07);
  EXPECT_NEAR(CommandHistograms::Percentile(s, 99), 9900, 9900 * 0.07);
  EXPECT_NEAR(CommandHistograms::Percentile(s, 100), 10000, 10000 * 0.07);
  EXPECT_EQ(CommandHistograms::Percentile(s, 0), 1) << "the smallest sample is exact";
}

TEST(CommandHistogramsTest, CdfUsesRedisPowerOfTwoLabelsAndOnlyGrowingCounts) {
  CommandHistograms h(1);
  for (uint64_t v : {0, 1, 1, 2, 3, 9, 9, 9, 9}) h.Record(0, v);
  CommandHistograms::Snapshot s;
  ASSERT_TRUE(h.Read(0, &s));
  std::vector<std::pair<uint64_t, uint64_t>> want = {{1, 3}, {2, 4}, {4, 5}, {16, 9}};
  EXPECT_EQ(CommandHistograms::Cdf(s), want);
}

TEST(CommandHistogramsTest, ResetForgetsEverySample) {
  CommandHistograms h(2);
  h.Record(1, 10);
  h.Reset();
  CommandHistograms::Snapshot s;
  EXPECT_FALSE(h.Read(1, &s));
  h.Record(1, 20);
  ASSERT_TRUE(h.Read(1, &s));
  EXPECT_EQ(s.count, 1u);
  EXPECT_EQ(s.sum_usec, 20u);
}

// ------------------------------------------------------------------ LatencyMonitor

TEST(LatencyMonitorTest, SamplesOfTheSameSecondKeepTheMaximum) {
  LatencyMonitor m;
  m.AddSample("command", 120, 1000);
  m.AddSample("command", 300, 1000);
  m.AddSample("command", 150, 1000);
  m.AddSample("command", 110, 1001);
  std::vector<std::pair<uint64_t, uint64_t>> want = {{1000, 300}, {1001, 110}};
  EXPECT_EQ(m.History("command"), want);
  auto latest = m.LatestAll();
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0].event, "command");
  EXPECT_EQ(latest[0].time, 1001u);
  EXPECT_EQ(latest[0].latest, 110u);
  EXPECT_EQ(latest[0].max, 300u);
}

TEST(LatencyMonitorTest, HistoryKeepsTheLast160Seconds) {
  LatencyMonitor m;
  for (uint64_t t = 1; t <= 200; ++t) m.AddSample("e", t, t);
  auto h = m.History("e");
  ASSERT_EQ(h.size(), LatencyMonitor::kHistoryLen);
  EXPECT_EQ(h.front().first, 41u);
  EXPECT_EQ(h.back().first, 200u);
  EXPECT_EQ(m.LatestAll()[0].max, 200u);
}

TEST(LatencyMonitorTest, ResetCountsTheEventsItForgot) {
  LatencyMonitor m;
  m.AddSample("a", 1, 1);
  m.AddSample("b", 1, 1);
  std::vector<std::string_view> some = {"a", "nope"};
  EXPECT_EQ(m.Reset(some), 1u);
  EXPECT_TRUE(m.History("a").empty());
  EXPECT_EQ(m.Reset({}), 1u);
  EXPECT_TRUE(m.empty());
}

// ------------------------------------------------------------------ SlowLog

TEST(SlowLogTest, EntriesAreNewestFirstWithGrowingIds) {
  SlowLog log;
  std::vector<std::string_view> a = {"get", "k"}, b = {"set", "k", "v"};
  log.Push(a, {}, 20000, 100, "127.0.0.1:1", "n1");
  log.Push(b, {}, 30000, 101, "127.0.0.1:2", "");
  auto e = log.Get(-1);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].id, 1u);
  EXPECT_EQ(e[0].argv, std::vector<std::string>({"set", "k", "v"}));
  EXPECT_EQ(e[1].id, 0u);
  EXPECT_EQ(e[1].name, "n1");
  EXPECT_EQ(log.Get(1).size(), 1u);
}

TEST(SlowLogTest, LongArgumentsAndArgumentListsAreCutLikeRedis) {
  SlowLog log;
  std::string big(200, 'x');
  std::vector<std::string> owned = {"rpush", big};
  for (int i = 0; i < 40; ++i) owned.push_back(std::to_string(i));
  std::vector<std::string_view> argv(owned.begin(), owned.end());
  log.Push(argv, {}, 1, 1, "", "");
  auto e = log.Get(1).at(0);
  ASSERT_EQ(e.argv.size(), SlowLog::kMaxArgc);
  EXPECT_EQ(e.argv[1], std::string(128, 'x') + "... (72 more bytes)");
  EXPECT_EQ(e.argv.back(), "... (11 more arguments)");
}

TEST(SlowLogTest, RedactedArgumentsAreHidden) {
  SlowLog log;
  std::vector<std::string_view> argv = {"auth", "user", "secret"};
  std::vector<uint8_t> redacted = {0, 1, 1};
  log.Push(argv, redacted, 1, 1, "", "");
  EXPECT_EQ(log.Get(1).at(0).argv, std::vector<std::string>({"auth", "(redacted)", "(redacted)"}));
}

TEST(SlowLogTest, ThresholdAndMaxLenGovernWhatIsKept) {
  SlowLog log;
  log.set_threshold_usec(100);
  EXPECT_FALSE(log.ShouldLog(99));
  EXPECT_TRUE(log.ShouldLog(100));
  log.set_threshold_usec(-1);
  EXPECT_FALSE(log.ShouldLog(1u << 30));
  log.set_threshold_usec(0);
  log.set_max_len(2);
  std::vector<std::string_view> argv = {"ping"};
  for (int i = 0; i < 5; ++i) log.Push(argv, {}, 1, 1, "", "");
  EXPECT_EQ(log.Len(), 2u);
  EXPECT_EQ(log.Get(-1).at(0).id, 4u);
  log.set_max_len(0);
  EXPECT_EQ(log.Len(), 0u);
  EXPECT_FALSE(log.ShouldLog(5));
}

// ------------------------------------------------------------------ MONITOR lines

TEST(MonitorFeedTest, LinesAreFormattedAndEscapedLikeRedis) {
  std::vector<std::string_view> argv = {"SET", "k", std::string_view("va\"l\n\x01\\\x7f", 8)};
  EXPECT_EQ(
      MonitorFeed::FormatLine(1339518083107412, 3, "127.0.0.1:60866", argv, {}),
      "+1339518083.107412 [3 127.0.0.1:60866] \"SET\" \"k\" \"va\\\"l\\n\\x01\\\\\\x7f\"\r\n");
  std::vector<uint8_t> redacted = {0, 1};
  std::vector<std::string_view> auth = {"AUTH", "pw"};
  EXPECT_EQ(MonitorFeed::FormatLine(5, 0, "a:1", auth, redacted),
            "+0.000005 [0 a:1] \"AUTH\" \"(redacted)\"\r\n");
}

TEST(MonitorFeedTest, RedactionsHideCredentialsOnly) {
  CommandSpec auth{.name = "auth"}, hello{.name = "hello"}, cfg{.name = "config|set"},
      get{.name = "get"};
  std::vector<std::string_view> a = {"AUTH", "u", "p"};
  EXPECT_EQ(CommandObserver::Redactions(auth, a), std::vector<uint8_t>({0, 1, 1}));
  std::vector<std::string_view> h = {"HELLO", "3", "SETNAME", "n", "AUTH", "u", "p"};
  EXPECT_EQ(CommandObserver::Redactions(hello, h), std::vector<uint8_t>({0, 0, 0, 0, 0, 1, 1}));
  std::vector<std::string_view> c = {"CONFIG", "SET", "maxclients", "10", "requirepass", "x"};
  EXPECT_EQ(CommandObserver::Redactions(cfg, c), std::vector<uint8_t>({0, 0, 0, 0, 0, 1}));
  std::vector<std::string_view> g = {"GET", "k"};
  EXPECT_TRUE(CommandObserver::Redactions(get, g).empty());
}

// ------------------------------------------------------------------ error statistics

TEST(ErrorStatsTest, ErrorsAreCountedByTheirFirstWord) {
  EXPECT_EQ(ErrorStats::Code("WRONGTYPE Operation against a key"), "WRONGTYPE");
  EXPECT_EQ(ErrorStats::Code("-NOAUTH Authentication required."), "NOAUTH");
  EXPECT_EQ(ErrorStats::Code("nospace"), "ERR");
  EXPECT_EQ(ErrorStats::Code(std::string(40, 'A') + " late space"), "ERR");
  ErrorStats s;
  s.Count("ERR a");
  s.Count("ERR b");
  s.Count("WRONGTYPE x");
  s.Count("MYOWN code");
  std::vector<std::pair<std::string, uint64_t>> want = {{"ERR", 2}, {"MYOWN", 1}, {"WRONGTYPE", 1}};
  EXPECT_EQ(s.Snapshot(), want);
  s.Reset();
  EXPECT_TRUE(s.Snapshot().empty());
}

TEST(ErrorStatsTest, AtMost128DistinctCodesAreTracked) {
  ErrorStats s;
  for (int i = 0; i < 300; ++i) s.Count("CODE" + std::to_string(i) + " x");
  EXPECT_LE(s.Snapshot().size(), ErrorStats::kMaxKinds);
}

// ------------------------------------------------------------------ config helpers

TEST(PercentilesConfigTest, ParsesAndPrintsLikeRedis) {
  EXPECT_EQ(ParsePercentiles("50 99 99.9"), std::vector<double>({50, 99, 99.9}));
  EXPECT_EQ(ParsePercentiles(""), std::vector<double>());
  EXPECT_FALSE(ParsePercentiles("abc"));
  EXPECT_FALSE(ParsePercentiles("101"));
  EXPECT_EQ(CheckPercentiles("abc"), "Invalid latency-tracking-info-percentiles parameters");
  EXPECT_EQ(CheckPercentiles("50 101"),
            "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]");
  EXPECT_EQ(CheckPercentiles("0 100"), "");
  EXPECT_EQ(ShortDouble(50), "50");
  EXPECT_EQ(ShortDouble(99.9), "99.9");
}

// ------------------------------------------------------------------ logging

TEST(LogTest, RedisFormatKeepsAnEventOnOneLine) {
  std::string line =
      LogFormatLine(LogLevel::kWarning, "two\nlines\r", {{"client", "id=3 addr=x"}}, 0, false);
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
  EXPECT_NE(line.find(" # two\\nlines\\r client=\"id=3 addr=x\""), std::string::npos) << line;
  EXPECT_TRUE(GlobMatch("[0-9]*:M [0-9][0-9] ??? [0-9][0-9][0-9][0-9] ??:??:??.000 # *", line))
      << line;
}

TEST(LogTest, JsonFormatIsOneParseableObjectPerLine) {
  std::string line =
      LogFormatLine(LogLevel::kNotice, "say \"hi\"\n\x01", {{"port", "6379"}}, 1700000000123, true);
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["ts"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(j["level"], "notice");
  EXPECT_EQ(j["msg"], "say \"hi\"\n\x01");
  EXPECT_EQ(j["port"], "6379");
  EXPECT_EQ(j["pid"], static_cast<int>(getpid()));
}

// Everything written to a file log while `fn` runs (the log goes back to stdout, level notice).
std::string LoggedTo(const std::function<void()>& fn) {
  TempDir dir;
  std::string path = dir.path() + "/keel.log";
  LogSetFile(path);
  fn();
  LogSetFile("");
  LogSetLevel("notice");
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(LogTest, LoglevelDropsLessImportantLinesAndLogfileGetsTheRest) {
  std::string text = LoggedTo([] {
    LogSetLevel("warning");
    Log(LogLevel::kNotice, "quiet notice");
    Log(LogLevel::kWarning, "loud warning");
    LogSetLevel("debug");
    Log(LogLevel::kDebug, "debug detail");
  });
  EXPECT_EQ(text.find("quiet notice"), std::string::npos) << text;
  EXPECT_NE(text.find(" # loud warning\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" . debug detail\n"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
}

TEST(LogTest, RateLimitedLinesPrintOncePerSecondAndCountWhatTheyDropped) {
  std::string text = LoggedTo([] {
    for (int i = 0; i < 5; ++i) LogRateLimited(LogLevel::kWarning, "test-burst", "burst");
    LogRateLimited(LogLevel::kWarning, "test-other", "other kind");  // its own budget
    std::this_thread::sleep_for(1100ms);
    LogRateLimited(LogLevel::kWarning, "test-burst", "burst");
  });
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
  EXPECT_NE(text.find(" # burst\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" # other kind\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" # burst (4 similar messages suppressed)\n"), std::string::npos) << text;
}

// ------------------------------------------------------------------ the registry, live

class MetricsRegistryTest : public ServerTest {
 protected:
  ConfigPairs ExtraConfig() const override { return {{"metrics-port", "0"}}; }
  void SetUp() override {
    ServerTest::SetUp();
    if (external()) GTEST_SKIP() << "needs in-process Keel";
  }
};

TEST_F(MetricsRegistryTest, CommandCountersAndHistogramsFollowTheCommands) {
  for (int i = 0; i < 5; ++i) ASSERT_EQ(Cmd({"SET", "k" + std::to_string(i), "v"}), "+OK");
  ASSERT_EQ(Cmd({"GET", "k1"}), "v");
  ASSERT_EQ(Cmd({"GET"}), "-ERR wrong number of arguments for 'get' command");
  std::string scrape = server().metrics().Scrape();
  EXPECT_EQ(SampleValue(scrape, R"(keel_commands_total{cmd="set"})"), 5);
  EXPECT_EQ(SampleValue(scrape, R"(keel_commands_total{cmd="get"})"), 1);
  EXPECT_EQ(SampleValue(scrape, R"(keel_commands_rejected_total{cmd="get"})"), 1);
  EXPECT_EQ(SampleValue(scrape, R"(keel_command_duration_seconds_count{cmd="set"})"), 5);
  EXPECT_EQ(SampleValue(scrape, R"(keel_command_duration_seconds_bucket{cmd="set",le="+Inf"})"), 5);
  EXPECT_GT(SampleValue(scrape, R"(keel_command_duration_seconds_sum{cmd="set"})"), 0);
  EXPECT_EQ(SampleValue(scrape, R"(keel_errors_total{code="ERR"})"), 1);
  EXPECT_EQ(SampleValue(scrape, R"(keel_db_keys{db="db0"})"), 5);
  EXPECT_EQ(SampleValue(scrape, "keel_connected_clients"), 1);
  EXPECT_EQ(SampleValue(scrape, R"(keel_build_info{version="0.1.0",redis_version="7.0.15"})"), 1);
}

// The integer field `name` of an INFO reply (-1 if absent).
double InfoField(const std::string& info, const std::string& name) {
  size_t at = info.find("\n" + name + ":");
  return at == std::string::npos ? -1 : std::stod(info.substr(at + name.size() + 2));
}

TEST_F(MetricsRegistryTest, KeyspaceClientAndPubSubFamiliesFollowTheServer) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "appendfsync", "always"}), "+OK");  // a WAL sync per write
  ASSERT_EQ(Cmd({"SET", "a", "1", "EX", "100"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "b", "x"}), "+OK");
  ASSERT_EQ(Cmd({"SELECT", "3"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "c", "1"}), "+OK");
  ASSERT_EQ(Cmd({"SELECT", "0"}), "+OK");
  ASSERT_EQ(Cmd({"GET", "a"}), "1");
  ASSERT_EQ(Cmd({"GET", "missing"}), "(nil)");
  ASSERT_EQ(Cmd({"INCR", "b"}), "-ERR value is not an integer or out of range");
  ASSERT_EQ(Cmd({"PSETEX", "gone", "1", "v"}), "+OK");
  std::this_thread::sleep_for(20ms);
  ASSERT_EQ(Cmd({"GET", "gone"}), "(nil)");
  // The expiry machinery deletes it (and counts it) in the background.
  ASSERT_TRUE(WaitUntil([&] {
    std::string s = server().metrics().Scrape();
    return SampleValue(s, "keel_expired_keys_total") == 1 &&
           SampleValue(s, R"(keel_db_keys{db="db0"})") == 2;
  }));
  auto sub = NewClient();
  ASSERT_EQ(sub->Cmd({"SUBSCRIBE", "ch"}), "[subscribe,ch,:1]");
  ASSERT_EQ(sub->Cmd({"PSUBSCRIBE", "p*"}), "[psubscribe,p*,:2]");
  RawConnection blocked(port());
  ASSERT_TRUE(blocked.Send(EncodeCommand({"BLPOP", "list", "0"})));
  ASSERT_TRUE(WaitUntil(
      [&] { return SampleValue(server().metrics().Scrape(), "keel_blocked_clients") == 1; }));

  std::string scrape = server().metrics().Scrape();
  std::string info = Cmd({"INFO", "everything"});
  EXPECT_EQ(SampleValue(scrape, R"(keel_db_keys{db="db0"})"), 2);
  EXPECT_EQ(SampleValue(scrape, R"(keel_db_keys_expiring{db="db0"})"), 1);
  EXPECT_EQ(SampleValue(scrape, R"(keel_db_keys{db="db3"})"), 1);
  EXPECT_EQ(SampleValue(scrape, R"(keel_db_keys_expiring{db="db3"})"), 0);
  EXPECT_EQ(SampleValue(scrape, R"(keel_commands_failed_total{cmd="incr"})"), 1);
  EXPECT_EQ(SampleValue(scrape, "keel_connected_clients"), 3);
  EXPECT_EQ(SampleValue(scrape, "keel_pubsub_channels"), 1);
  EXPECT_EQ(SampleValue(scrape, "keel_pubsub_patterns"), 1);
  // The counters are INFO's own (INFO ran after the scrape, and changes none of these).
  for (auto [family, field] : {std::pair{"keel_keyspace_hits_total", "keyspace_hits"},
                               std::pair{"keel_keyspace_misses_total", "keyspace_misses"},
                               std::pair{"keel_expired_keys_total", "expired_keys"}}) {
    EXPECT_EQ(SampleValue(scrape, family), InfoField(info, field)) << family;
  }
  EXPECT_GE(SampleValue(scrape, "keel_keyspace_hits_total"), 1);
  EXPECT_GE(SampleValue(scrape, "keel_keyspace_misses_total"), 1);
  EXPECT_GT(SampleValue(scrape, "keel_rocksdb_wal_syncs_total"), 0);
  EXPECT_GT(SampleValue(scrape, "keel_net_input_bytes_total"), 0);
  EXPECT_GT(SampleValue(scrape, "keel_net_output_bytes_total"), 0);
  EXPECT_GT(SampleValue(scrape, "process_resident_memory_bytes"), 0);
  EXPECT_GT(SampleValue(scrape, "process_open_fds"), 0);
  EXPECT_GE(SampleValue(scrape, "keel_rocksdb_memtable_size_bytes"), 0);
  EXPECT_GT(SampleValue(scrape, "keel_rocksdb_block_cache_capacity_bytes"), 0);
  EXPECT_EQ(SampleValue(scrape, R"(keel_rocksdb_write_stalls_total{kind="stop"})"), 0);
  EXPECT_GT(SampleValue(scrape, "keel_data_dir_filesystem_size_bytes"), 0);
  ASSERT_EQ(Cmd({"LPUSH", "list", "v"}), ":1");
  EXPECT_EQ(blocked.ReadReply(), "*2\r\n$4\r\nlist\r\n$1\r\nv\r\n");
}

TEST_F(MetricsRegistryTest, HistogramBucketsAreCumulativeAndEndAtTheCount) {
  for (int i = 0; i < 20; ++i) Cmd({"PING"});
  auto families = server().metrics().CollectAll();
  bool found = false;
  for (const auto& f : families) {
    if (f.name != "keel_command_duration_seconds") continue;
    for (const auto& m : f.metric) {
      if (m.label.at(0).value != "ping") continue;
      found = true;
      uint64_t prev = 0;
      for (const auto& b : m.histogram.bucket) {
        EXPECT_GE(b.cumulative_count, prev);
        prev = b.cumulative_count;
      }
      EXPECT_TRUE(std::isinf(m.histogram.bucket.back().upper_bound));
      EXPECT_EQ(m.histogram.bucket.back().cumulative_count, m.histogram.sample_count);
      EXPECT_EQ(m.histogram.sample_count, 20u);
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(MetricsRegistryTest, FamilyNamesFollowPrometheusConventions) {
  Cmd({"SET", "a", "b"});
  std::set<std::string> names;
  for (const auto& f : server().metrics().CollectAll()) {
    EXPECT_TRUE(names.insert(f.name).second) << "duplicate family " << f.name;
    EXPECT_TRUE(f.name.starts_with("keel_") || f.name.starts_with("process_")) << f.name;
    EXPECT_EQ(f.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_"), std::string::npos)
        << f.name;
    EXPECT_FALSE(f.help.empty()) << f.name;
    bool total = f.name.ends_with("_total");
    EXPECT_EQ(total, f.type == prometheus::MetricType::Counter) << f.name;
  }
  for (const char* want : {"keel_commands_total",
                           "keel_commands_failed_total",
                           "keel_command_duration_seconds",
                           "keel_connected_clients",
                           "keel_blocked_clients",
                           "keel_net_input_bytes_total",
                           "keel_net_output_bytes_total",
                           "keel_db_keys",
                           "keel_db_keys_expiring",
                           "keel_expired_keys_total",
                           "keel_evicted_keys_total",
                           "keel_keyspace_hits_total",
                           "keel_keyspace_misses_total",
                           "keel_pubsub_channels",
                           "keel_pubsub_patterns",
                           "keel_rocksdb_live_sst_files_size_bytes",
                           "keel_rocksdb_memtable_size_bytes",
                           "keel_rocksdb_block_cache_usage_bytes",
                           "keel_rocksdb_block_cache_hits_total",
                           "keel_rocksdb_estimate_pending_compaction_bytes",
                           "keel_rocksdb_write_stalls_total",
                           "keel_rocksdb_wal_syncs_total",
                           "process_cpu_seconds_total",
                           "process_resident_memory_bytes",
                           "process_open_fds",
                           "keel_build_info",
                           "keel_data_dir_filesystem_avail_bytes"}) {
    EXPECT_TRUE(names.count(want)) << "missing family " << want;
  }
}

TEST_F(MetricsRegistryTest, OtherSubsystemsRegisterFamiliesAndCollectorsOnTheSameRegistry) {
  auto& family = prometheus::BuildCounter()
                     .Name("keel_test_replication_entries_total")
                     .Help("Entries applied (test).")
                     .Register(server().metrics().registry());
  family.Add({{"role", "leader"}}).Increment(3);
  server().metrics().AddCollector([](std::vector<prometheus::MetricFamily>* out) {
    prometheus::MetricFamily f{
        "keel_test_cluster_slots", "Slots served (test).", prometheus::MetricType::Gauge, {}};
    prometheus::ClientMetric m;
    m.gauge.value = 16384;
    f.metric.push_back(m);
    out->push_back(f);
  });
  std::string scrape = server().metrics().Scrape();
  EXPECT_EQ(SampleValue(scrape, R"(keel_test_replication_entries_total{role="leader"})"), 3);
  EXPECT_EQ(SampleValue(scrape, "keel_test_cluster_slots"), 16384);
}

TEST_F(MetricsRegistryTest, LatencyTrackingOffRecordsNoHistograms) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "latency-tracking", "no"}), "+OK");
  Cmd({"SET", "a", "b"});
  std::string scrape = server().metrics().Scrape();
  EXPECT_EQ(SampleValue(scrape, R"(keel_commands_total{cmd="set"})"), 1);
  EXPECT_EQ(SampleValue(scrape, R"(keel_command_duration_seconds_count{cmd="set"})"), -1);
}

TEST_F(MetricsRegistryTest, ResetStatResetsCountersHistogramsAndErrors) {
  Cmd({"SET", "a", "b"});
  Cmd({"GET"});
  ASSERT_EQ(Cmd({"CONFIG", "RESETSTAT"}), "+OK");
  std::string scrape = server().metrics().Scrape();
  EXPECT_EQ(SampleValue(scrape, R"(keel_commands_total{cmd="set"})"), -1);
  EXPECT_EQ(SampleValue(scrape, R"(keel_command_duration_seconds_count{cmd="set"})"), -1);
  EXPECT_EQ(SampleValue(scrape, R"(keel_errors_total{code="ERR"})"), -1);
}

TEST_F(MetricsRegistryTest, MetricsPortZeroServesNothing) {
  EXPECT_EQ(server().metrics().port(), 0);
  EXPECT_NE(Cmd({"INFO", "server"}).find("keel_metrics_port:0\r\n"), std::string::npos);
}

// ------------------------------------------------------------------ the HTTP endpoint

class MetricsEndpointTest : public ServerTest {
 protected:
  ConfigPairs ExtraConfig() const override {
    return {{"metrics-port", std::to_string(metrics_port_)}};
  }
  void SetUp() override {
    metrics_port_ = FreePort();
    ServerTest::SetUp();
    if (external()) GTEST_SKIP() << "needs in-process Keel";
  }
  uint16_t metrics_port_ = 0;
};

TEST_F(MetricsEndpointTest, ServesTheScrapeOverHttpOnTheBindAddress) {
  ASSERT_EQ(server().metrics().port(), metrics_port_);
  Cmd({"SET", "a", "b"});
  std::string response = HttpGet(metrics_port_, "/metrics");
  EXPECT_TRUE(response.starts_with("HTTP/1.1 200")) << response.substr(0, 100);
  EXPECT_NE(response.find("Content-Type: text/plain"), std::string::npos);
  EXPECT_NE(response.find("\nkeel_commands_total{cmd=\"set\"} 1\n"), std::string::npos);
  EXPECT_NE(Cmd({"INFO", "server"}).find("keel_metrics_port:" + std::to_string(metrics_port_)),
            std::string::npos);
}

TEST_F(MetricsEndpointTest, AnUnbindableMetricsPortDoesNotStopTheServer) {
  // A second server on the same metrics port cannot bind it, and starts anyway.
  TempDir dir;
  InProcessServer second(dir.path(), {{"metrics-port", std::to_string(metrics_port_)}});
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_EQ(second.server().metrics().port(), 0);
  Client c(second.port());
  EXPECT_EQ(c.Cmd({"PING"}), "+PONG");
  EXPECT_NE(HttpGet(metrics_port_, "/metrics").find("keel_build_info"), std::string::npos)
      << "the first server still serves its endpoint";
}

}  // namespace
}  // namespace keel::server::test
