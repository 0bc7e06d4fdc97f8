// Set commands over the wire: pipelines reading pending writes, SSCAN cursors, the STORE forms
// inside MULTI, RESP3 set replies and keyspace events. Everything holds against real Redis
// too (KEEL_TEST_REDIS_PORT).
#include <set>
#include <string>
#include <vector>

#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

class SetCommandsTest : public ServerTest {
 protected:
  std::unique_ptr<Client> ListenEvents(const std::string& classes) {
    EXPECT_EQ(Cmd({"CONFIG", "SET", "notify-keyspace-events", classes}), "+OK");
    auto sub = NewClient();
    EXPECT_EQ(sub->Cmd({"PSUBSCRIBE", "__keyevent@0__:*"}), "[psubscribe,__keyevent@0__:*,:1]");
    return sub;
  }
  static std::vector<std::string> Events(Client& sub, size_t n) {
    std::vector<std::string> out;
    WaitUntil([&] {
      sub.Append({"PING", "end"});
      for (;;) {
        std::string r = sub.GetReply();
        if (r == "[pong,end]" || r.rfind("(io error", 0) == 0) break;
        const std::string prefix = "[pmessage,__keyevent@0__:*,__keyevent@0__:";
        std::string rest = r.substr(prefix.size(), r.size() - prefix.size() - 1);
        out.push_back(rest.substr(0, rest.find(',')) + " " + rest.substr(rest.find(',') + 1));
      }
      return out.size() >= n;
    });
    return out;
  }
  void TearDown() override {
    if (external()) NewClient()->Cmd({"CONFIG", "SET", "notify-keyspace-events", ""});
    ServerTest::TearDown();
  }
};

TEST_F(SetCommandsTest, APipelineReadsTheMembersItsEarlierCommandsWrote) {
  client_->Append({"SADD", "s", "3", "1", "2"});
  client_->Append({"SMEMBERS", "s"});
  client_->Append({"SINTERSTORE", "d", "s", "s"});
  client_->Append({"SUNION", "d", "s"});
  client_->Append({"SREM", "s", "1", "2", "3"});
  client_->Append({"SMEMBERS", "s"});
  EXPECT_EQ(client_->GetReply(), ":3");
  EXPECT_EQ(client_->GetReply(), "[1,2,3]");
  EXPECT_EQ(client_->GetReply(), ":3");
  EXPECT_EQ(client_->GetReply(), "[1,2,3]");
  EXPECT_EQ(client_->GetReply(), ":3");
  EXPECT_EQ(client_->GetReply(), "[]");
}

TEST_F(SetCommandsTest, StoreCommandsInMultiSeeEarlierCommands) {
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"SADD", "a", "x", "y"}), "+QUEUED");
  EXPECT_EQ(Cmd({"SADD", "b", "y", "z"}), "+QUEUED");
  EXPECT_EQ(Cmd({"SDIFFSTORE", "d", "a", "b"}), "+QUEUED");
  EXPECT_EQ(Cmd({"SMEMBERS", "d"}), "+QUEUED");
  EXPECT_EQ(Cmd({"SMOVE", "a", "b", "x"}), "+QUEUED");
  EXPECT_EQ(Cmd({"SCARD", "b"}), "+QUEUED");
  EXPECT_EQ(Cmd({"EXEC"}), "[:2,:2,:1,[x],:1,:3]");
}

TEST_F(SetCommandsTest, SscanCursorsWalkAHashtableWithoutMissingAMember) {
  std::vector<std::string> argv = {"SADD", "s"};
  for (int i = 0; i < 1500; ++i) argv.push_back("m" + std::to_string(i));
  EXPECT_EQ(Cmd(argv), ":1500");
  std::set<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    auto reply = client_->Raw({"SSCAN", "s", cursor, "MATCH", "m1*", "COUNT", "50"});
    ASSERT_TRUE(reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2);
    cursor = std::string(reply->element[0]->str, reply->element[0]->len);
    for (size_t i = 0; i < reply->element[1]->elements; ++i) {
      seen.insert(reply->element[1]->element[i]->str);
    }
    ++calls;
  } while (cursor != "0" && calls < 10000);
  EXPECT_EQ(seen.size(), 611u);  // m1, m10-m19, m100-m199, m1000-m1499
}

TEST_F(SetCommandsTest, Resp3RepliesMembersAsASet) {
  EXPECT_EQ(Cmd({"SADD", "s", "2", "1"}), ":2");
  RawConnection raw(port());
  ASSERT_TRUE(raw.connected());
  ASSERT_FALSE(raw.Roundtrip(EncodeCommand({"HELLO", "3"})).empty());
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"SMEMBERS", "s"})), "~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"SINTER", "s", "nokey"})), "~0\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"SRANDMEMBER", "s", "5"})),
            "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"SPOP", "s", "0"})), "~0\r\n");
}

TEST_F(SetCommandsTest, WritesPublishRedisKeyspaceEvents) {
  auto sub = ListenEvents("Esg");
  EXPECT_EQ(Cmd({"SADD", "a", "1", "2"}), ":2");
  EXPECT_EQ(Cmd({"SADD", "a", "1"}), ":0");
  EXPECT_EQ(Cmd({"SMOVE", "a", "b", "1"}), ":1");
  EXPECT_EQ(Cmd({"SUNIONSTORE", "c", "a", "b"}), ":2");
  EXPECT_EQ(Cmd({"SINTERSTORE", "c", "a", "b"}), ":0");
  EXPECT_EQ(Cmd({"SREM", "a", "2"}), ":1");
  EXPECT_EQ(Cmd({"SPOP", "b"}), "1");
  std::vector<std::string> want = {"sadd a", "srem a", "sadd b", "sunionstore c", "del c",
                                   "srem a", "del a",  "spop b", "del b"};
  EXPECT_EQ(Events(*sub, want.size()), want);
}

}  // namespace
}  // namespace keel::server::test
