// List commands over the wire: keyspace events (names and order as Redis 7.0 sends them),
// WATCH invalidation, pipelined writes read back in the same batch, constant-time ends on a
// long list, and lists surviving a restart. Replies are checked exhaustively by the compat
// scripts (redis_compat_tests/scripts/lists.redis); these tests cover what those cannot.
#include <chrono>
#include <string>
#include <vector>

#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

using ListCommandsTest = ServerTest;

// A client subscribed to every keyevent of db 0.
class EventListener {
 public:
  explicit EventListener(uint16_t port) : c_(port) {
    EXPECT_EQ(c_.Cmd({"PSUBSCRIBE", "__keyevent@0__:*"}), "[psubscribe,__keyevent@0__:*,:1]");
  }
  // The next event as "event key".
  std::string Next() {
    std::string m = c_.GetReply();  // [pmessage,pattern,__keyevent@0__:<event>,<key>]
    const std::string prefix = "[pmessage,__keyevent@0__:*,__keyevent@0__:";
    if (m.rfind(prefix, 0) != 0) return m;
    std::string rest = m.substr(prefix.size(), m.size() - prefix.size() - 1);
    size_t comma = rest.find(',');
    return rest.substr(0, comma) + " " + rest.substr(comma + 1);
  }

 private:
  Client c_;
};

TEST_F(ListCommandsTest, WritesSendRedisKeyspaceEventsInRedisOrder) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "notify-keyspace-events", "KEA"}), "+OK");
  EventListener events(port());
  EXPECT_EQ(Cmd({"RPUSH", "src", "a", "b"}), ":2");
  EXPECT_EQ(events.Next(), "rpush src");
  EXPECT_EQ(Cmd({"LMOVE", "src", "dst", "LEFT", "RIGHT"}), "a");
  EXPECT_EQ(events.Next(), "rpush dst");
  EXPECT_EQ(events.Next(), "lpop src");
  EXPECT_EQ(Cmd({"RPOPLPUSH", "src", "dst"}), "b");
  EXPECT_EQ(events.Next(), "lpush dst");
  EXPECT_EQ(events.Next(), "rpop src");
  EXPECT_EQ(events.Next(), "del src");
  EXPECT_EQ(Cmd({"LINSERT", "dst", "BEFORE", "a", "x"}), ":3");
  EXPECT_EQ(events.Next(), "linsert dst");
  EXPECT_EQ(Cmd({"LSET", "dst", "0", "y"}), "+OK");
  EXPECT_EQ(events.Next(), "lset dst");
  EXPECT_EQ(Cmd({"LREM", "dst", "0", "nothing"}), ":0");  // no event
  EXPECT_EQ(Cmd({"LREM", "dst", "1", "y"}), ":1");
  EXPECT_EQ(events.Next(), "lrem dst");
  EXPECT_EQ(Cmd({"LTRIM", "dst", "0", "0"}), "+OK");
  EXPECT_EQ(events.Next(), "ltrim dst");
  EXPECT_EQ(Cmd({"LPUSHX", "nothing", "a"}), ":0");  // no event
  EXPECT_EQ(Cmd({"LPOP", "dst", "5"}), "[x]");
  EXPECT_EQ(events.Next(), "lpop dst");
  EXPECT_EQ(events.Next(), "del dst");
  EXPECT_EQ(Cmd({"RPUSH", "m", "1"}), ":1");
  EXPECT_EQ(events.Next(), "rpush m");
  EXPECT_EQ(Cmd({"LMPOP", "2", "none", "m", "RIGHT"}), "[m,[1]]");
  EXPECT_EQ(events.Next(), "rpop m");
  EXPECT_EQ(events.Next(), "del m");
}

TEST_F(ListCommandsTest, AListWriteInvalidatesAWatch) {
  EXPECT_EQ(Cmd({"RPUSH", "l", "a"}), ":1");
  EXPECT_EQ(Cmd({"WATCH", "l"}), "+OK");
  auto other = NewClient();
  EXPECT_EQ(other->Cmd({"LPOP", "l"}), "a");
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"RPUSH", "l", "b"}), "+QUEUED");
  EXPECT_EQ(Cmd({"EXEC"}), "(nil)");
  EXPECT_EQ(Cmd({"EXISTS", "l"}), ":0");
}

TEST_F(ListCommandsTest, PipelinedCommandsSeeEarlierWritesOfTheSamePipeline) {
  client_->Append({"RPUSH", "l", "a", "b", "c", "d"});
  client_->Append({"LRANGE", "l", "0", "-1"});
  client_->Append({"LINSERT", "l", "AFTER", "b", "x"});
  client_->Append({"LREM", "l", "0", "c"});
  client_->Append({"LRANGE", "l", "0", "-1"});
  client_->Append({"LPOS", "l", "d"});
  client_->Append({"LTRIM", "l", "1", "-1"});
  client_->Append({"LMOVE", "l", "l2", "LEFT", "LEFT"});
  client_->Append({"LRANGE", "l", "0", "-1"});
  client_->Append({"LRANGE", "l2", "0", "-1"});
  EXPECT_EQ(client_->GetReply(), ":4");
  EXPECT_EQ(client_->GetReply(), "[a,b,c,d]");
  EXPECT_EQ(client_->GetReply(), ":5");
  EXPECT_EQ(client_->GetReply(), ":1");
  EXPECT_EQ(client_->GetReply(), "[a,b,x,d]");
  EXPECT_EQ(client_->GetReply(), ":3");
  EXPECT_EQ(client_->GetReply(), "+OK");
  EXPECT_EQ(client_->GetReply(), "b");
  EXPECT_EQ(client_->GetReply(), "[x,d]");
  EXPECT_EQ(client_->GetReply(), "[b]");
}

// A long list through the server (the cost per push/pop is checked structurally in
// tests/datatypes/list_test.cc, and measured by bench/queues_bench.sh).
TEST_F(ListCommandsTest, PushAndPopWorkAtBothEndsOfALongList) {
  constexpr int kLong = 200000;
  constexpr int kOps = 2000;
  for (int i = 0; i < kLong; i += 1000) {
    std::vector<std::string> argv{"RPUSH", "long"};
    for (int j = 0; j < 1000; ++j) argv.push_back(std::to_string(i + j));
    client_->Append(argv);
  }
  for (int i = 0; i < kLong; i += 1000) client_->GetReply();
  EXPECT_EQ(Cmd({"LLEN", "long"}), ":" + std::to_string(kLong));
  EXPECT_EQ(Cmd({"LINDEX", "long", "100000"}), "100000");
  EXPECT_EQ(Cmd({"LSET", "long", "-1", "last"}), "+OK");
  EXPECT_EQ(Cmd({"LRANGE", "long", "-2", "-1"}), "[199998,last]");
  for (int i = 0; i < kOps; ++i) {
    client_->Append({"LPUSH", "long", "x"});
    client_->Append({"RPOP", "long"});
  }
  for (int i = 0; i < 2 * kOps; ++i) client_->GetReply();
  // Each LPUSH x / RPOP pair rotated one element out at the tail.
  EXPECT_EQ(Cmd({"LINDEX", "long", "100000"}), std::to_string(100000 - kOps));
  EXPECT_EQ(Cmd({"LLEN", "long"}), ":" + std::to_string(kLong));
}

TEST_F(ListCommandsTest, ListsSurviveARestart) {
  KEEL_ONLY();
  EXPECT_EQ(Cmd({"RPUSH", "l", "a", "b", "c"}), ":3");
  EXPECT_EQ(Cmd({"LPUSH", "l", "z"}), ":4");
  EXPECT_EQ(Cmd({"LPOP", "l"}), "z");
  EXPECT_EQ(Cmd({"LINSERT", "l", "BEFORE", "c", "x"}), ":4");
  RestartServer();
  EXPECT_EQ(Cmd({"LRANGE", "l", "0", "-1"}), "[a,b,x,c]");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "l"}), "quicklist");
  EXPECT_EQ(Cmd({"LPUSH", "l", "first"}), ":5");
  EXPECT_EQ(Cmd({"LINDEX", "l", "0"}), "first");
}

}  // namespace
}  // namespace keel::server::test
