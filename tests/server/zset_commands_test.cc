// Sorted-set commands over the wire: BZPOPMIN/BZPOPMAX/BZMPOP (FIFO service, fractional
// timeouts, MULTI, deletion and retyping of the waited key), pipelines, RESP3 shapes, keyspace
// events and ranks of a larger set across a restart. Blocked commands are sent on raw
// connections. Everything but the restart test holds against real Redis too
// (KEEL_TEST_REDIS_PORT).
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string Bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}
// BZPOPMIN's RESP2 reply: [key, member, score].
std::string Popped(std::string_view key, std::string_view member, std::string_view score) {
  return "*3\r\n" + Bulk(key) + Bulk(member) + Bulk(score);
}
constexpr char kNullArray[] = "*-1\r\n";

class ZSetCommandsTest : public ServerTest {
 protected:
  int64_t BlockedClients() {
    std::string info = Cmd({"INFO", "clients"});
    size_t at = info.find("blocked_clients:");
    if (at == std::string::npos) return -1;
    return std::strtoll(info.c_str() + at + 16, nullptr, 10);
  }
  bool WaitBlocked(int64_t n) {
    return WaitUntil([&] { return BlockedClients() == n; }, 10s);
  }
  std::unique_ptr<RawConnection> Block(const std::vector<std::string>& argv, int64_t blocked) {
    auto c = std::make_unique<RawConnection>(port());
    EXPECT_TRUE(c->connected());
    EXPECT_TRUE(c->Send(EncodeCommand(argv)));
    EXPECT_TRUE(WaitBlocked(blocked)) << "not blocked: " << argv[0];
    return c;
  }
  void TearDown() override {
    if (external()) NewClient()->Cmd({"CONFIG", "SET", "notify-keyspace-events", ""});
    ServerTest::TearDown();
  }
};

TEST_F(ZSetCommandsTest, BlockedPopsAreServedInTheOrderTheyBlocked) {
  auto a = Block({"BZPOPMIN", "z", "0"}, 1);
  auto b = Block({"BZPOPMAX", "other", "z", "0"}, 2);
  auto c = Block({"BZMPOP", "0", "1", "z", "MIN", "COUNT", "5"}, 3);
  EXPECT_EQ(Cmd({"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"}), ":4");
  EXPECT_EQ(a->ReadReply(), Popped("z", "a", "1"));
  EXPECT_EQ(b->ReadReply(), Popped("z", "d", "4"));
  EXPECT_EQ(c->ReadReply(), "*2\r\n" + Bulk("z") + "*2\r\n*2\r\n" + Bulk("b") + Bulk("2") +
                                "*2\r\n" + Bulk("c") + Bulk("3"));
  EXPECT_EQ(Cmd({"EXISTS", "z"}), ":0");
  EXPECT_TRUE(WaitBlocked(0));
}

TEST_F(ZSetCommandsTest, OneAddServesOneWaiterAndTheNextKeepsWaiting) {
  auto a = Block({"BZPOPMIN", "z", "0"}, 1);
  auto b = Block({"BZPOPMIN", "z", "0"}, 2);
  EXPECT_EQ(Cmd({"ZADD", "z", "1", "x"}), ":1");
  EXPECT_EQ(a->ReadReply(), Popped("z", "x", "1"));
  EXPECT_TRUE(WaitBlocked(1));
  EXPECT_EQ(b->ReadReply(200ms), "");
  EXPECT_EQ(Cmd({"ZADD", "z", "2", "y"}), ":1");
  EXPECT_EQ(b->ReadReply(), Popped("z", "y", "2"));
}

TEST_F(ZSetCommandsTest, FractionalTimeoutsAreHonoured) {
  auto start = Clock::now();
  auto c = std::make_unique<RawConnection>(port());
  ASSERT_TRUE(c->Send(EncodeCommand({"BZPOPMIN", "z", "0.3"})));
  EXPECT_EQ(c->ReadReply(5s), kNullArray);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  EXPECT_GE(ms, 280);
  EXPECT_LT(ms, 2000);
  ASSERT_TRUE(c->Send(EncodeCommand({"BZMPOP", "0.2", "2", "z", "y", "MAX"})));
  EXPECT_EQ(c->ReadReply(5s), kNullArray);
}

TEST_F(ZSetCommandsTest, InsideMultiABlockingPopTimesOutAtOnce) {
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"BZPOPMIN", "nokey", "0"}), "+QUEUED");
  EXPECT_EQ(Cmd({"BZMPOP", "0", "1", "nokey", "MIN"}), "+QUEUED");
  EXPECT_EQ(Cmd({"ZADD", "z", "5", "x"}), "+QUEUED");
  EXPECT_EQ(Cmd({"BZPOPMAX", "z", "0"}), "+QUEUED");
  EXPECT_EQ(Cmd({"EXEC"}), "[(nil),(nil),:1,[z,x,5]]");
}

TEST_F(ZSetCommandsTest, AddsInsideMultiWakeAWaiterOnceExecCommits) {
  auto a = Block({"BZPOPMIN", "z", "0"}, 1);
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"ZADD", "z", "2", "b"}), "+QUEUED");
  EXPECT_EQ(Cmd({"ZADD", "z", "1", "a"}), "+QUEUED");
  EXPECT_EQ(a->ReadReply(200ms), "");
  EXPECT_EQ(Cmd({"EXEC"}), "[:1,:1]");
  EXPECT_EQ(a->ReadReply(), Popped("z", "a", "1"));
  EXPECT_EQ(Cmd({"ZRANGE", "z", "0", "-1"}), "[b]");
}

TEST_F(ZSetCommandsTest, DeletingOrRetypingTheKeyLeavesTheClientBlocked) {
  auto a = Block({"BZPOPMIN", "z", "0"}, 1);
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"ZADD", "z", "1", "a"}), "+QUEUED");
  EXPECT_EQ(Cmd({"DEL", "z"}), "+QUEUED");
  EXPECT_EQ(Cmd({"EXEC"}), "[:1,:1]");
  EXPECT_EQ(Cmd({"SET", "z", "string"}), "+OK");
  EXPECT_EQ(a->ReadReply(300ms), "");
  EXPECT_TRUE(WaitBlocked(1));
  EXPECT_EQ(Cmd({"DEL", "z"}), ":1");
  EXPECT_EQ(Cmd({"ZADD", "z", "7", "late"}), ":1");
  EXPECT_EQ(a->ReadReply(), Popped("z", "late", "7"));
}

TEST_F(ZSetCommandsTest, AWrongTypeKeyBeforeAnyMemberIsAnError) {
  EXPECT_EQ(Cmd({"SET", "s", "v"}), "+OK");
  EXPECT_EQ(Cmd({"BZPOPMIN", "nokey", "s", "0"}),
            "-WRONGTYPE Operation against a key holding the wrong kind of value");
  EXPECT_EQ(Cmd({"ZADD", "z", "1", "a"}), ":1");
  EXPECT_EQ(Cmd({"BZPOPMIN", "z", "s", "0"}), "[z,a,1]");
  EXPECT_EQ(Cmd({"BZPOPMIN", "z", "-1"}), "-ERR timeout is negative");
  EXPECT_EQ(Cmd({"BZPOPMIN", "z", "x"}), "-ERR timeout is not a float or out of range");
}

TEST_F(ZSetCommandsTest, APipelineReadsRanksItsEarlierCommandsWrote) {
  client_->Append({"ZADD", "z", "3", "c", "1", "a", "2", "b"});
  client_->Append({"ZRANK", "z", "c"});
  client_->Append({"ZRANGE", "z", "0", "-1", "WITHSCORES"});
  client_->Append({"ZREM", "z", "a"});
  client_->Append({"ZRANGEBYSCORE", "z", "-inf", "+inf"});
  client_->Append({"ZUNIONSTORE", "u", "1", "z"});
  client_->Append({"ZSCAN", "u", "0"});
  EXPECT_EQ(client_->GetReply(), ":3");
  EXPECT_EQ(client_->GetReply(), ":2");
  EXPECT_EQ(client_->GetReply(), "[a,1,b,2,c,3]");
  EXPECT_EQ(client_->GetReply(), ":1");
  EXPECT_EQ(client_->GetReply(), "[b,c]");
  EXPECT_EQ(client_->GetReply(), ":2");
  EXPECT_EQ(client_->GetReply(), "[0,[b,2,c,3]]");
}

TEST_F(ZSetCommandsTest, Resp3NestsScoredPairsAndRepliesDoubles) {
  EXPECT_EQ(Cmd({"ZADD", "z", "1.5", "a", "2", "b"}), ":2");
  RawConnection raw(port());
  ASSERT_TRUE(raw.connected());
  ASSERT_FALSE(raw.Roundtrip(EncodeCommand({"HELLO", "3"})).empty());
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"ZSCORE", "z", "a"})), ",1.5\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"ZRANGE", "z", "0", "0", "WITHSCORES"})),
            "*1\r\n*2\r\n$1\r\na\r\n,1.5\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"ZPOPMIN", "z"})), "*2\r\n$1\r\na\r\n,1.5\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"ZPOPMIN", "z", "1"})), "*1\r\n*2\r\n$1\r\nb\r\n,2\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"ZMPOP", "1", "z", "MIN"})), "_\r\n");
}

TEST_F(ZSetCommandsTest, WritesPublishRedisKeyspaceEvents) {
  EXPECT_EQ(Cmd({"CONFIG", "SET", "notify-keyspace-events", "Ezg"}), "+OK");
  auto sub = NewClient();
  EXPECT_EQ(sub->Cmd({"PSUBSCRIBE", "__keyevent@0__:*"}), "[psubscribe,__keyevent@0__:*,:1]");
  EXPECT_EQ(Cmd({"ZADD", "z", "1", "a", "2", "b", "3", "c"}), ":3");
  EXPECT_EQ(Cmd({"ZADD", "z", "1", "a"}), ":0");
  EXPECT_EQ(Cmd({"ZINCRBY", "z", "1", "a"}), "2");
  EXPECT_EQ(Cmd({"ZREM", "z", "b"}), ":1");
  EXPECT_EQ(Cmd({"ZRANGESTORE", "d", "z", "0", "0"}), ":1");
  EXPECT_EQ(Cmd({"ZPOPMIN", "z"}), "[a,2]");
  EXPECT_EQ(Cmd({"ZREMRANGEBYSCORE", "z", "-inf", "+inf"}), ":1");
  std::vector<std::string> want = {
      "zadd z", "zincr z", "zrem z", "zrangestore d", "zpopmin z", "zremrangebyscore z", "del z"};
  std::vector<std::string> got;
  WaitUntil([&] {
    sub->Append({"PING", "end"});
    for (;;) {
      std::string r = sub->GetReply();
      if (r == "[pong,end]" || r.rfind("(io error", 0) == 0) break;
      const std::string prefix = "[pmessage,__keyevent@0__:*,__keyevent@0__:";
      std::string rest = r.substr(prefix.size(), r.size() - prefix.size() - 1);
      got.push_back(rest.substr(0, rest.find(',')) + " " + rest.substr(rest.find(',') + 1));
    }
    return got.size() >= want.size();
  });
  EXPECT_EQ(got, want);
}

TEST_F(ZSetCommandsTest, RanksOfALargerSetSurviveARestart) {
  KEEL_ONLY();
  for (int batch = 0; batch < 10; ++batch) {
    std::vector<std::string> argv = {"ZADD", "z"};
    for (int i = batch * 1000; i < (batch + 1) * 1000; ++i) {
      argv.push_back(std::to_string((i * 7919) % 10000));
      argv.push_back("m" + std::to_string(i));
    }
    EXPECT_EQ(Cmd(argv), ":1000");
  }
  RestartServer();
  EXPECT_EQ(Cmd({"ZCARD", "z"}), ":10000");
  // Score (i * 7919) % 10000 is a permutation of 0..9999, so a member's rank is its score.
  for (int i : {0, 1, 4999, 5000, 9999}) {
    std::string m = "m" + std::to_string(i);
    EXPECT_EQ(Cmd({"ZRANK", "z", m}), ":" + std::to_string((i * 7919) % 10000));
  }
  EXPECT_EQ(Cmd({"ZRANGE", "z", "5000", "5002", "WITHSCORES"}),
            Cmd({"ZRANGEBYSCORE", "z", "5000", "5002", "WITHSCORES"}));
  EXPECT_EQ(Cmd({"ZCOUNT", "z", "(100", "200"}), ":100");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "z"}), "skiplist");
}

}  // namespace
}  // namespace keel::server::test
