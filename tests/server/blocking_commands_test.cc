// Blocking commands end to end: BLPOP BRPOP BRPOPLPUSH BLMOVE BLMPOP XREAD BLOCK and
// XREADGROUP BLOCK. FIFO service, exact fractional timeouts, LMOVE into a waited key, pushes in
// MULTI/EXEC, CLIENT UNBLOCK, disconnect cleanup, and a thousand idle blocked clients costing
// no CPU. Blocked commands are sent on raw connections so the test keeps control while they
// wait. Every test but the CPU one also runs against real Redis (KEEL_TEST_REDIS_PORT).
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

using Clock = std::chrono::steady_clock;

class BlockingCommandsTest : public ServerTest {
 protected:
  int64_t BlockedClients() {
    std::string info = Cmd({"INFO", "clients"});
    size_t at = info.find("blocked_clients:");
    if (at == std::string::npos) return -1;
    return std::strtoll(info.c_str() + at + 16, nullptr, 10);
  }
  // Waits until exactly `n` clients are blocked.
  bool WaitBlocked(int64_t n, std::chrono::milliseconds timeout = 10s) {
    return WaitUntil([&] { return BlockedClients() == n; }, timeout);
  }
  // A raw connection that sent `argv` (a blocking command) and is now waiting.
  std::unique_ptr<RawConnection> Send(const std::vector<std::string>& argv) {
    auto c = std::make_unique<RawConnection>(port());
    EXPECT_TRUE(c->connected());
    EXPECT_TRUE(c->Send(EncodeCommand(argv)));
    return c;
  }
  // Sends `argv` and waits until the server counts `blocked` blocked clients.
  std::unique_ptr<RawConnection> Block(const std::vector<std::string>& argv, int64_t blocked) {
    auto c = Send(argv);
    EXPECT_TRUE(WaitBlocked(blocked)) << "not blocked: " << argv[0];
    return c;
  }
};

std::string Bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}
std::string Pair(std::string_view a, std::string_view b) { return "*2\r\n" + Bulk(a) + Bulk(b); }
constexpr char kNullArray[] = "*-1\r\n";

// ------------------------------------------------------------------ lists

TEST_F(BlockingCommandsTest, BlockedPopsAreServedInTheOrderTheyBlocked) {
  auto a = Block({"BLPOP", "q", "0"}, 1);
  auto b = Block({"BLPOP", "q", "0"}, 2);
  auto c = Block({"BRPOP", "other", "q", "0"}, 3);
  EXPECT_EQ(Cmd({"RPUSH", "q", "1", "2", "3"}), ":3");
  EXPECT_EQ(a->ReadReply(), Pair("q", "1"));
  EXPECT_EQ(b->ReadReply(), Pair("q", "2"));
  EXPECT_EQ(c->ReadReply(), Pair("q", "3"));
  EXPECT_EQ(Cmd({"EXISTS", "q"}), ":0");
  EXPECT_TRUE(WaitBlocked(0));
}

TEST_F(BlockingCommandsTest, OnePushServesOneWaiterAndTheNextWaitsForMore) {
  auto a = Block({"BLPOP", "q", "0"}, 1);
  auto b = Block({"BLPOP", "q", "0"}, 2);
  EXPECT_EQ(Cmd({"LPUSH", "q", "x"}), ":1");
  EXPECT_EQ(a->ReadReply(), Pair("q", "x"));
  EXPECT_TRUE(WaitBlocked(1));
  EXPECT_EQ(b->ReadReply(200ms), "");  // still waiting
  EXPECT_EQ(Cmd({"LPUSH", "q", "y"}), ":1");
  EXPECT_EQ(b->ReadReply(), Pair("q", "y"));
}

TEST_F(BlockingCommandsTest, FractionalTimeoutsAreHonouredExactly) {
  auto start = Clock::now();
  auto c = Send({"BLPOP", "nothing", "0.25"});
  EXPECT_EQ(c->ReadReply(5s), kNullArray);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  EXPECT_GE(ms, 240);
  EXPECT_LT(ms, 1000);
  start = Clock::now();
  auto m = Send({"BLMOVE", "nothing", "dst", "LEFT", "RIGHT", "0.1"});
  EXPECT_EQ(m->ReadReply(5s), kNullArray);  // Redis 7.0 times BLMOVE out with a null array
  ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  EXPECT_GE(ms, 90);
  EXPECT_LT(ms, 800);
  EXPECT_TRUE(WaitBlocked(0));
}

TEST_F(BlockingCommandsTest, ZeroTimeoutBlocksUntilServed) {
  auto c = Block({"BRPOP", "q", "0"}, 1);
  EXPECT_EQ(c->ReadReply(600ms), "");
  EXPECT_EQ(Cmd({"RPUSH", "q", "late"}), ":1");
  EXPECT_EQ(c->ReadReply(), Pair("q", "late"));
}

TEST_F(BlockingCommandsTest, AnLMoveIntoAWaitedKeyWakesTheWaiter) {
  auto waiter = Block({"BLPOP", "dst", "0"}, 1);
  EXPECT_EQ(Cmd({"RPUSH", "src", "job"}), ":1");
  EXPECT_EQ(Cmd({"LMOVE", "src", "dst", "LEFT", "RIGHT"}), "job");
  EXPECT_EQ(waiter->ReadReply(), Pair("dst", "job"));
  EXPECT_EQ(Cmd({"EXISTS", "src", "dst"}), ":0");
}

TEST_F(BlockingCommandsTest, BlmoveImplementsTheReliableQueuePattern) {
  auto worker = Block({"BLMOVE", "jobs", "processing", "RIGHT", "LEFT", "0"}, 1);
  EXPECT_EQ(Cmd({"LPUSH", "jobs", "j1", "j2"}), ":2");
  EXPECT_EQ(worker->ReadReply(), Bulk("j1"));
  EXPECT_EQ(Cmd({"LRANGE", "processing", "0", "-1"}), "[j1]");
  EXPECT_EQ(Cmd({"LRANGE", "jobs", "0", "-1"}), "[j2]");
  EXPECT_EQ(Cmd({"LREM", "processing", "1", "j1"}), ":1");
  // A chain: the BLMOVE's push into "next" wakes a client waiting there.
  auto second = Block({"BLMOVE", "processing", "done", "LEFT", "LEFT", "0"}, 1);
  auto third = Block({"BLPOP", "done", "0"}, 2);
  EXPECT_EQ(Cmd({"RPUSH", "processing", "j2"}), ":1");
  EXPECT_EQ(second->ReadReply(), Bulk("j2"));
  EXPECT_EQ(third->ReadReply(), Pair("done", "j2"));
}

TEST_F(BlockingCommandsTest, BlmpopServesUpToCountFromTheFirstNonEmptyKey) {
  auto c = Block({"BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "2"}, 1);
  EXPECT_EQ(Cmd({"RPUSH", "b", "1", "2", "3"}), ":3");
  EXPECT_EQ(c->ReadReply(), "*2\r\n" + Bulk("b") + "*2\r\n" + Bulk("3") + Bulk("2"));
  EXPECT_EQ(Cmd({"LRANGE", "b", "0", "-1"}), "[1]");
}

TEST_F(BlockingCommandsTest, APushInsideMultiWakesTheWaiterAfterExec) {
  auto waiter = Block({"BLPOP", "q", "0"}, 1);
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"RPUSH", "q", "a"}), "+QUEUED");
  EXPECT_EQ(Cmd({"RPUSH", "q", "b"}), "+QUEUED");
  EXPECT_EQ(waiter->ReadReply(200ms), "");
  EXPECT_EQ(Cmd({"EXEC"}), "[:1,:2]");
  EXPECT_EQ(waiter->ReadReply(), Pair("q", "a"));
  EXPECT_EQ(Cmd({"LRANGE", "q", "0", "-1"}), "[b]");
}

TEST_F(BlockingCommandsTest, BlockingPopsInsideMultiDoNotBlock) {
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"BLPOP", "empty", "0"}), "+QUEUED");
  EXPECT_EQ(Cmd({"XREAD", "BLOCK", "0", "STREAMS", "nostream", "0"}), "+QUEUED");
  EXPECT_EQ(Cmd({"EXEC"}), "[(nil),(nil)]");
}

TEST_F(BlockingCommandsTest, ClientUnblockEndsTheWaitWithATimeoutOrAnError) {
  auto c = std::make_unique<RawConnection>(port());
  std::string id_reply = c->Roundtrip(EncodeCommand({"CLIENT", "ID"}));
  std::string id = id_reply.substr(1, id_reply.size() - 3);
  ASSERT_TRUE(c->Send(EncodeCommand({"BLPOP", "q", "0"})));
  ASSERT_TRUE(WaitBlocked(1));
  EXPECT_EQ(Cmd({"CLIENT", "UNBLOCK", id}), ":1");
  EXPECT_EQ(c->ReadReply(), kNullArray);
  ASSERT_TRUE(c->Send(EncodeCommand({"BLPOP", "q", "0"})));
  ASSERT_TRUE(WaitBlocked(1));
  EXPECT_EQ(Cmd({"CLIENT", "UNBLOCK", id, "ERROR"}), ":1");
  EXPECT_EQ(c->ReadReply(), "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
  EXPECT_EQ(Cmd({"CLIENT", "UNBLOCK", id}), ":0");  // not blocked any more
}

TEST_F(BlockingCommandsTest, ADisconnectedBlockedClientIsCleanedUp) {
  {
    auto gone = Block({"BLPOP", "q", "0"}, 1);
    auto stays = Block({"BLPOP", "q", "0"}, 2);
    gone->Close();
    EXPECT_TRUE(WaitBlocked(1));
    EXPECT_EQ(Cmd({"RPUSH", "q", "x"}), ":1");
    EXPECT_EQ(stays->ReadReply(), Pair("q", "x"));  // the live client, not the closed one
  }
  auto c = Block({"BLPOP", "q2", "0"}, 1);
  c->Close();
  EXPECT_TRUE(WaitBlocked(0));
  EXPECT_EQ(Cmd({"RPUSH", "q2", "kept"}), ":1");
  EXPECT_EQ(Cmd({"LLEN", "q2"}), ":1");  // nobody took it
}

TEST_F(BlockingCommandsTest, AWrongTypeKeyIsAnErrorBeforeBlocking) {
  ASSERT_EQ(Cmd({"SET", "s", "v"}), "+OK");
  EXPECT_EQ(Cmd({"BLPOP", "empty", "s", "0"}),
            "-WRONGTYPE Operation against a key holding the wrong kind of value");
  EXPECT_EQ(Cmd({"XREAD", "BLOCK", "0", "STREAMS", "s", "0"}),
            "-WRONGTYPE Operation against a key holding the wrong kind of value");
}

// ------------------------------------------------------------------ streams

TEST_F(BlockingCommandsTest, OneXaddWakesEveryXreadWaiter) {
  std::vector<std::unique_ptr<RawConnection>> readers;
  for (int i = 0; i < 3; ++i)
    readers.push_back(Block({"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}, i + 1));
  EXPECT_EQ(Cmd({"XADD", "s", "5-1", "f", "v"}), "5-1");
  std::string expected =
      "*1\r\n*2\r\n" + Bulk("s") + "*1\r\n*2\r\n" + Bulk("5-1") + "*2\r\n" + Bulk("f") + Bulk("v");
  for (auto& r : readers) EXPECT_EQ(r->ReadReply(), expected);
}

TEST_F(BlockingCommandsTest, XreadDollarMeansEntriesAfterTheBlockNotAfterTheWakeUp) {
  EXPECT_EQ(Cmd({"XADD", "s", "1-1", "f", "old"}), "1-1");
  auto r = Block({"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}, 1);
  EXPECT_EQ(Cmd({"XADD", "s", "2-1", "f", "new"}), "2-1");
  std::string reply = r->ReadReply();
  EXPECT_NE(reply.find("2-1"), std::string::npos) << reply;
  EXPECT_EQ(reply.find("1-1"), std::string::npos) << reply;
}

TEST_F(BlockingCommandsTest, XreadTimesOutWithANullArray) {
  auto start = Clock::now();
  auto r = Send({"XREAD", "BLOCK", "150", "STREAMS", "s", "$"});
  EXPECT_EQ(r->ReadReply(5s), kNullArray);
  EXPECT_GE(Clock::now() - start, 140ms);
}

TEST_F(BlockingCommandsTest, BlockedGroupConsumersShareNewEntriesInFifoOrder) {
  ASSERT_EQ(Cmd({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}), "+OK");
  auto a = Block({"XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"}, 1);
  auto b = Block({"XREADGROUP", "GROUP", "g", "bob", "BLOCK", "0", "STREAMS", "s", ">"}, 2);
  EXPECT_EQ(Cmd({"XADD", "s", "1-1", "n", "1"}), "1-1");
  std::string first = a->ReadReply();
  EXPECT_NE(first.find("1-1"), std::string::npos) << first;
  EXPECT_TRUE(WaitBlocked(1));
  EXPECT_EQ(b->ReadReply(200ms), "");
  EXPECT_EQ(Cmd({"XADD", "s", "2-1", "n", "2"}), "2-1");
  std::string second = b->ReadReply();
  EXPECT_NE(second.find("2-1"), std::string::npos) << second;
  EXPECT_EQ(Cmd({"XPENDING", "s", "g", "-", "+", "10", "alice"}).substr(0, 9), "[[1-1,ali");
}

TEST_F(BlockingCommandsTest, DestroyingTheGroupOrTheKeyUnblocksGroupReaders) {
  ASSERT_EQ(Cmd({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}), "+OK");
  auto a = Block({"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"}, 1);
  EXPECT_EQ(Cmd({"XGROUP", "DESTROY", "s", "g"}), ":1");
  EXPECT_EQ(a->ReadReply(),
            "-NOGROUP the consumer group this client was blocked on no longer exists\r\n");
  ASSERT_EQ(Cmd({"XGROUP", "CREATE", "s", "g", "$"}), "+OK");
  auto b = Block({"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"}, 1);
  EXPECT_EQ(Cmd({"DEL", "s"}), ":1");
  EXPECT_EQ(b->ReadReply(), "-UNBLOCKED the stream key no longer exists\r\n");
}

TEST_F(BlockingCommandsTest, AWaitedKeyTurningIntoAnotherTypeKeepsListAndXreadWaitersBlocked) {
  auto pop = Block({"BLPOP", "k", "0"}, 1);
  auto move = Block({"BLMOVE", "k", "dst", "LEFT", "LEFT", "0"}, 2);
  auto read = Block({"XREAD", "BLOCK", "0", "STREAMS", "k", "$"}, 3);
  ASSERT_EQ(Cmd({"SET", "k", "string"}), "+OK");
  EXPECT_EQ(pop->ReadReply(300ms), "");
  EXPECT_TRUE(WaitBlocked(3));
  ASSERT_EQ(Cmd({"DEL", "k"}), ":1");
  ASSERT_EQ(Cmd({"RPUSH", "k", "x"}), ":1");
  EXPECT_EQ(pop->ReadReply(), Pair("k", "x"));
  ASSERT_EQ(Cmd({"RPUSH", "k", "y"}), ":1");
  EXPECT_EQ(move->ReadReply(), Bulk("y"));
  EXPECT_TRUE(WaitBlocked(1));  // XREAD still waits for a stream
}

TEST_F(BlockingCommandsTest, AGroupReaderIsUnblockedWhenItsStreamBecomesAnotherType) {
  ASSERT_EQ(Cmd({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}), "+OK");
  auto a = Block({"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"}, 1);
  ASSERT_EQ(Cmd({"SET", "s", "string"}), "+OK");
  EXPECT_EQ(a->ReadReply(), "-UNBLOCKED the stream key no longer exists\r\n");
}

// ------------------------------------------------------------------ idle cost

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

TEST_F(BlockingCommandsTest, AThousandBlockedClientsCostNoCpu) {
  KEEL_ONLY();  // measures the in-process server's CPU time
  constexpr int kClients = 1000;
  std::vector<std::unique_ptr<RawConnection>> clients;
  for (int i = 0; i < kClients; ++i) {
    std::string n = std::to_string(i);
    if (i % 2 == 0) {
      clients.push_back(Send({"BLPOP", "k" + n, "0"}));
    } else {
      clients.push_back(Send({"XREAD", "BLOCK", "0", "STREAMS", "s" + n, "$"}));
    }
  }
  ASSERT_TRUE(WaitBlocked(kClients, 30s));
  double before = ProcessCpuSeconds();
  std::this_thread::sleep_for(1s);
  double used = ProcessCpuSeconds() - before;
  EXPECT_LT(used, 0.05) << "CPU seconds used in 1 s by " << kClients << " blocked clients";
  // They are all still served correctly afterwards.
  EXPECT_EQ(Cmd({"RPUSH", "k0", "x"}), ":1");
  EXPECT_EQ(clients[0]->ReadReply(), Pair("k0", "x"));
  EXPECT_EQ(Cmd({"XADD", "s1", "1-1", "f", "v"}), "1-1");
  EXPECT_NE(clients[1]->ReadReply().find("1-1"), std::string::npos);
}

TEST_F(BlockingCommandsTest, CommandsPipelinedBehindABlockedCommandRunOnceItIsServed) {
  // The commands after a blocking one wait in the input buffer; input that arrives while
  // the client is blocked (the next pipeline) must land after them, not over them.
  auto c = Send({"BLPOP", "bq", "0.05"});
  ASSERT_TRUE(c->Send(EncodeCommand({"SET", "bx", "1"}) + EncodeCommand({"GET", "bx"})));
  EXPECT_EQ(c->ReadReplies(3), "*-1\r\n+OK\r\n$1\r\n1\r\n");
  ASSERT_TRUE(c->Send(EncodeCommand({"SET", "by", "2"}) + EncodeCommand({"GET", "by"})));
  EXPECT_EQ(c->ReadReplies(2), "+OK\r\n$1\r\n2\r\n");

  auto d = Send({"BLPOP", "bq", "0"});
  ASSERT_TRUE(WaitBlocked(1));
  ASSERT_TRUE(d->Send(EncodeCommand({"INCR", "bn"}) + EncodeCommand({"INCR", "bn"})));
  EXPECT_EQ(Cmd({"RPUSH", "bq", "job"}), ":1");
  EXPECT_EQ(d->ReadReplies(3), "*2\r\n$2\r\nbq\r\n$3\r\njob\r\n:1\r\n:2\r\n");
  ASSERT_TRUE(d->Send(EncodeCommand({"GET", "bn"})));
  EXPECT_EQ(d->ReadReply(), "$1\r\n2\r\n");
}

}  // namespace
}  // namespace keel::server::test
