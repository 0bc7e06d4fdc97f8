// Keyspace notifications: notify-keyspace-events parsing and its canonical CONFIG GET form,
// the class filter, Redis 7.0's exact event names on __keyspace@<db>__:<key> and
// __keyevent@<db>__:<event>, events of transactions, and "expired" from the active expiry
// cycle and from lazy access. Every expectation holds against redis-server too
// (KEEL_TEST_REDIS_PORT).
#include <chrono>
#include <initializer_list>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

using Events = std::vector<std::string>;

class NotificationsTest : public ServerTest {
 protected:
  void TearDown() override {
    if (external()) NewClient()->Cmd({"CONFIG", "SET", "notify-keyspace-events", ""});
    ServerTest::TearDown();
  }

  // Enables `classes` and subscribes a fresh client to every keyspace/keyevent channel.
  std::unique_ptr<Client> Listen(const std::string& classes) {
    EXPECT_EQ(Cmd({"CONFIG", "SET", "notify-keyspace-events", classes}), "+OK");
    auto sub = NewClient();
    EXPECT_EQ(sub->Cmd({"PSUBSCRIBE", "__key*__:*"}), "[psubscribe,__key*__:*,:1]");
    return sub;
  }

  // What `sub` received so far, each pmessage as "<channel> <payload>".
  static Events Received(Client& sub) {
    sub.Append({"PING", "marker"});
    Events out;
    for (;;) {
      std::string text = sub.GetReply();
      if (text == "[pong,marker]" || text.rfind("(io error", 0) == 0) break;
      // [pmessage,__key*__:*,<channel>,<payload>]
      const std::string prefix = "[pmessage,__key*__:*,";
      if (text.rfind(prefix, 0) != 0) {
        out.push_back("unexpected: " + text);
        continue;
      }
      std::string rest = text.substr(prefix.size(), text.size() - prefix.size() - 1);
      size_t comma = rest.rfind(',');
      out.push_back(rest.substr(0, comma) + " " + rest.substr(comma + 1));
    }
    return out;
  }

  // Waits until `sub` has received `n` more events (or 5 s passed); returns all of them.
  static Events ReceivedAtLeast(Client& sub, size_t n) {
    Events out;
    WaitUntil([&] {
      Events more = Received(sub);
      out.insert(out.end(), more.begin(), more.end());
      return out.size() >= n;
    });
    return out;
  }
};

// One event as the keyspace and keyevent messages Redis sends for it, in that order.
Events Event(const std::string& event, const std::string& key, int db = 0) {
  std::string d = std::to_string(db);
  return {"__keyspace@" + d + "__:" + key + " " + event,
          "__keyevent@" + d + "__:" + event + " " + key};
}

Events Concat(std::initializer_list<Events> parts) {
  Events out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// ------------------------------------------------------------------ configuration

TEST_F(NotificationsTest, ConfigGetShowsTheEventClassesInRedisCanonicalForm) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"KEA", "AKE"}, {"Kgx$n", "g$xnK"},    {"Am", "Am"}, {"AKEmn", "AKEm"},
      {"", ""},       {"lshzxetd$gK", "AK"}, {"Ex", "xE"}, {"EKd", "dKE"},
      {"AA", "A"},    {"mK", "Km"},          {"E", "E"},   {"tzeK", "zetK"},
  };
  for (const auto& [in, out] : cases) {
    ASSERT_EQ(Cmd({"CONFIG", "SET", "notify-keyspace-events", in}), "+OK") << in;
    EXPECT_EQ(Cmd({"CONFIG", "GET", "notify-keyspace-events"}),
              "[notify-keyspace-events," + out + "]")
        << "set " << in;
  }
}

TEST_F(NotificationsTest, ConfigSetRejectsAnUnknownEventClassAndKeepsTheOldValue) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "notify-keyspace-events", "KE$"}), "+OK");
  EXPECT_EQ(Cmd({"CONFIG", "SET", "notify-keyspace-events", "KEq"}),
            "-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - "
            "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
  EXPECT_EQ(Cmd({"CONFIG", "GET", "notify-keyspace-events"}), "[notify-keyspace-events,$KE]");
}

TEST_F(NotificationsTest, NothingIsPublishedWhileNotificationsAreOff) {
  auto sub = Listen("");
  EXPECT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"DEL", "k"}), ":1");
  EXPECT_EQ(Received(*sub), Events{});
}

TEST_F(NotificationsTest, ClassesWithoutKOrENeverPublish) {
  auto sub = Listen("A");
  EXPECT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Received(*sub), Events{});
}

TEST_F(NotificationsTest, KAloneUsesOnlyTheKeyspaceChannel) {
  auto sub = Listen("K$");
  EXPECT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Received(*sub), Events{"__keyspace@0__:k set"});
}

TEST_F(NotificationsTest, EAloneUsesOnlyTheKeyeventChannel) {
  auto sub = Listen("E$");
  EXPECT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Received(*sub), Events{"__keyevent@0__:set k"});
}

TEST_F(NotificationsTest, OnlyTheEnabledClassesPublish) {
  auto sub = Listen("KEl");
  EXPECT_EQ(Cmd({"SET", "k", "v"}), "+OK");      // $: off
  EXPECT_EQ(Cmd({"LPUSH", "l", "a"}), ":1");     // l: on
  EXPECT_EQ(Cmd({"EXPIRE", "l", "100"}), ":1");  // g: off
  EXPECT_EQ(Received(*sub), Event("lpush", "l"));
}

// ------------------------------------------------------------------ event names

TEST_F(NotificationsTest, StringCommandsPublishRedisEventNames) {
  auto sub = Listen("KEA");
  EXPECT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"APPEND", "k", "x"}), ":2");
  EXPECT_EQ(Cmd({"SETRANGE", "k", "0", "z"}), ":2");
  EXPECT_EQ(Cmd({"INCR", "n"}), ":1");
  EXPECT_EQ(Cmd({"DECRBY", "n", "3"}), ":-2");  // Redis names INCR, DECR, DECRBY "incrby"
  EXPECT_EQ(Cmd({"INCRBYFLOAT", "n", "1.5"}), "-0.5");
  EXPECT_EQ(Cmd({"SETEX", "se", "100", "v"}), "+OK");
  EXPECT_EQ(Cmd({"MSET", "m1", "1", "m2", "2"}), "+OK");
  EXPECT_EQ(Cmd({"GETDEL", "m1"}), "1");
  EXPECT_EQ(Cmd({"GETEX", "m2", "PX", "100000"}), "2");
  EXPECT_EQ(Cmd({"GETEX", "m2", "PERSIST"}), "2");
  EXPECT_EQ(Cmd({"SETBIT", "b", "3", "1"}), ":0");
  EXPECT_EQ(
      Received(*sub),
      Concat({Event("set", "k"), Event("append", "k"), Event("setrange", "k"), Event("incrby", "n"),
              Event("incrby", "n"), Event("incrbyfloat", "n"), Event("set", "se"),
              Event("expire", "se"), Event("set", "m1"), Event("set", "m2"), Event("del", "m1"),
              Event("expire", "m2"), Event("persist", "m2"), Event("setbit", "b")}));
}

TEST_F(NotificationsTest, GenericCommandsPublishRedisEventNames) {
  auto sub = Listen("KEA");
  EXPECT_EQ(Cmd({"MSET", "a", "1", "b", "2", "c", "3"}), "+OK");
  ASSERT_EQ(Received(*sub).size(), 6u);
  EXPECT_EQ(Cmd({"EXPIRE", "a", "100"}), ":1");
  EXPECT_EQ(Cmd({"PERSIST", "a"}), ":1");
  EXPECT_EQ(Cmd({"RENAME", "a", "a2"}), "+OK");
  EXPECT_EQ(Cmd({"COPY", "b", "b2"}), ":1");
  EXPECT_EQ(Cmd({"MOVE", "b2", "1"}), ":1");
  EXPECT_EQ(Cmd({"EXPIRE", "c", "0"}), ":1");
  EXPECT_EQ(Cmd({"DEL", "a2", "b", "missing"}), ":2");
  EXPECT_EQ(Received(*sub),
            Concat({Event("expire", "a"), Event("persist", "a"), Event("rename_from", "a"),
                    Event("rename_to", "a2"), Event("copy_to", "b2"), Event("move_from", "b2"),
                    Event("move_to", "b2", 1), Event("del", "c"), Event("del", "a2"),
                    Event("del", "b")}));
}

TEST_F(NotificationsTest, ListAndStreamCommandsPublishRedisEventNames) {
  auto sub = Listen("KEA");
  EXPECT_EQ(Cmd({"RPUSH", "l", "a", "b"}), ":2");
  EXPECT_EQ(Cmd({"LPOP", "l"}), "a");
  EXPECT_EQ(Cmd({"RPOP", "l"}), "b");  // empties the list: del too
  EXPECT_EQ(Cmd({"XADD", "s", "1-1", "f", "v"}), "1-1");
  EXPECT_EQ(Received(*sub), Concat({Event("rpush", "l"), Event("lpop", "l"), Event("rpop", "l"),
                                    Event("del", "l"), Event("xadd", "s")}));
}

TEST_F(NotificationsTest, EventsNameTheDatabaseOfTheKey) {
  auto sub = Listen("KEA");
  EXPECT_EQ(Cmd({"SELECT", "7"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Received(*sub), Event("set", "k", 7));
}

TEST_F(NotificationsTest, CommandsThatChangeNothingOrFailPublishNothing) {
  EXPECT_EQ(Cmd({"SET", "k", "text"}), "+OK");
  auto sub = Listen("KEA");
  EXPECT_EQ(Cmd({"INCR", "k"}), "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"SET", "k", "v", "NX"}), "(nil)");
  EXPECT_EQ(Cmd({"DEL", "missing"}), ":0");
  EXPECT_EQ(Cmd({"PERSIST", "k"}), ":0");
  EXPECT_EQ(Cmd({"GET", "k"}), "text");
  EXPECT_EQ(Cmd({"LPUSH", "k", "x"}),
            "-WRONGTYPE Operation against a key holding the wrong kind of value");
  EXPECT_EQ(Received(*sub), Events{});
}

TEST_F(NotificationsTest, KeysAndPayloadsAreBinarySafe) {
  auto sub = Listen("KE$");
  std::string key("a\0b\r\n", 5);
  EXPECT_EQ(Cmd({"SET", key, "v"}), "+OK");
  EXPECT_EQ(Received(*sub), Event("set", key));
}

TEST_F(NotificationsTest, TransactionPublishesItsEventsInCommandOrder) {
  auto sub = Listen("KEA");
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "t", "1"}), "+QUEUED");
  EXPECT_EQ(Cmd({"INCRBY", "t", "4"}), "+QUEUED");
  EXPECT_EQ(Cmd({"INCR", "nonint-later"}), "+QUEUED");
  EXPECT_EQ(Cmd({"DEL", "t"}), "+QUEUED");
  EXPECT_EQ(Cmd({"EXEC"}), "[+OK,:5,:1,:1]");
  EXPECT_EQ(Received(*sub), Concat({Event("set", "t"), Event("incrby", "t"),
                                    Event("incrby", "nonint-later"), Event("del", "t")}));
}

TEST_F(NotificationsTest, DiscardedTransactionPublishesNothing) {
  auto sub = Listen("KEA");
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "t", "1"}), "+QUEUED");
  EXPECT_EQ(Cmd({"DISCARD"}), "+OK");
  EXPECT_EQ(Received(*sub), Events{});
}

// ------------------------------------------------------------------ expiry

TEST_F(NotificationsTest, ExpiredIsPublishedWhenTheExpiryCycleRemovesAKey) {
  auto sub = Listen("KEx");
  EXPECT_EQ(Cmd({"SET", "k", "v", "PX", "50"}), "+OK");  // 'x' only: no set/expire events
  EXPECT_EQ(ReceivedAtLeast(*sub, 2), Event("expired", "k"));
  EXPECT_EQ(Cmd({"EXISTS", "k"}), ":0");
}

TEST_F(NotificationsTest, ExpiredIsPublishedWhenAReadFindsTheKeyExpired) {
  auto sub = Listen("KEx");
  EXPECT_EQ(Cmd({"SET", "k", "v", "PX", "20"}), "+OK");
  std::this_thread::sleep_for(40ms);
  EXPECT_EQ(Cmd({"GET", "k"}), "(nil)");
  EXPECT_EQ(ReceivedAtLeast(*sub, 2), Event("expired", "k"));
}

TEST_F(NotificationsTest, ExpiredComesBeforeTheWriteThatReplacesAnExpiredKey) {
  auto sub = Listen("KEA");
  EXPECT_EQ(Cmd({"SET", "k", "v", "PX", "20"}), "+OK");
  ASSERT_EQ(Received(*sub), Concat({Event("set", "k"), Event("expire", "k")}));
  std::this_thread::sleep_for(40ms);
  EXPECT_EQ(Cmd({"SET", "k", "new"}), "+OK");
  EXPECT_EQ(ReceivedAtLeast(*sub, 4), Concat({Event("expired", "k"), Event("set", "k")}));
}

TEST_F(NotificationsTest, ExpireInThePastDeletesAndPublishesDel) {
  EXPECT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  auto sub = Listen("KEA");
  EXPECT_EQ(Cmd({"PEXPIREAT", "k", "1"}), ":1");
  EXPECT_EQ(Received(*sub), Event("del", "k"));
}

// ------------------------------------------------------------ new and keymiss

// A key creation publishes "new" before the command's own event.
TEST_F(NotificationsTest, NewKeyEventIsPublishedBeforeTheWriteThatCreatesTheKey) {
  auto sub = Listen("KEn$");
  EXPECT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "v2"}), "+OK");
  EXPECT_EQ(Received(*sub), Concat({Event("new", "k"), Event("set", "k"), Event("set", "k")}));
}

// A read that finds no key publishes "keymiss".
TEST_F(NotificationsTest, KeyMissEventIsPublishedWhenAReadFindsNoKey) {
  auto sub = Listen("KEm");
  EXPECT_EQ(Cmd({"GET", "missing"}), "(nil)");
  EXPECT_EQ(Received(*sub), Event("keymiss", "missing"));
}

// ------------------------------------------------------------------ known gaps

// Keel publishes a write's events after its group commit, so a RESP3 client that listens to
// the keys it writes gets the push after the reply; Redis sends it before.
TEST_F(NotificationsTest, Resp3WriterListeningToItsOwnKeyGetsTheEventBeforeTheReply) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "notify-keyspace-events", "KE$"}), "+OK");
  RawConnection raw(port());
  ASSERT_FALSE(raw.Roundtrip(EncodeCommand({"HELLO", "3"})).empty());
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"SUBSCRIBE", "__keyevent@0__:set"})),
            ">3\r\n$9\r\nsubscribe\r\n$18\r\n__keyevent@0__:set\r\n:1\r\n");
  ASSERT_TRUE(raw.Send(EncodeCommand({"SET", "k", "v"})));
  EXPECT_EQ(raw.ReadReplies(2),
            ">3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:set\r\n$1\r\nk\r\n+OK\r\n");
}

TEST_F(NotificationsTest, Resp3PipelinedAndTransactionWritesGetEachEventBeforeItsReply) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "notify-keyspace-events", "KE$g"}), "+OK");
  RawConnection raw(port());
  ASSERT_FALSE(raw.Roundtrip(EncodeCommand({"HELLO", "3"})).empty());
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"PSUBSCRIBE", "__keyevent@0__:*"})),
            ">3\r\n$10\r\npsubscribe\r\n$16\r\n__keyevent@0__:*\r\n:1\r\n");
  auto push = [](const std::string& event, const std::string& key) {
    std::string channel = "__keyevent@0__:" + event;
    return ">4\r\n$8\r\npmessage\r\n$16\r\n__keyevent@0__:*\r\n$" + std::to_string(channel.size()) +
           "\r\n" + channel + "\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n";
  };
  // A pipeline: one group commit, the events still interleave with the replies (SET and
  // DEL publish before replying).
  ASSERT_TRUE(raw.Send(EncodeCommand({"SET", "a", "1"}) + EncodeCommand({"GET", "a"}) +
                       EncodeCommand({"SET", "b", "2"}) + EncodeCommand({"DEL", "a", "b"})));
  std::string expected = push("set", "a") + "+OK\r\n$1\r\n1\r\n" + push("set", "b") + "+OK\r\n" +
                         push("del", "a") + push("del", "b") + ":2\r\n";
  EXPECT_EQ(raw.ReadBytes(expected.size()), expected);
  // Inside EXEC each command's events go where Redis writes them, inside the EXEC array.
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"MULTI"})), "+OK\r\n");
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"SET", "c", "3"})), "+QUEUED\r\n");
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"EXPIRE", "c", "100"})), "+QUEUED\r\n");
  ASSERT_TRUE(raw.Send(EncodeCommand({"EXEC"})));
  // SET publishes before replying, EXPIRE replies first (as Redis orders them).
  expected = "*2\r\n" + push("set", "c") + "+OK\r\n:1\r\n" + push("expire", "c");
  EXPECT_EQ(raw.ReadBytes(expected.size()), expected);
}

}  // namespace
}  // namespace keel::server::test
