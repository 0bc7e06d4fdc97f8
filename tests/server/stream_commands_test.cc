// Stream commands over the wire: keyspace events, RESP3 replies, pipelines that read their own
// writes, and consumer groups surviving a restart and a kill -9 of the real binary (pending
// entries handed out again by XPENDING / XAUTOCLAIM, acknowledged ones never). Replies and
// errors are checked exhaustively by redis_compat_tests/scripts/streams.redis.
#include <string>
#include <vector>

#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

using StreamCommandsTest = ServerTest;

std::string Bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}

TEST_F(StreamCommandsTest, WritesSendRedisKeyspaceEvents) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "notify-keyspace-events", "KEA"}), "+OK");
  Client sub(port());
  ASSERT_EQ(sub.Cmd({"PSUBSCRIBE", "__keyevent@0__:*"}), "[psubscribe,__keyevent@0__:*,:1]");
  auto next = [&] { return sub.GetReply(); };
  auto ev = [](const std::string& e, const std::string& k) {
    return "[pmessage,__keyevent@0__:*,__keyevent@0__:" + e + "," + k + "]";
  };
  EXPECT_EQ(Cmd({"XADD", "s", "1-1", "f", "v"}), "1-1");
  EXPECT_EQ(next(), ev("xadd", "s"));
  EXPECT_EQ(Cmd({"XADD", "s", "MAXLEN", "0", "2-1", "f", "v"}), "2-1");
  EXPECT_EQ(next(), ev("xadd", "s"));
  EXPECT_EQ(next(), ev("xtrim", "s"));
  EXPECT_EQ(Cmd({"XADD", "s", "3-1", "f", "v"}), "3-1");
  EXPECT_EQ(next(), ev("xadd", "s"));
  EXPECT_EQ(Cmd({"XDEL", "s", "3-1"}), ":1");
  EXPECT_EQ(next(), ev("xdel", "s"));
  EXPECT_EQ(Cmd({"XGROUP", "CREATE", "s", "g", "0"}), "+OK");
  EXPECT_EQ(next(), ev("xgroup-create", "s"));
  EXPECT_EQ(Cmd({"XGROUP", "CREATECONSUMER", "s", "g", "c"}), ":1");
  EXPECT_EQ(next(), ev("xgroup-createconsumer", "s"));
  // A ">" read with nothing to deliver creates no consumer (as in Redis); a history read does.
  EXPECT_EQ(Cmd({"XREADGROUP", "GROUP", "g", "d", "STREAMS", "s", ">"}), "(nil)");
  EXPECT_EQ(Cmd({"XREADGROUP", "GROUP", "g", "d", "STREAMS", "s", "0"}), "[[s,[]]]");
  EXPECT_EQ(next(), ev("xgroup-createconsumer", "s"));
  EXPECT_EQ(Cmd({"XGROUP", "SETID", "s", "g", "0"}), "+OK");
  EXPECT_EQ(next(), ev("xgroup-setid", "s"));
  EXPECT_EQ(Cmd({"XGROUP", "DELCONSUMER", "s", "g", "c"}), ":0");
  EXPECT_EQ(next(), ev("xgroup-delconsumer", "s"));
  EXPECT_EQ(Cmd({"XGROUP", "DESTROY", "s", "g"}), ":1");
  EXPECT_EQ(next(), ev("xgroup-destroy", "s"));
  EXPECT_EQ(Cmd({"XSETID", "s", "9-9"}), "+OK");
  EXPECT_EQ(next(), ev("xsetid", "s"));
  EXPECT_EQ(Cmd({"XTRIM", "s", "MAXLEN", "0"}), ":0");  // nothing trimmed: no event
  EXPECT_EQ(Cmd({"SET", "marker", "x"}), "+OK");
  EXPECT_EQ(next(), ev("set", "marker"));
}

TEST_F(StreamCommandsTest, Resp3RepliesUseMapsWhereRedisDoes) {
  RawConnection c(port());
  ASSERT_FALSE(c.Roundtrip(EncodeCommand({"HELLO", "3"})).empty());
  EXPECT_EQ(c.Roundtrip(EncodeCommand({"XADD", "s", "1-1", "f", "v"})), Bulk("1-1"));
  std::string entry = "*2\r\n" + Bulk("1-1") + "*2\r\n" + Bulk("f") + Bulk("v");
  EXPECT_EQ(c.Roundtrip(EncodeCommand({"XREAD", "STREAMS", "s", "0"})),
            "%1\r\n" + Bulk("s") + "*1\r\n" + entry);
  EXPECT_EQ(c.Roundtrip(EncodeCommand({"XREAD", "STREAMS", "s", "$"})), "_\r\n");
  EXPECT_EQ(c.Roundtrip(EncodeCommand({"XGROUP", "CREATE", "s", "g", "0"})), "+OK\r\n");
  EXPECT_EQ(c.Roundtrip(EncodeCommand({"XINFO", "GROUPS", "s"})),
            "*1\r\n%6\r\n" + Bulk("name") + Bulk("g") + Bulk("consumers") + ":0\r\n" +
                Bulk("pending") + ":0\r\n" + Bulk("last-delivered-id") + Bulk("0-0") +
                Bulk("entries-read") + "_\r\n" + Bulk("lag") + ":1\r\n");
}

TEST_F(StreamCommandsTest, PipelinedCommandsSeeEarlierWritesOfTheSamePipeline) {
  client_->Append({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"});
  client_->Append({"XADD", "s", "1-1", "n", "1"});
  client_->Append({"XADD", "s", "2-1", "n", "2"});
  client_->Append({"XRANGE", "s", "-", "+"});
  client_->Append({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"});
  client_->Append({"XACK", "s", "g", "1-1"});
  client_->Append({"XPENDING", "s", "g"});
  client_->Append({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"});
  client_->Append({"XDEL", "s", "2-1"});
  client_->Append({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"});
  client_->Append({"XAUTOCLAIM", "s", "g", "other", "0", "0"});
  client_->Append({"XPENDING", "s", "g"});
  EXPECT_EQ(client_->GetReply(), "+OK");
  EXPECT_EQ(client_->GetReply(), "1-1");
  EXPECT_EQ(client_->GetReply(), "2-1");
  EXPECT_EQ(client_->GetReply(), "[[1-1,[n,1]],[2-1,[n,2]]]");
  EXPECT_EQ(client_->GetReply(), "[[s,[[1-1,[n,1]],[2-1,[n,2]]]]]");
  EXPECT_EQ(client_->GetReply(), ":1");
  EXPECT_EQ(client_->GetReply(), "[:1,2-1,2-1,[[c,1]]]");
  EXPECT_EQ(client_->GetReply(), "[[s,[[2-1,[n,2]]]]]");
  EXPECT_EQ(client_->GetReply(), ":1");
  EXPECT_EQ(client_->GetReply(), "[[s,[[2-1,(nil)]]]]");
  EXPECT_EQ(client_->GetReply(), "[0-0,[],[2-1]]");
  EXPECT_EQ(client_->GetReply(), "[:0,(nil),(nil),(nil)]");
}

TEST_F(StreamCommandsTest, GroupsSurviveARestart) {
  KEEL_ONLY();
  for (int i = 1; i <= 5; ++i) {
    ASSERT_EQ(Cmd({"XADD", "s", std::to_string(i) + "-0", "n", std::to_string(i)}),
              std::to_string(i) + "-0");
  }
  ASSERT_EQ(Cmd({"XGROUP", "CREATE", "s", "g", "0"}), "+OK");
  ASSERT_EQ(Cmd({"XREADGROUP", "GROUP", "g", "c", "COUNT", "3", "STREAMS", "s", ">"}),
            "[[s,[[1-0,[n,1]],[2-0,[n,2]],[3-0,[n,3]]]]]");
  ASSERT_EQ(Cmd({"XACK", "s", "g", "2-0"}), ":1");
  RestartServer();
  EXPECT_EQ(Cmd({"XPENDING", "s", "g"}), "[:2,1-0,3-0,[[c,2]]]");
  EXPECT_EQ(Cmd({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"}),
            "[[s,[[4-0,[n,4]],[5-0,[n,5]]]]]");
  EXPECT_EQ(Cmd({"XINFO", "GROUPS", "s"}),
            "[[name,g,consumers,:1,pending,:4,last-delivered-id,5-0,entries-read,:5,lag,:0]]");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "s"}), "stream");
}

TEST_F(StreamCommandsTest, DumpAndRestoreCarryTheGroupsAndWakeBlockedReaders) {
  ASSERT_EQ(Cmd({"XADD", "s", "1-1", "f", "v"}), "1-1");
  ASSERT_EQ(Cmd({"XADD", "s", "2-1", "f", "w"}), "2-1");
  ASSERT_EQ(Cmd({"XGROUP", "CREATE", "s", "g", "0"}), "+OK");
  ASSERT_EQ(Cmd({"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"}),
            "[[s,[[1-1,[f,v]]]]]");
  auto dumped = client_->Raw({"DUMP", "s"});
  ASSERT_TRUE(dumped && dumped->type == REDIS_REPLY_STRING);
  std::string payload(dumped->str, dumped->len);
  // A reader blocked on the target key is served by the RESTORE.
  RawConnection waiter(port());
  ASSERT_TRUE(waiter.Send(EncodeCommand({"XREAD", "BLOCK", "0", "STREAMS", "copy", "0"})));
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Cmd({"INFO", "clients"}).find("blocked_clients:1") != std::string::npos;
      },
      10s));
  EXPECT_EQ(Cmd({"RESTORE", "copy", "0", payload}), "+OK");
  EXPECT_NE(waiter.ReadReply().find("2-1"), std::string::npos);
  EXPECT_EQ(Cmd({"XPENDING", "copy", "g"}), "[:1,1-1,1-1,[[c,1]]]");
  EXPECT_EQ(Cmd({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "copy", ">"}),
            "[[copy,[[2-1,[f,w]]]]]");
  EXPECT_EQ(Cmd({"RESTORE", "copy", "0", payload}), "-BUSYKEY Target key name already exists.");
  EXPECT_EQ(Cmd({"RESTORE", "copy", "0", payload, "REPLACE"}), "+OK");
  EXPECT_EQ(Cmd({"XINFO", "GROUPS", "copy"}),
            "[[name,g,consumers,:1,pending,:1,last-delivered-id,1-1,entries-read,:1,lag,:1]]");
}

#ifdef KEEL_SERVER_BINARY
TEST(StreamDurabilityTest, UnacknowledgedEntriesAreHandedOutAgainAfterKillNine) {
  if (ExternalPort() != 0) GTEST_SKIP() << "runs the keel-server binary";
  TempDir data("keel-stream-durability"), logs("keel-stream-durability-log");
  constexpr int kEntries = 300;
  {
    ChildServer child(KEEL_SERVER_BINARY, data.path(), logs.path() + "/keel.log");
    ASSERT_TRUE(child.WaitReady());
    Client c(child.port());
    ASSERT_EQ(c.Cmd({"XGROUP", "CREATE", "jobs", "workers", "$", "MKSTREAM"}), "+OK");
    for (int i = 1; i <= kEntries; ++i)
      c.Append({"XADD", "jobs", std::to_string(i) + "-1", "n", std::to_string(i)});
    for (int i = 1; i <= kEntries; ++i) ASSERT_EQ(c.GetReply(), std::to_string(i) + "-1");
    // A worker takes 200 entries and acknowledges the even ones, then the server dies.
    auto r =
        c.Raw({"XREADGROUP", "GROUP", "workers", "w1", "COUNT", "200", "STREAMS", "jobs", ">"});
    ASSERT_NE(r, nullptr);
    for (int i = 2; i <= 200; i += 2)
      c.Append({"XACK", "jobs", "workers", std::to_string(i) + "-1"});
    for (int i = 2; i <= 200; i += 2) ASSERT_EQ(c.GetReply(), ":1");
    child.Kill9();
  }
  ChildServer child(KEEL_SERVER_BINARY, data.path(), logs.path() + "/keel.log");
  ASSERT_TRUE(child.WaitReady());
  Client c(child.port());
  EXPECT_EQ(c.Cmd({"XPENDING", "jobs", "workers"}), "[:100,1-1,199-1,[[w1,100]]]");
  // XAUTOCLAIM hands every odd entry of the first 200 to another worker, and nothing else.
  auto claimed =
      c.Raw({"XAUTOCLAIM", "jobs", "workers", "w2", "0", "0", "COUNT", "1000", "JUSTID"});
  ASSERT_NE(claimed, nullptr);
  ASSERT_EQ(claimed->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(claimed->elements, 3u);
  const redisReply* ids = claimed->element[1];
  ASSERT_EQ(ids->elements, 100u);
  for (size_t i = 0; i < ids->elements; ++i) {
    EXPECT_EQ(std::string(ids->element[i]->str), std::to_string(2 * i + 1) + "-1");
  }
  // The 100 never delivered come next, then nothing.
  auto rest = c.Raw({"XREADGROUP", "GROUP", "workers", "w3", "STREAMS", "jobs", ">"});
  ASSERT_NE(rest, nullptr);
  ASSERT_EQ(rest->type, REDIS_REPLY_ARRAY);
  EXPECT_EQ(rest->element[0]->element[1]->elements, 100u);
  EXPECT_EQ(c.Cmd({"XREADGROUP", "GROUP", "workers", "w3", "STREAMS", "jobs", ">"}), "(nil)");
  EXPECT_EQ(c.Cmd({"XPENDING", "jobs", "workers"}), "[:200,1-1,300-1,[[w2,100],[w3,100]]]");
}
#endif

}  // namespace
}  // namespace keel::server::test
