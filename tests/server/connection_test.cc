// Connection commands over the wire: PING ECHO QUIT HELLO AUTH SELECT CLIENT RESET, with Redis
// 7.0's exact replies and errors.
#include <algorithm>
#include <cstdlib>
#include <set>
#include <string>

#include "datatypes/glob.h"
#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

using ConnectionCommandsTest = ServerTest;

const std::string kNoAuth = "-NOAUTH Authentication required.";
const std::string kWrongPass = "-WRONGPASS invalid username-password pair or user is disabled.";

// HELLO's reply in RESP2 (a flat array) for client `id` speaking `proto`.
std::string HelloReply(int proto, const std::string& id) {
  return "[server,redis,version,7.0.15,proto,:" + std::to_string(proto) + ",id," + id +
         ",mode,standalone,role,master,modules,[]]";
}

// ------------------------------------------------------------------ PING ECHO QUIT

TEST_F(ConnectionCommandsTest, PingReturnsPongOrItsArgument) {
  EXPECT_EQ(Cmd({"PING"}), "+PONG");
  EXPECT_EQ(Cmd({"ping", "hello world"}), "hello world");
  EXPECT_EQ(Cmd({"PING", std::string("a\0b", 3)}), std::string("a\0b", 3));
}

TEST_F(ConnectionCommandsTest, PingWithTwoArgumentsIsAnArityError) {
  EXPECT_EQ(Cmd({"PING", "a", "b"}), "-ERR wrong number of arguments for 'ping' command");
}

TEST_F(ConnectionCommandsTest, EchoReturnsItsArgument) {
  EXPECT_EQ(Cmd({"ECHO", "hi"}), "hi");
  EXPECT_EQ(Cmd({"ECHO", ""}), "");
  EXPECT_EQ(Cmd({"ECHO"}), "-ERR wrong number of arguments for 'echo' command");
  EXPECT_EQ(Cmd({"ECHO", "a", "b"}), "-ERR wrong number of arguments for 'echo' command");
}

TEST_F(ConnectionCommandsTest, QuitRepliesOkAndClosesTheConnection) {
  RawConnection raw(port());
  ASSERT_TRUE(raw.connected());
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"QUIT"})), "+OK\r\n");
  EXPECT_TRUE(raw.WaitForClose());
}

TEST_F(ConnectionCommandsTest, QuitIgnoresExtraArgumentsAndStopsThePipeline) {
  RawConnection raw(port());
  std::string data;
  ASSERT_TRUE(raw.Send(EncodeCommand({"QUIT", "extra"}) + EncodeCommand({"SET", "after", "1"})));
  EXPECT_TRUE(raw.WaitForClose(10s, &data));
  EXPECT_EQ(data, "+OK\r\n");
  EXPECT_EQ(Cmd({"EXISTS", "after"}), ":0");
}

// ------------------------------------------------------------------ HELLO

TEST_F(ConnectionCommandsTest, HelloWithoutArgumentsDescribesTheConnection) {
  std::string id = Cmd({"CLIENT", "ID"});
  EXPECT_EQ(Cmd({"HELLO"}), HelloReply(2, id));
  EXPECT_EQ(Cmd({"HELLO", "2"}), HelloReply(2, id));
}

TEST_F(ConnectionCommandsTest, Hello3SwitchesTheConnectionToResp3) {
  RawConnection raw(port());
  std::string hello = raw.Roundtrip(EncodeCommand({"HELLO", "3"}));
  EXPECT_EQ(hello.substr(0, 4), "%7\r\n") << hello;
  EXPECT_NE(hello.find("$5\r\nproto\r\n:3\r\n"), std::string::npos) << hello;
  EXPECT_NE(hello.find("$7\r\nversion\r\n$6\r\n7.0.15\r\n"), std::string::npos) << hello;
  EXPECT_NE(hello.find("$7\r\nmodules\r\n*0\r\n"), std::string::npos) << hello;
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"GET", "missing"})), "_\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"CONFIG", "GET", "databases"})),
            "%1\r\n$9\r\ndatabases\r\n$2\r\n16\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"PING"})), "+PONG\r\n");
  // And back to RESP2.
  std::string hello2 = raw.Roundtrip(EncodeCommand({"HELLO", "2"}));
  EXPECT_EQ(hello2.substr(0, 5), "*14\r\n") << hello2;
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"GET", "missing"})), "$-1\r\n");
}

TEST_F(ConnectionCommandsTest, HelloRejectsUnsupportedProtocolVersions) {
  EXPECT_EQ(Cmd({"HELLO", "4"}), "-NOPROTO unsupported protocol version");
  EXPECT_EQ(Cmd({"HELLO", "1"}), "-NOPROTO unsupported protocol version");
  EXPECT_EQ(Cmd({"HELLO", "abc"}), "-ERR Protocol version is not an integer or out of range");
}

TEST_F(ConnectionCommandsTest, HelloRejectsBadOptionsAndKeepsTheProtocol) {
  EXPECT_EQ(Cmd({"HELLO", "3", "foo"}), "-ERR Syntax error in HELLO option 'foo'");
  EXPECT_EQ(Cmd({"HELLO", "3", "setname"}), "-ERR Syntax error in HELLO option 'setname'");
  EXPECT_EQ(Cmd({"HELLO", "3", "AUTH", "default"}), "-ERR Syntax error in HELLO option 'AUTH'");
  EXPECT_EQ(Cmd({"HELLO", "2", "SETNAME", "a b"}),
            "-ERR Client names cannot contain spaces, newlines or special characters.");
  EXPECT_EQ(Cmd({"GET", "missing"}), "(nil)");  // still RESP2: hiredis 0.14 cannot read RESP3
}

TEST_F(ConnectionCommandsTest, HelloSetNameNamesTheConnection) {
  std::string id = Cmd({"CLIENT", "ID"});
  EXPECT_EQ(Cmd({"HELLO", "2", "SETNAME", "worker-1"}), HelloReply(2, id));
  EXPECT_EQ(Cmd({"CLIENT", "GETNAME"}), "worker-1");
}

TEST_F(ConnectionCommandsTest, HelloAuthWithoutPasswordConfiguredAcceptsAnyPassword) {
  std::string id = Cmd({"CLIENT", "ID"});
  EXPECT_EQ(Cmd({"HELLO", "2", "AUTH", "default", "anything"}), HelloReply(2, id));
  EXPECT_EQ(Cmd({"HELLO", "2", "AUTH", "nobody", "anything"}), kWrongPass);
}

// ------------------------------------------------------------------ AUTH

TEST_F(ConnectionCommandsTest, AuthWithoutAConfiguredPasswordIsAnError) {
  EXPECT_EQ(Cmd({"AUTH", "foo"}),
            "-ERR AUTH <password> called without any password configured for the default user. "
            "Are you sure your configuration is correct?");
  EXPECT_EQ(Cmd({"AUTH", "default", "foo"}), "+OK");
  EXPECT_EQ(Cmd({"AUTH", "a", "b", "c"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"AUTH"}), "-ERR wrong number of arguments for 'auth' command");
}

TEST_F(ConnectionCommandsTest, RequirePassDemandsAuthBeforeCommands) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  ASSERT_EQ(Cmd({"CONFIG", "SET", "requirepass", kTestPassword}), "+OK");
  EXPECT_EQ(Cmd({"GET", "k"}), "v");  // connections made before stay authenticated
  auto c = NewClient();
  EXPECT_EQ(c->Cmd({"GET", "k"}), kNoAuth);
  EXPECT_EQ(c->Cmd({"PING"}), kNoAuth);
  EXPECT_EQ(c->Cmd({"CLIENT", "ID"}), kNoAuth);
  EXPECT_EQ(c->Cmd({"SELECT", "1"}), kNoAuth);
  EXPECT_EQ(c->Cmd({"AUTH", "wrong"}), kWrongPass);
  EXPECT_EQ(c->Cmd({"AUTH", "someone", kTestPassword}), kWrongPass);
  EXPECT_EQ(c->Cmd({"GET", "k"}), kNoAuth);
  EXPECT_EQ(c->Cmd({"AUTH", kTestPassword}), "+OK");
  EXPECT_EQ(c->Cmd({"GET", "k"}), "v");
  auto d = NewClient();
  EXPECT_EQ(d->Cmd({"AUTH", "default", kTestPassword}), "+OK");
  EXPECT_EQ(d->Cmd({"PING"}), "+PONG");
}

TEST_F(ConnectionCommandsTest, UnknownCommandsAreReportedBeforeNoAuth) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "requirepass", kTestPassword}), "+OK");
  auto c = NewClient();
  EXPECT_EQ(c->Cmd({"FOO", "bar"}), "-ERR unknown command 'FOO', with args beginning with: 'bar' ");
  EXPECT_EQ(c->Cmd({"GET"}), "-ERR wrong number of arguments for 'get' command");
}

TEST_F(ConnectionCommandsTest, HelloNeedsAuthenticationOrAnAuthOption) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "requirepass", kTestPassword}), "+OK");
  auto c = NewClient();
  const std::string noauth =
      "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
      "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "
      "protocol version at the same time";
  EXPECT_EQ(c->Cmd({"HELLO", "2"}), noauth);
  EXPECT_EQ(c->Cmd({"HELLO"}), noauth);
  EXPECT_EQ(c->Cmd({"HELLO", "2", "AUTH", "default", "wrong"}), kWrongPass);
  std::string reply = c->Cmd({"HELLO", "2", "AUTH", "default", kTestPassword});
  EXPECT_EQ(reply.substr(0, 15), "[server,redis,v") << reply;
  EXPECT_EQ(c->Cmd({"PING"}), "+PONG");
}

TEST_F(ConnectionCommandsTest, QuitAndAuthWorkWithoutAuthentication) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "requirepass", kTestPassword}), "+OK");
  RawConnection raw(port());
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"QUIT"})), "+OK\r\n");
  EXPECT_TRUE(raw.WaitForClose());
}

TEST_F(ConnectionCommandsTest, ResetDropsAuthenticationWhenAPasswordIsSet) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "requirepass", kTestPassword}), "+OK");
  auto c = NewClient();
  ASSERT_EQ(c->Cmd({"AUTH", kTestPassword}), "+OK");
  EXPECT_EQ(c->Cmd({"RESET"}), "+RESET");
  EXPECT_EQ(c->Cmd({"PING"}), kNoAuth);
}

TEST_F(ConnectionCommandsTest, UnauthenticatedClientsHaveSmallProtocolLimits) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "requirepass", kTestPassword}), "+OK");
  {
    RawConnection raw(port());
    std::string data;
    ASSERT_TRUE(raw.Send("*11\r\n"));
    EXPECT_TRUE(raw.WaitForClose(10s, &data));
    EXPECT_EQ(data, "-ERR Protocol error: unauthenticated multibulk length\r\n");
  }
  {
    RawConnection raw(port());
    std::string data;
    ASSERT_TRUE(raw.Send("*2\r\n$16385\r\n"));
    EXPECT_TRUE(raw.WaitForClose(10s, &data));
    EXPECT_EQ(data, "-ERR Protocol error: unauthenticated bulk length\r\n");
  }
  {
    // After AUTH the normal limits apply on the same connection.
    RawConnection raw(port());
    EXPECT_EQ(raw.Roundtrip(EncodeCommand({"AUTH", kTestPassword})), "+OK\r\n");
    std::vector<std::string> argv = {"MSET"};
    for (int i = 0; i < 10; ++i) {
      argv.push_back("k" + std::to_string(i));
      argv.push_back("v");
    }
    argv.push_back("big");
    argv.push_back(std::string(20000, 'v'));  // 23 arguments, one bulk over 16 KB
    EXPECT_EQ(raw.Roundtrip(EncodeCommand(argv)), "+OK\r\n");
  }
}

// ------------------------------------------------------------------ SELECT

TEST_F(ConnectionCommandsTest, SelectSwitchesTheDatabase) {
  ASSERT_EQ(Cmd({"SET", "k", "zero"}), "+OK");
  EXPECT_EQ(Cmd({"SELECT", "15"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "k"}), "(nil)");
  ASSERT_EQ(Cmd({"SET", "k", "fifteen"}), "+OK");
  EXPECT_EQ(Cmd({"SELECT", "0"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "k"}), "zero");
}

TEST_F(ConnectionCommandsTest, SelectRejectsBadIndexes) {
  EXPECT_EQ(Cmd({"SELECT", "16"}), "-ERR DB index is out of range");
  EXPECT_EQ(Cmd({"SELECT", "-1"}), "-ERR DB index is out of range");
  EXPECT_EQ(Cmd({"SELECT", "x"}), "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"SELECT", "1.5"}), "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"SELECT"}), "-ERR wrong number of arguments for 'select' command");
}

TEST_F(ConnectionCommandsTest, SelectIsPerConnection) {
  ASSERT_EQ(Cmd({"SELECT", "3"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "k", "three"}), "+OK");
  auto other = NewClient();
  EXPECT_EQ(other->Cmd({"GET", "k"}), "(nil)");
}

// ------------------------------------------------------------------ CLIENT

TEST_F(ConnectionCommandsTest, ClientIdIsUniqueAndIncreasing) {
  std::string a = Cmd({"CLIENT", "ID"});
  auto other = NewClient();
  std::string b = other->Cmd({"CLIENT", "ID"});
  ASSERT_EQ(a[0], ':');
  ASSERT_EQ(b[0], ':');
  EXPECT_GT(std::atoll(b.c_str() + 1), std::atoll(a.c_str() + 1));
  EXPECT_EQ(Cmd({"CLIENT", "ID"}), a);
}

TEST_F(ConnectionCommandsTest, ClientSetNameAndGetName) {
  EXPECT_EQ(Cmd({"CLIENT", "GETNAME"}), "(nil)");
  EXPECT_EQ(Cmd({"CLIENT", "SETNAME", "my-conn"}), "+OK");
  EXPECT_EQ(Cmd({"CLIENT", "GETNAME"}), "my-conn");
  EXPECT_EQ(Cmd({"CLIENT", "SETNAME", ""}), "+OK");
  EXPECT_EQ(Cmd({"CLIENT", "GETNAME"}), "(nil)");
}

TEST_F(ConnectionCommandsTest, ClientSetNameRejectsSpacesAndSpecialCharacters) {
  const std::string err =
      "-ERR Client names cannot contain spaces, newlines or special characters.";
  EXPECT_EQ(Cmd({"CLIENT", "SETNAME", "a b"}), err);
  EXPECT_EQ(Cmd({"CLIENT", "SETNAME", "a\nb"}), err);
  EXPECT_EQ(Cmd({"CLIENT", "SETNAME", "\x7f"}), err);
  EXPECT_EQ(Cmd({"CLIENT", "GETNAME"}), "(nil)");
  EXPECT_EQ(Cmd({"CLIENT", "SETNAME"}),
            "-ERR wrong number of arguments for 'client|setname' command");
}

// The value of `name=` in a CLIENT LIST / CLIENT INFO line ("?" if absent).
std::string ClientField(const std::string& line, const std::string& name) {
  size_t at = line.find(" " + name + "=");
  if (at == std::string::npos) return "?";
  at += name.size() + 2;
  return line.substr(at, line.find_first_of(" \n", at) - at);
}

TEST_F(ConnectionCommandsTest, ClientListShowsEveryConnectionInRedisFieldOrder) {
  ASSERT_EQ(Cmd({"CLIENT", "SETNAME", "lister"}), "+OK");
  auto other = NewClient();
  ASSERT_EQ(other->Cmd({"CLIENT", "SETNAME", "other"}), "+OK");
  ASSERT_EQ(other->Cmd({"SELECT", "4"}), "+OK");
  std::string list = Cmd({"CLIENT", "LIST"});
  // Redis glob rather than <regex> (GCC 12 -Wmaybe-uninitialized false positives in <regex>
  // break the -Werror ASan build).
  const std::string line_glob =
      "id=[0-9]* addr=127.0.0.1:[0-9]* laddr=127.0.0.1:[0-9]* fd=[0-9]* name=* age=[0-9]* "
      "idle=[0-9]* flags=N db=[0-9]* sub=0 psub=0 ssub=0 multi=-1 qbuf=[0-9]* "
      "qbuf-free=[0-9]* argv-mem=[0-9]* multi-mem=0 rbs=[0-9]* rbp=[0-9]* obl=0 oll=0 "
      "omem=[0-9]* tot-mem=[0-9]* events=r cmd=* user=default redir=-1 resp=2";
  std::set<std::string> seen;
  size_t lines = 0;
  for (size_t at = 0; at < list.size();) {
    size_t end = list.find('\n', at);
    ASSERT_NE(end, std::string::npos) << list;
    std::string line = list.substr(at, end - at);
    EXPECT_TRUE(GlobMatch(line_glob, line)) << line;
    seen.insert(ClientField(" " + line, "name") + "/" + ClientField(line, "db") + "/" +
                ClientField(line, "cmd"));
    ++lines;
    at = end + 1;
  }
  EXPECT_GE(lines, 2u) << list;
  EXPECT_TRUE(seen.count("lister/0/client|list")) << list;
  EXPECT_TRUE(seen.count("other/4/select")) << list;
}

TEST_F(ConnectionCommandsTest, ClientListFiltersById) {
  std::string id = Cmd({"CLIENT", "ID"}).substr(1);
  auto other = NewClient();
  std::string list = Cmd({"CLIENT", "LIST", "ID", id});
  EXPECT_EQ(list.rfind("id=" + id + " ", 0), 0u) << list;
  EXPECT_EQ(std::count(list.begin(), list.end(), '\n'), 1) << list;
  EXPECT_EQ(Cmd({"CLIENT", "LIST", "ID", "999999"}), "");
  EXPECT_EQ(Cmd({"CLIENT", "LIST", "ID", "abc"}), "-ERR Invalid client ID");
  EXPECT_EQ(Cmd({"CLIENT", "LIST", "ID", "0"}), "");
}

TEST_F(ConnectionCommandsTest, ClientListRejectsBadOptions) {
  EXPECT_EQ(Cmd({"CLIENT", "LIST", "TYPE", "foo"}), "-ERR Unknown client type 'foo'");
  EXPECT_EQ(Cmd({"CLIENT", "LIST", "foo"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"CLIENT", "LIST", "TYPE", "pubsub"}), "");
  EXPECT_NE(Cmd({"CLIENT", "LIST", "TYPE", "normal"}), "");
}

TEST_F(ConnectionCommandsTest, ClientListCountsSubscriptionsAndFlagsSubscribersLikeRedis) {
  auto sub = NewClient();
  std::string id = sub->Cmd({"CLIENT", "ID"}).substr(1);
  sub->Append({"SUBSCRIBE", "a", "b"});
  ASSERT_EQ(sub->GetReply(), "[subscribe,a,:1]");
  ASSERT_EQ(sub->GetReply(), "[subscribe,b,:2]");
  ASSERT_EQ(sub->Cmd({"PSUBSCRIBE", "p*"}), "[psubscribe,p*,:3]");
  ASSERT_EQ(sub->Cmd({"SSUBSCRIBE", "s"}), "[ssubscribe,s,:1]");
  std::string line = Cmd({"CLIENT", "LIST", "ID", id});
  EXPECT_EQ(ClientField(line, "flags"), "P") << line;
  EXPECT_EQ(ClientField(line, "sub"), "2") << line;
  EXPECT_EQ(ClientField(line, "psub"), "1") << line;
  EXPECT_EQ(ClientField(line, "ssub"), "1") << line;
  EXPECT_EQ(ClientField(line, "multi"), "-1") << line;
  // A subscriber is a pubsub client, not a normal one.
  EXPECT_NE(Cmd({"CLIENT", "LIST", "TYPE", "pubsub"}).find("id=" + id + " "), std::string::npos);
  EXPECT_EQ(Cmd({"CLIENT", "LIST", "TYPE", "normal"}).find("id=" + id + " "), std::string::npos);

  ASSERT_EQ(sub->Cmd({"SUNSUBSCRIBE", "s"}), "[sunsubscribe,s,:0]");
  ASSERT_EQ(sub->Cmd({"PUNSUBSCRIBE", "p*"}), "[punsubscribe,p*,:2]");
  ASSERT_EQ(sub->Cmd({"UNSUBSCRIBE", "a"}), "[unsubscribe,a,:1]");
  line = Cmd({"CLIENT", "LIST", "ID", id});
  EXPECT_EQ(
      ClientField(line, "sub") + "/" + ClientField(line, "psub") + "/" + ClientField(line, "ssub"),
      "1/0/0")
      << line;
  ASSERT_EQ(sub->Cmd({"UNSUBSCRIBE", "b"}), "[unsubscribe,b,:0]");
  line = Cmd({"CLIENT", "LIST", "ID", id});
  EXPECT_EQ(ClientField(line, "flags"), "N") << line;
  EXPECT_EQ(ClientField(line, "sub"), "0") << line;
  EXPECT_NE(Cmd({"CLIENT", "LIST", "TYPE", "normal"}).find("id=" + id + " "), std::string::npos);
  EXPECT_EQ(Cmd({"CLIENT", "LIST", "TYPE", "pubsub"}), "");
}

TEST_F(ConnectionCommandsTest, ClientListCountsTheCommandsQueuedInMulti) {
  std::string id = Cmd({"CLIENT", "ID"}).substr(1);
  auto other = NewClient();
  auto field = [&](const std::string& name) {
    return ClientField(other->Cmd({"CLIENT", "LIST", "ID", id}), name);
  };
  EXPECT_EQ(field("multi"), "-1");
  ASSERT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(field("multi"), "0");
  EXPECT_EQ(field("flags"), "x");
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+QUEUED");
  ASSERT_EQ(Cmd({"GET", "k"}), "+QUEUED");
  EXPECT_EQ(Cmd({"GET"}), "-ERR wrong number of arguments for 'get' command");  // not queued
  EXPECT_EQ(field("multi"), "2");
  ASSERT_EQ(Cmd({"DISCARD"}), "+OK");
  EXPECT_EQ(field("multi"), "-1");
  EXPECT_EQ(field("flags"), "N");

  ASSERT_EQ(Cmd({"MULTI"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+QUEUED");
  ASSERT_EQ(Cmd({"EXEC"}), "[+OK]");
  EXPECT_EQ(field("multi"), "-1");
  // An aborted EXEC leaves MULTI too.
  ASSERT_EQ(Cmd({"MULTI"}), "+OK");
  ASSERT_EQ(Cmd({"NOSUCHCOMMAND"}).rfind("-ERR unknown command", 0), 0u);
  ASSERT_EQ(Cmd({"EXEC"}).rfind("-EXECABORT", 0), 0u);
  EXPECT_EQ(field("multi"), "-1");
  // RESET leaves MULTI.
  ASSERT_EQ(Cmd({"MULTI"}), "+OK");
  ASSERT_EQ(Cmd({"PING"}), "+QUEUED");
  EXPECT_EQ(field("multi"), "1");
  ASSERT_EQ(Cmd({"RESET"}), "+RESET");
  EXPECT_EQ(field("multi"), "-1");
}

TEST_F(ConnectionCommandsTest, ClientInfoRunInsideExecSeesTheTransaction) {
  ASSERT_EQ(Cmd({"MULTI"}), "+OK");
  ASSERT_EQ(Cmd({"PING"}), "+QUEUED");
  ASSERT_EQ(Cmd({"CLIENT", "INFO"}), "+QUEUED");
  std::string exec = Cmd({"EXEC"});
  // As Redis: still flagged in MULTI with its queued count, and the command shown is EXEC.
  EXPECT_EQ(ClientField(exec, "flags"), "x") << exec;
  EXPECT_EQ(ClientField(exec, "multi"), "2") << exec;
  EXPECT_EQ(ClientField(exec, "cmd"), "exec") << exec;
  EXPECT_EQ(ClientField(Cmd({"CLIENT", "INFO"}), "multi"), "-1");
}

TEST_F(ConnectionCommandsTest, ClientListCmdIsTheLastCommandLookedUpEvenIfRefusedOrQueued) {
  std::string id = Cmd({"CLIENT", "ID"}).substr(1);
  auto other = NewClient();
  auto cmd = [&] { return ClientField(other->Cmd({"CLIENT", "LIST", "ID", id}), "cmd"); };
  Cmd({"NOSUCHCOMMAND"});
  EXPECT_EQ(cmd(), "NULL");
  Cmd({"CONFIG", "FOO"});
  EXPECT_EQ(cmd(), "NULL");
  Cmd({"GET"});
  EXPECT_EQ(cmd(), "get");
  Cmd({"CONFIG"});
  EXPECT_EQ(cmd(), "config");
  ASSERT_EQ(Cmd({"MULTI"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+QUEUED");
  EXPECT_EQ(cmd(), "set");
  ASSERT_EQ(Cmd({"EXEC"}), "[+OK]");
  EXPECT_EQ(cmd(), "exec");
}

TEST_F(ConnectionCommandsTest, ClientListFlagsAWatchedKeyThatChanged) {
  ASSERT_EQ(Cmd({"WATCH", "w"}), "+OK");
  EXPECT_EQ(ClientField(Cmd({"CLIENT", "INFO"}), "flags"), "N");
  auto other = NewClient();
  ASSERT_EQ(other->Cmd({"SET", "w", "1"}), "+OK");
  EXPECT_EQ(ClientField(Cmd({"CLIENT", "INFO"}), "flags"), "d");
  ASSERT_EQ(Cmd({"UNWATCH"}), "+OK");
  EXPECT_EQ(ClientField(Cmd({"CLIENT", "INFO"}), "flags"), "N");
}

TEST_F(ConnectionCommandsTest, ClientKillTypePubsubClosesSubscribersOnly) {
  auto sub = NewClient();
  ASSERT_EQ(sub->Cmd({"SUBSCRIBE", "ch"}), "[subscribe,ch,:1]");
  auto normal = NewClient();
  EXPECT_EQ(Cmd({"CLIENT", "KILL", "TYPE", "pubsub"}), ":1");
  EXPECT_TRUE(WaitUntil([&] { return sub->Cmd({"PING"}).rfind("(io error", 0) == 0; }));
  EXPECT_EQ(normal->Cmd({"PING"}), "+PONG");
  EXPECT_EQ(Cmd({"CLIENT", "KILL", "TYPE", "pubsub"}), ":0");
}

TEST_F(ConnectionCommandsTest, ClientInfoDescribesThisConnection) {
  std::string id = Cmd({"CLIENT", "ID"}).substr(1);
  ASSERT_EQ(Cmd({"SELECT", "2"}), "+OK");
  ASSERT_EQ(Cmd({"CLIENT", "SETNAME", "me"}), "+OK");
  std::string info = Cmd({"CLIENT", "INFO"});
  EXPECT_EQ(info.rfind("id=" + id + " addr=127.0.0.1:", 0), 0u) << info;
  EXPECT_NE(info.find(" name=me "), std::string::npos) << info;
  EXPECT_NE(info.find(" db=2 "), std::string::npos) << info;
  EXPECT_NE(info.find(" cmd=client|info "), std::string::npos) << info;
  EXPECT_EQ(info.back(), '\n');
  EXPECT_EQ(std::count(info.begin(), info.end(), '\n'), 1);
}

TEST_F(ConnectionCommandsTest, ClientKillByIdClosesTheOtherConnection) {
  auto victim = NewClient();
  std::string id = victim->Cmd({"CLIENT", "ID"}).substr(1);
  EXPECT_EQ(Cmd({"CLIENT", "KILL", "ID", id}), ":1");
  EXPECT_TRUE(WaitUntil([&] { return victim->Cmd({"PING"}) != "+PONG"; }));
  EXPECT_EQ(Cmd({"CLIENT", "KILL", "ID", id}), ":0");
  EXPECT_EQ(Cmd({"PING"}), "+PONG");
}

TEST_F(ConnectionCommandsTest, ClientKillByAddressOldAndNewForm) {
  auto a = NewClient();
  std::string info = a->Cmd({"CLIENT", "INFO"});
  std::string addr = ClientField(info, "addr");
  ASSERT_NE(addr, "?") << info;
  EXPECT_EQ(Cmd({"CLIENT", "KILL", addr}), "+OK");
  EXPECT_TRUE(WaitUntil([&] { return a->Cmd({"PING"}) != "+PONG"; }));
  EXPECT_EQ(Cmd({"CLIENT", "KILL", addr}), "-ERR No such client");
  auto b = NewClient();
  info = b->Cmd({"CLIENT", "INFO"});
  ASSERT_NE(ClientField(info, "addr"), "?") << info;
  EXPECT_EQ(Cmd({"CLIENT", "KILL", "ADDR", ClientField(info, "addr")}), ":1");
  EXPECT_TRUE(WaitUntil([&] { return b->Cmd({"PING"}) != "+PONG"; }));
}

TEST_F(ConnectionCommandsTest, ClientKillSkipsTheCallerUnlessSkipMeNo) {
  std::string id = Cmd({"CLIENT", "ID"}).substr(1);
  EXPECT_EQ(Cmd({"CLIENT", "KILL", "ID", id}), ":0");
  EXPECT_EQ(Cmd({"PING"}), "+PONG");
  RawConnection raw(port());
  std::string raw_id = raw.Roundtrip(EncodeCommand({"CLIENT", "ID"}));
  ASSERT_EQ(raw_id[0], ':');
  raw_id = raw_id.substr(1, raw_id.size() - 3);
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"CLIENT", "KILL", "ID", raw_id, "SKIPME", "no"})),
            ":1\r\n");
  EXPECT_TRUE(raw.WaitForClose());
}

TEST_F(ConnectionCommandsTest, ClientKillRejectsBadFilters) {
  EXPECT_EQ(Cmd({"CLIENT", "KILL", "1.2.3.4:5"}), "-ERR No such client");
  EXPECT_EQ(Cmd({"CLIENT", "KILL", "ID", "abc"}), "-ERR client-id should be greater than 0");
  EXPECT_EQ(Cmd({"CLIENT", "KILL", "ID", "0"}), "-ERR client-id should be greater than 0");
  EXPECT_EQ(Cmd({"CLIENT", "KILL", "foo", "bar"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"CLIENT", "KILL", "TYPE", "foo"}), "-ERR Unknown client type 'foo'");
  EXPECT_EQ(Cmd({"CLIENT", "KILL", "SKIPME", "maybe"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"CLIENT", "KILL", "ID", "1", "SKIPME"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"CLIENT", "KILL"}), "-ERR wrong number of arguments for 'client|kill' command");
  EXPECT_EQ(Cmd({"PING"}), "+PONG");
}

TEST_F(ConnectionCommandsTest, ClientKillByUnknownUserIsAnError) {
  EXPECT_EQ(Cmd({"CLIENT", "KILL", "USER", "nobody"}), "-ERR No such user 'nobody'");
  EXPECT_EQ(Cmd({"CLIENT", "KILL", "USER", "default"}), ":0");  // skips the caller
}

TEST_F(ConnectionCommandsTest, ClientListTypeMustBeTheOnlyFilter) {
  std::string id = Cmd({"CLIENT", "ID"}).substr(1);
  EXPECT_EQ(Cmd({"CLIENT", "LIST", "TYPE", "normal", "ID", id}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"CLIENT", "LIST", "ID", id, "TYPE", "normal"}), "-ERR Invalid client ID");
}

TEST_F(ConnectionCommandsTest, ClientRejectsUnknownSubcommands) {
  EXPECT_EQ(Cmd({"CLIENT", "foo"}), "-ERR unknown subcommand 'foo'. Try CLIENT HELP.");
  EXPECT_EQ(Cmd({"CLIENT"}), "-ERR wrong number of arguments for 'client' command");
  EXPECT_EQ(Cmd({"CLIENT", "ID", "x"}), "-ERR wrong number of arguments for 'client|id' command");
}

TEST_F(ConnectionCommandsTest, ClientHelpHasRedisFirstAndLastLines) {
  auto r = client_->Raw({"CLIENT", "HELP"});
  ASSERT_TRUE(r && r->type == REDIS_REPLY_ARRAY && r->elements > 4) << FormatReply(r.get());
  EXPECT_EQ(FormatReply(r->element[0]),
            "+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  EXPECT_EQ(FormatReply(r->element[r->elements - 2]), "+HELP");
  EXPECT_EQ(FormatReply(r->element[r->elements - 1]), "+    Prints this help.");
}

// ------------------------------------------------------------------ RESET

TEST_F(ConnectionCommandsTest, ResetRestoresTheDefaultConnectionState) {
  ASSERT_EQ(Cmd({"SELECT", "5"}), "+OK");
  ASSERT_EQ(Cmd({"CLIENT", "SETNAME", "before"}), "+OK");
  EXPECT_EQ(Cmd({"RESET"}), "+RESET");
  EXPECT_EQ(Cmd({"CLIENT", "GETNAME"}), "(nil)");
  std::string info = Cmd({"CLIENT", "INFO"});
  EXPECT_NE(info.find(" db=0 "), std::string::npos) << info;
  EXPECT_EQ(Cmd({"RESET", "x"}), "-ERR wrong number of arguments for 'reset' command");
}

TEST_F(ConnectionCommandsTest, ResetReturnsToResp2) {
  RawConnection raw(port());
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"HELLO", "3"})).substr(0, 4), "%7\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"RESET"})), "+RESET\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"GET", "missing"})), "$-1\r\n");
}

}  // namespace
}  // namespace keel::server::test
