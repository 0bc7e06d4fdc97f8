// Pub/Sub over the wire: SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE and their UNSUBSCRIBEs, PUBLISH,
// SPUBLISH, PUBSUB introspection, Redis's glob patterns, the RESP2 subscribed context, RESP3
// pushes interleaved with replies, and the pubsub output-buffer limit that disconnects a
// slow subscriber without ever blocking the publisher. Every expectation holds against
// redis-server too (KEEL_TEST_REDIS_PORT), except the ones marked KEEL_ONLY.
#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

class PubSubTest : public ServerTest {
 protected:
  void TearDown() override {
    // Limits changed by a test must not leak into the next one in external mode.
    if (external()) {
      auto c = NewClient();
      c->Cmd({"CONFIG", "SET", "client-output-buffer-limit",
              "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"});
    }
    ServerTest::TearDown();
  }
};

// The messages a RESP2 subscriber has received so far: everything before the reply to a
// PING sent now (in the subscribed context PING replies [pong, <argument>]).
std::vector<std::string> Drain(Client& sub) {
  sub.Append({"PING", "drain-marker"});
  std::vector<std::string> out;
  for (;;) {
    std::string r = sub.GetReply();
    if (r == "[pong,drain-marker]" || r.rfind("(io error", 0) == 0) break;
    out.push_back(r);
  }
  return out;
}

using Messages = std::vector<std::string>;

// ------------------------------------------------------------------ subscribing

TEST_F(PubSubTest, SubscribeConfirmsEachChannelWithTheRunningCount) {
  client_->Append({"SUBSCRIBE", "a", "b", "a"});
  EXPECT_EQ(client_->GetReply(), "[subscribe,a,:1]");
  EXPECT_EQ(client_->GetReply(), "[subscribe,b,:2]");
  EXPECT_EQ(client_->GetReply(), "[subscribe,a,:2]");  // already subscribed: counted once
}

TEST_F(PubSubTest, PatternsAndChannelsShareOneCountButShardChannelsHaveTheirOwn) {
  EXPECT_EQ(Cmd({"SUBSCRIBE", "a"}), "[subscribe,a,:1]");
  EXPECT_EQ(Cmd({"PSUBSCRIBE", "p*"}), "[psubscribe,p*,:2]");
  EXPECT_EQ(Cmd({"SSUBSCRIBE", "s"}), "[ssubscribe,s,:1]");
  EXPECT_EQ(Cmd({"UNSUBSCRIBE", "a"}), "[unsubscribe,a,:1]");
  EXPECT_EQ(Cmd({"PUNSUBSCRIBE", "p*"}), "[punsubscribe,p*,:0]");
  EXPECT_EQ(Cmd({"SUNSUBSCRIBE", "s"}), "[sunsubscribe,s,:0]");
}

TEST_F(PubSubTest, UnsubscribeWithoutArgumentsLeavesEveryChannel) {
  client_->Append({"SUBSCRIBE", "a", "b"});
  EXPECT_EQ(client_->GetReply(), "[subscribe,a,:1]");
  EXPECT_EQ(client_->GetReply(), "[subscribe,b,:2]");
  client_->Append({"UNSUBSCRIBE"});
  // In some order (Redis's is its hash table's): one of them with 1 left, then the other.
  std::string first = client_->GetReply(), second = client_->GetReply();
  EXPECT_TRUE((first == "[unsubscribe,a,:1]" && second == "[unsubscribe,b,:0]") ||
              (first == "[unsubscribe,b,:1]" && second == "[unsubscribe,a,:0]"))
      << first << " " << second;
  EXPECT_EQ(Cmd({"GET", "k"}), "(nil)");  // out of the subscribed context
}

TEST_F(PubSubTest, UnsubscribeWhenSubscribedToNothingRepliesWithANullChannel) {
  EXPECT_EQ(Cmd({"UNSUBSCRIBE"}), "[unsubscribe,(nil),:0]");
  EXPECT_EQ(Cmd({"PUNSUBSCRIBE"}), "[punsubscribe,(nil),:0]");
  EXPECT_EQ(Cmd({"SUNSUBSCRIBE"}), "[sunsubscribe,(nil),:0]");
  EXPECT_EQ(Cmd({"UNSUBSCRIBE", "never"}), "[unsubscribe,never,:0]");
}

TEST_F(PubSubTest, SubscribeCommandsCheckTheirArity) {
  EXPECT_EQ(Cmd({"SUBSCRIBE"}), "-ERR wrong number of arguments for 'subscribe' command");
  EXPECT_EQ(Cmd({"PSUBSCRIBE"}), "-ERR wrong number of arguments for 'psubscribe' command");
  EXPECT_EQ(Cmd({"SSUBSCRIBE"}), "-ERR wrong number of arguments for 'ssubscribe' command");
  EXPECT_EQ(Cmd({"PUBLISH", "ch"}), "-ERR wrong number of arguments for 'publish' command");
  EXPECT_EQ(Cmd({"SPUBLISH", "ch"}), "-ERR wrong number of arguments for 'spublish' command");
}

// ------------------------------------------------------------------ publishing

TEST_F(PubSubTest, PublishReturnsTheNumberOfReceivingSubscriptions) {
  auto sub1 = NewClient();
  auto sub2 = NewClient();
  EXPECT_EQ(sub1->Cmd({"SUBSCRIBE", "news"}), "[subscribe,news,:1]");
  EXPECT_EQ(sub2->Cmd({"SUBSCRIBE", "news"}), "[subscribe,news,:1]");
  EXPECT_EQ(sub2->Cmd({"PSUBSCRIBE", "n*"}), "[psubscribe,n*,:2]");
  EXPECT_EQ(Cmd({"PUBLISH", "news", "hi"}), ":3");  // sub2 counts twice
  EXPECT_EQ(Cmd({"PUBLISH", "nope", "x"}), ":1");
  EXPECT_EQ(Cmd({"PUBLISH", "other", "x"}), ":0");
  EXPECT_EQ(Drain(*sub1), (Messages{"[message,news,hi]"}));
  EXPECT_EQ(Drain(*sub2),
            (Messages{"[message,news,hi]", "[pmessage,n*,news,hi]", "[pmessage,n*,nope,x]"}));
}

TEST_F(PubSubTest, SubscriberReceivesMessagesInPublishOrder) {
  auto sub = NewClient();
  EXPECT_EQ(sub->Cmd({"SUBSCRIBE", "ch"}), "[subscribe,ch,:1]");
  Messages expected;
  for (int i = 0; i < 200; ++i) {
    client_->Append({"PUBLISH", "ch", std::to_string(i)});
    expected.push_back("[message,ch," + std::to_string(i) + "]");
  }
  for (int i = 0; i < 200; ++i) ASSERT_EQ(client_->GetReply(), ":1");
  EXPECT_EQ(Drain(*sub), expected);
}

TEST_F(PubSubTest, MessagesAreBinarySafe) {
  auto sub = NewClient();
  std::string channel("c\0h\r\n", 5);
  std::string payload("\x00\xff\r\n$3\r\n", 9);
  EXPECT_EQ(sub->Cmd({"SUBSCRIBE", channel}), "[subscribe," + channel + ",:1]");
  EXPECT_EQ(Cmd({"PUBLISH", channel, payload}), ":1");
  EXPECT_EQ(Drain(*sub), (Messages{"[message," + channel + "," + payload + "]"}));
}

TEST_F(PubSubTest, UnsubscribedChannelReceivesNothingMore) {
  auto sub = NewClient();
  EXPECT_EQ(sub->Cmd({"SUBSCRIBE", "ch"}), "[subscribe,ch,:1]");
  EXPECT_EQ(sub->Cmd({"UNSUBSCRIBE", "ch"}), "[unsubscribe,ch,:0]");
  EXPECT_EQ(Cmd({"PUBLISH", "ch", "late"}), ":0");
}

TEST_F(PubSubTest, ClosedSubscriberIsForgotten) {
  {
    auto sub = NewClient();
    EXPECT_EQ(sub->Cmd({"SUBSCRIBE", "ch"}), "[subscribe,ch,:1]");
    EXPECT_EQ(sub->Cmd({"PSUBSCRIBE", "c*"}), "[psubscribe,c*,:2]");
  }
  EXPECT_TRUE(WaitUntil([&] { return Cmd({"PUBSUB", "NUMSUB", "ch"}) == "[ch,:0]"; }));
  EXPECT_TRUE(WaitUntil([&] { return Cmd({"PUBSUB", "NUMPAT"}) == ":0"; }));
  EXPECT_EQ(Cmd({"PUBLISH", "ch", "x"}), ":0");
}

TEST_F(PubSubTest, ShardChannelsAreSeparateFromChannels) {
  auto sub = NewClient();
  EXPECT_EQ(sub->Cmd({"SSUBSCRIBE", "s"}), "[ssubscribe,s,:1]");
  EXPECT_EQ(Cmd({"PUBLISH", "s", "plain"}), ":0");
  EXPECT_EQ(Cmd({"SPUBLISH", "s", "sharded"}), ":1");
  EXPECT_EQ(Drain(*sub), (Messages{"[smessage,s,sharded]"}));
  auto psub = NewClient();
  EXPECT_EQ(psub->Cmd({"PSUBSCRIBE", "*"}), "[psubscribe,*,:1]");
  EXPECT_EQ(Cmd({"SPUBLISH", "s", "again"}), ":1");  // patterns never see shard messages
  EXPECT_EQ(Drain(*psub), Messages{});
}

// ------------------------------------------------------------------ glob patterns

TEST_F(PubSubTest, PatternsMatchChannelsLikeRedisGlobs) {
  struct Case {
    std::string pattern, channel;
    bool match;
  };
  const std::vector<Case> cases = {
      {"*", "", false},  // Redis: '*' needs at least one character to look at
      {"*", "anything", true},
      {"h?llo", "hello", true},
      {"h?llo", "hllo", false},
      {"h*llo", "hllo", true},
      {"h*llo", "heeeello", true},
      {"h[ae]llo", "hallo", true},
      {"h[ae]llo", "hillo", false},
      {"h[^e]llo", "hallo", true},
      {"h[^e]llo", "hello", false},
      {"h[a-c]llo", "hbllo", true},
      {"h[a-c]llo", "hdllo", false},
      {"h[c-a]llo", "hbllo", true},
      {"h\\*llo", "h*llo", true},
      {"h\\*llo", "hello", false},
      {"a[", "a[", false},
      {"a[", "a", false},
      {"a[\\]]", "a]", true},
      {"x", "X", false},
      {"", "", true},
      {"", "a", false},
      {"news.*", "news.art", true},
      {"*.*", "nodot", false},
      {"a*b*c", "aXXbYYc", true},
  };
  auto pub = NewClient();
  for (const auto& c : cases) {
    auto sub = NewClient();
    ASSERT_EQ(sub->Cmd({"PSUBSCRIBE", c.pattern}), "[psubscribe," + c.pattern + ",:1]");
    EXPECT_EQ(pub->Cmd({"PUBLISH", c.channel, "m"}), c.match ? ":1" : ":0")
        << "pattern '" << c.pattern << "' channel '" << c.channel << "'";
    if (c.match) {
      EXPECT_EQ(Drain(*sub), (Messages{"[pmessage," + c.pattern + "," + c.channel + ",m]"}));
    }
    // Gone before the next case publishes (a closed connection is cleaned up asynchronously).
    EXPECT_EQ(sub->Cmd({"PUNSUBSCRIBE", c.pattern}), "[punsubscribe," + c.pattern + ",:0]");
  }
}

TEST_F(PubSubTest, TheEmptyPatternDeliversPmessagesThatNameIt) {
  auto sub = NewClient();
  EXPECT_EQ(sub->Cmd({"PSUBSCRIBE", ""}), "[psubscribe,,:1]");
  EXPECT_EQ(Cmd({"PUBLISH", "", "e"}), ":1");
  EXPECT_EQ(Drain(*sub), (Messages{"[pmessage,,,e]"}));
}

// ------------------------------------------------------------------ PUBSUB introspection

TEST_F(PubSubTest, PubsubNumsubCountsChannelSubscribersOnly) {
  auto a = NewClient();
  auto b = NewClient();
  EXPECT_EQ(a->Cmd({"SUBSCRIBE", "x"}), "[subscribe,x,:1]");
  EXPECT_EQ(b->Cmd({"SUBSCRIBE", "x"}), "[subscribe,x,:1]");
  EXPECT_EQ(b->Cmd({"PSUBSCRIBE", "x*"}), "[psubscribe,x*,:2]");
  EXPECT_EQ(Cmd({"PUBSUB", "NUMSUB", "x", "y"}), "[x,:2,y,:0]");
  EXPECT_EQ(Cmd({"PUBSUB", "NUMSUB"}), "[]");
}

TEST_F(PubSubTest, PubsubNumpatCountsDistinctPatterns) {
  auto a = NewClient();
  auto b = NewClient();
  EXPECT_EQ(a->Cmd({"PSUBSCRIBE", "p*"}), "[psubscribe,p*,:1]");
  EXPECT_EQ(b->Cmd({"PSUBSCRIBE", "p*"}), "[psubscribe,p*,:1]");
  EXPECT_EQ(b->Cmd({"PSUBSCRIBE", "q*"}), "[psubscribe,q*,:2]");
  EXPECT_EQ(Cmd({"PUBSUB", "NUMPAT"}), ":2");
  EXPECT_EQ(Cmd({"PUBSUB", "NUMPAT", "extra"}),
            "-ERR wrong number of arguments for 'pubsub|numpat' command");
}

TEST_F(PubSubTest, PubsubChannelsListsActiveChannelsMatchingAPattern) {
  auto a = NewClient();
  a->Append({"SUBSCRIBE", "news.it", "news.art", "sport"});
  for (int i = 0; i < 3; ++i) a->GetReply();
  EXPECT_EQ(a->Cmd({"PSUBSCRIBE", "news.*"}), "[psubscribe,news.*,:4]");
  auto sorted = [&](const std::vector<std::string>& argv) {
    auto reply = client_->Raw(argv);
    std::vector<std::string> names;
    for (size_t i = 0; reply && i < reply->elements; ++i) {
      names.emplace_back(reply->element[i]->str, reply->element[i]->len);
    }
    std::sort(names.begin(), names.end());
    return names;
  };
  EXPECT_EQ(sorted({"PUBSUB", "CHANNELS"}), (Messages{"news.art", "news.it", "sport"}));
  EXPECT_EQ(sorted({"PUBSUB", "CHANNELS", "news.*"}), (Messages{"news.art", "news.it"}));
  EXPECT_EQ(sorted({"PUBSUB", "CHANNELS", ""}), Messages{});
  EXPECT_EQ(Cmd({"PUBSUB", "CHANNELS", "a", "b"}),
            "-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB "
            "HELP.");
  EXPECT_EQ(Cmd({"PUBSUB", "shardchannels", "a", "b"}),
            "-ERR unknown subcommand or wrong number of arguments for 'shardchannels'. Try "
            "PUBSUB HELP.");
}

TEST_F(PubSubTest, PubsubShardchannelsAndShardnumsubSeeOnlyShardSubscriptions) {
  auto a = NewClient();
  EXPECT_EQ(a->Cmd({"SSUBSCRIBE", "s1"}), "[ssubscribe,s1,:1]");
  auto b = NewClient();
  EXPECT_EQ(b->Cmd({"SUBSCRIBE", "c1"}), "[subscribe,c1,:1]");
  EXPECT_EQ(Cmd({"PUBSUB", "SHARDCHANNELS"}), "[s1]");
  EXPECT_EQ(Cmd({"PUBSUB", "SHARDCHANNELS", "c*"}), "[]");
  EXPECT_EQ(Cmd({"PUBSUB", "SHARDNUMSUB", "s1", "c1"}), "[s1,:1,c1,:0]");
  EXPECT_EQ(Cmd({"PUBSUB", "CHANNELS"}), "[c1]");
}

TEST_F(PubSubTest, PubsubWithoutOrWithAnUnknownSubcommandIsAnError) {
  EXPECT_EQ(Cmd({"PUBSUB"}), "-ERR wrong number of arguments for 'pubsub' command");
  EXPECT_EQ(Cmd({"PUBSUB", "nope"}), "-ERR unknown subcommand 'nope'. Try PUBSUB HELP.");
}

// ------------------------------------------------------------------ RESP2 subscribed context

TEST_F(PubSubTest, Resp2SubscribedConnectionRefusesOtherCommands) {
  EXPECT_EQ(Cmd({"SUBSCRIBE", "ch"}), "[subscribe,ch,:1]");
  const std::string tail =
      "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
      "context";
  EXPECT_EQ(Cmd({"GET", "k"}), "-ERR Can't execute 'get" + tail);
  EXPECT_EQ(Cmd({"ECHO", "x"}), "-ERR Can't execute 'echo" + tail);
  EXPECT_EQ(Cmd({"CLIENT", "ID"}), "-ERR Can't execute 'client|id" + tail);
  EXPECT_EQ(Cmd({"HELLO", "3"}), "-ERR Can't execute 'hello" + tail);
  EXPECT_EQ(Cmd({"PUBLISH", "ch", "x"}), "-ERR Can't execute 'publish" + tail);
}

TEST_F(PubSubTest, Resp2SubscribedConnectionAnswersPingWithAnArray) {
  EXPECT_EQ(Cmd({"PSUBSCRIBE", "x"}), "[psubscribe,x,:1]");
  EXPECT_EQ(Cmd({"PING"}), "[pong,]");
  EXPECT_EQ(Cmd({"PING", "hello"}), "[pong,hello]");
  EXPECT_EQ(Cmd({"PING", "a", "b"}), "-ERR wrong number of arguments for 'ping' command");
}

TEST_F(PubSubTest, ShardSubscriptionAloneIsASubscribedContext) {
  EXPECT_EQ(Cmd({"SSUBSCRIBE", "s"}), "[ssubscribe,s,:1]");
  EXPECT_EQ(Cmd({"GET", "k"}).rfind("-ERR Can't execute 'get'", 0), 0u);
  EXPECT_EQ(Cmd({"SUNSUBSCRIBE"}), "[sunsubscribe,s,:0]");
  EXPECT_EQ(Cmd({"GET", "k"}), "(nil)");
}

TEST_F(PubSubTest, ResetLeavesTheSubscribedContext) {
  EXPECT_EQ(Cmd({"SUBSCRIBE", "ch"}), "[subscribe,ch,:1]");
  EXPECT_EQ(Cmd({"RESET"}), "+RESET");
  EXPECT_EQ(Cmd({"GET", "k"}), "(nil)");
  EXPECT_EQ(Cmd({"PUBSUB", "NUMSUB", "ch"}), "[ch,:0]");
}

TEST_F(PubSubTest, QuitIsAllowedInTheSubscribedContext) {
  RawConnection raw(port());
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"SUBSCRIBE", "ch"})),
            "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"QUIT"})), "+OK\r\n");
  EXPECT_TRUE(raw.WaitForClose());
}

// ------------------------------------------------------------------ RESP3

TEST_F(PubSubTest, Resp3ConfirmationsAndMessagesArePushes) {
  RawConnection raw(port());
  ASSERT_FALSE(raw.Roundtrip(EncodeCommand({"HELLO", "3"})).empty());
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"SUBSCRIBE", "ch"})),
            ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"PSUBSCRIBE", "c*"})),
            ">3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:2\r\n");
  EXPECT_EQ(Cmd({"PUBLISH", "ch", "m"}), ":2");
  EXPECT_EQ(raw.ReadReply(), ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n");
  EXPECT_EQ(raw.ReadReply(), ">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$1\r\nm\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"UNSUBSCRIBE"})),
            ">3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:1\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"UNSUBSCRIBE"})),
            ">3\r\n$11\r\nunsubscribe\r\n_\r\n:1\r\n");
}

TEST_F(PubSubTest, Resp3SubscribedConnectionRunsOrdinaryCommands) {
  RawConnection raw(port());
  ASSERT_FALSE(raw.Roundtrip(EncodeCommand({"HELLO", "3"})).empty());
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"SUBSCRIBE", "ch"})),
            ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"SET", "k", "v"})), "+OK\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"GET", "k"})), "$1\r\nv\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"PING"})), "+PONG\r\n");
}

TEST_F(PubSubTest, Resp3PublishToItsOwnChannelPushesTheMessageBeforeTheReply) {
  RawConnection raw(port());
  ASSERT_FALSE(raw.Roundtrip(EncodeCommand({"HELLO", "3"})).empty());
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"SUBSCRIBE", "ch"})),
            ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
  ASSERT_TRUE(raw.Send(EncodeCommand({"PUBLISH", "ch", "self"}) + EncodeCommand({"GET", "k"})));
  EXPECT_EQ(raw.ReadReplies(3),
            ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$4\r\nself\r\n"
            ":1\r\n"
            "_\r\n");
}

TEST_F(PubSubTest, Resp3MessagesFromOthersArriveBetweenReplies) {
  RawConnection raw(port());
  ASSERT_FALSE(raw.Roundtrip(EncodeCommand({"HELLO", "3"})).empty());
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"SUBSCRIBE", "ch"})),
            ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
  EXPECT_EQ(Cmd({"PUBLISH", "ch", "x"}), ":1");
  // The push was sent before this command was read: it comes first, the reply whole after.
  ASSERT_TRUE(raw.Send(EncodeCommand({"ECHO", "after"})));
  EXPECT_EQ(raw.ReadReplies(2),
            ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\n"
            "$5\r\nafter\r\n");
}

// ------------------------------------------------------------------ output-buffer limits

TEST_F(PubSubTest, ClientOutputBufferLimitForPubsubIsConfigurable) {
  EXPECT_EQ(Cmd({"CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 256kb 5"}), "+OK");
  EXPECT_EQ(Cmd({"CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 256kb"}),
            "-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') "
            "- Wrong number of arguments in buffer limit configuration.");
}

TEST_F(PubSubTest, SubscriberThatNeverReadsIsDisconnectedAtTheHardLimit) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 0 0"}), "+OK");
  RawConnection slow(port());
  ASSERT_EQ(slow.Roundtrip(EncodeCommand({"SUBSCRIBE", "firehose"})),
            "*3\r\n$9\r\nsubscribe\r\n$8\r\nfirehose\r\n:1\r\n");
  // From now on `slow` reads nothing. 64 MB go out in 64 KB messages: far more than the
  // limit plus what the kernel's socket buffers can hold.
  const std::string payload(64 << 10, 'x');
  auto pub = NewClient();
  int delivered = 0;
  for (int i = 0; i < 1024; ++i) {
    std::string r = pub->Cmd({"PUBLISH", "firehose", payload});
    ASSERT_TRUE(r == ":1" || r == ":0") << r;  // the publisher never blocks or fails
    delivered += r == ":1";
  }
  EXPECT_LT(delivered, 1024);
  EXPECT_TRUE(WaitUntil([&] { return Cmd({"PUBSUB", "NUMSUB", "firehose"}) == "[firehose,:0]"; }));
  EXPECT_TRUE(slow.WaitForClose(10s));
  EXPECT_EQ(pub->Cmd({"PING"}), "+PONG");
}

TEST_F(PubSubTest, SubscriberOverTheSoftLimitIsDisconnectedOnlyAfterItsSeconds) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 512kb 2"}), "+OK");
  RawConnection slow(port());
  ASSERT_EQ(slow.Roundtrip(EncodeCommand({"SUBSCRIBE", "ch"})),
            "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
  const std::string payload(64 << 10, 'y');
  auto pub = NewClient();
  // Well past the soft limit (and the socket buffers), but for less than its two seconds.
  for (int i = 0; i < 160; ++i) ASSERT_EQ(pub->Cmd({"PUBLISH", "ch", payload}), ":1");
  EXPECT_EQ(Cmd({"PUBSUB", "NUMSUB", "ch"}), "[ch,:1]");
  // Still over it more than two seconds later: the next message closes the connection.
  std::this_thread::sleep_for(2200ms);
  for (int i = 0; i < 20; ++i) pub->Cmd({"PUBLISH", "ch", payload});
  EXPECT_TRUE(WaitUntil([&] { return Cmd({"PUBSUB", "NUMSUB", "ch"}) == "[ch,:0]"; }));
  EXPECT_TRUE(slow.WaitForClose(10s));
}

TEST_F(PubSubTest, NormalClientsAreNotSubjectToThePubsubLimit) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "client-output-buffer-limit", "pubsub 64kb 0 0"}), "+OK");
  std::string big(256 << 10, 'z');
  EXPECT_EQ(Cmd({"SET", "big", big}), "+OK");
  EXPECT_EQ(Cmd({"GET", "big"}), big);
  // Once it leaves the subscribed context a client is a normal client again.
  EXPECT_EQ(Cmd({"SUBSCRIBE", "ch"}), "[subscribe,ch,:1]");
  EXPECT_EQ(Cmd({"UNSUBSCRIBE", "ch"}), "[unsubscribe,ch,:0]");
  EXPECT_EQ(Cmd({"GET", "big"}), big);
}

}  // namespace
}  // namespace keel::server::test
