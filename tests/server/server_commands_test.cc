// Server commands over the wire: INFO CONFIG DBSIZE FLUSHDB FLUSHALL TIME COMMAND, with Redis
// 7.0's exact replies and errors.
#include <cstdlib>
#include <set>
#include <string>

#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

using ServerCommandsTest = ServerTest;

// The elements of an array reply, each rendered by FormatReply.
std::vector<std::string> Elements(Client& c, const std::vector<std::string>& argv) {
  auto r = c.Raw(argv);
  std::vector<std::string> out;
  if (r && r->type == REDIS_REPLY_ARRAY) {
    for (size_t i = 0; i < r->elements; ++i) out.push_back(FormatReply(r->element[i]));
  } else {
    ADD_FAILURE() << "not an array: " << FormatReply(r.get());
  }
  return out;
}

// ------------------------------------------------------------------ INFO

TEST_F(ServerCommandsTest, InfoHasTheDefaultSectionsInRedisOrder) {
  std::string info = Cmd({"INFO"});
  size_t last = 0;
  for (const char* section : {"# Server\r\n", "# Clients\r\n", "# Memory\r\n", "# Persistence\r\n",
                              "# Stats\r\n", "# Replication\r\n", "# CPU\r\n", "# Keyspace\r\n"}) {
    size_t at = info.find(section);
    ASSERT_NE(at, std::string::npos) << "missing " << section << " in\n" << info;
    EXPECT_GE(at, last) << section << " out of order";
    last = at;
  }
  EXPECT_EQ(info.find("# Commandstats"), std::string::npos);
  EXPECT_EQ(info.substr(info.size() - 2), "\r\n");
}

TEST_F(ServerCommandsTest, InfoServerReportsRedisVersionAndPort) {
  std::string info = Cmd({"INFO", "server"});
  EXPECT_EQ(info.rfind("# Server\r\n", 0), 0u) << info;
  EXPECT_NE(info.find("\r\nredis_version:7.0.15\r\n"), std::string::npos) << info;
  EXPECT_NE(info.find("\r\ntcp_port:" + std::to_string(port()) + "\r\n"), std::string::npos)
      << info;
  EXPECT_NE(info.find("\r\nredis_mode:standalone\r\n"), std::string::npos) << info;
  EXPECT_NE(info.find("\r\nrun_id:"), std::string::npos) << info;
  EXPECT_EQ(info.find("# Clients"), std::string::npos);
}

TEST_F(ServerCommandsTest, InfoKeyspaceListsNonEmptyDbsWithKeysAndExpires) {
  EXPECT_EQ(Cmd({"INFO", "keyspace"}), "# Keyspace\r\n");
  ASSERT_EQ(Cmd({"MSET", "a", "1", "b", "2"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "c", "3", "EX", "100"}), "+OK");
  ASSERT_EQ(Cmd({"SELECT", "7"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "x", "1"}), "+OK");
  std::string info = Cmd({"INFO", "keyspace"});
  EXPECT_EQ(info.rfind("# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=", 0), 0u) << info;
  EXPECT_NE(info.find("\r\ndb7:keys=1,expires=0,avg_ttl=0\r\n"), std::string::npos) << info;
  EXPECT_EQ(info.find("db1:"), std::string::npos) << info;
}

TEST_F(ServerCommandsTest, InfoSectionNamesAreCaseInsensitiveAndCombine) {
  std::string info = Cmd({"INFO", "CLIENTS", "stats"});
  EXPECT_NE(info.find("# Clients\r\n"), std::string::npos) << info;
  EXPECT_NE(info.find("# Stats\r\n"), std::string::npos) << info;
  EXPECT_NE(info.find("\r\nconnected_clients:"), std::string::npos) << info;
  EXPECT_EQ(info.find("# Server"), std::string::npos) << info;
}

TEST_F(ServerCommandsTest, InfoAllAddsCommandStats) {
  ASSERT_EQ(Cmd({"CONFIG", "RESETSTAT"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "a", "1"}), "+OK");
  std::string info = Cmd({"INFO", "all"});
  EXPECT_NE(info.find("# Commandstats\r\n"), std::string::npos);
  EXPECT_NE(info.find("\r\ncmdstat_set:calls=1,usec="), std::string::npos) << info;
  std::string stats = Cmd({"INFO", "commandstats"});
  EXPECT_NE(stats.find("cmdstat_info:calls=1,"), std::string::npos) << stats;
}

TEST_F(ServerCommandsTest, InfoOfUnknownSectionIsEmpty) { EXPECT_EQ(Cmd({"INFO", "nosuch"}), ""); }

TEST_F(ServerCommandsTest, InfoCountsConnectedClients) {
  auto a = NewClient();
  auto b = NewClient();
  ASSERT_EQ(b->Cmd({"PING"}), "+PONG");
  std::string info = Cmd({"INFO", "clients"});
  EXPECT_NE(info.find("\r\nconnected_clients:3\r\n"), std::string::npos) << info;
}

// ------------------------------------------------------------------ CONFIG

TEST_F(ServerCommandsTest, ConfigGetReturnsNameValuePairs) {
  EXPECT_EQ(Cmd({"CONFIG", "GET", "databases"}), "[databases,16]");
  EXPECT_EQ(Cmd({"CONFIG", "GET", "maxclients"}), "[maxclients,10000]");
  EXPECT_EQ(Cmd({"CONFIG", "GET", "nosuch"}), "[]");
}

TEST_F(ServerCommandsTest, ConfigGetMatchesGlobPatternsAndSeveralArguments) {
  std::vector<std::string> pairs = Elements(*client_, {"CONFIG", "GET", "*max*"});
  std::set<std::string> names;
  for (size_t i = 0; i < pairs.size(); i += 2) names.insert(pairs[i]);
  EXPECT_TRUE(names.count("maxclients"));
  EXPECT_TRUE(names.count("proto-max-bulk-len"));
  for (const auto& n : names) EXPECT_NE(n.find("max"), std::string::npos) << n;
  // Several patterns, each name reported once.
  pairs = Elements(*client_, {"CONFIG", "GET", "databases", "data*", "maxclients"});
  ASSERT_EQ(pairs.size(), 4u);
  std::set<std::string> got = {pairs[0] + "=" + pairs[1], pairs[2] + "=" + pairs[3]};
  EXPECT_EQ(got, (std::set<std::string>{"databases=16", "maxclients=10000"}));
}

TEST_F(ServerCommandsTest, ConfigSetChangesMutableOptions) {
  EXPECT_EQ(Cmd({"CONFIG", "SET", "maxclients", "5000"}), "+OK");
  EXPECT_EQ(Cmd({"CONFIG", "GET", "maxclients"}), "[maxclients,5000]");
  EXPECT_EQ(Cmd({"CONFIG", "SET", "loglevel", "WARNING"}), "+OK");
  EXPECT_EQ(Cmd({"CONFIG", "GET", "loglevel"}), "[loglevel,warning]");
  EXPECT_EQ(Cmd({"CONFIG", "SET", "proto-max-bulk-len", "2mb"}), "+OK");
  EXPECT_EQ(Cmd({"CONFIG", "GET", "proto-max-bulk-len"}), "[proto-max-bulk-len,2097152]");
  EXPECT_EQ(Cmd({"CONFIG", "SET", "appendfsync", "always", "tcp-keepalive", "60"}), "+OK");
  EXPECT_EQ(Cmd({"CONFIG", "GET", "appendfsync"}), "[appendfsync,always]");
  EXPECT_EQ(Cmd({"CONFIG", "GET", "tcp-keepalive"}), "[tcp-keepalive,60]");
  EXPECT_EQ(Cmd({"CONFIG", "SET", "proto-max-bulk-len", "512mb", "appendfsync", "everysec",
                 "maxclients", "10000", "loglevel", "notice", "tcp-keepalive", "300"}),
            "+OK");
}

TEST_F(ServerCommandsTest, ConfigSetProtoMaxBulkLenLimitsRequests) {
  ASSERT_EQ(Cmd({"CONFIG", "SET", "proto-max-bulk-len", "1mb"}), "+OK");
  RawConnection raw(port());
  ASSERT_TRUE(raw.Send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n"));
  std::string data;
  EXPECT_TRUE(raw.WaitForClose(10s, &data));
  EXPECT_EQ(data, "-ERR Protocol error: invalid bulk length\r\n");
  EXPECT_EQ(Cmd({"SET", "k", std::string(1 << 20, 'x')}), "+OK");
  EXPECT_EQ(Cmd({"CONFIG", "SET", "proto-max-bulk-len", "512mb"}), "+OK");
}

TEST_F(ServerCommandsTest, ConfigSetRejectsUnknownAndImmutableOptions) {
  EXPECT_EQ(Cmd({"CONFIG", "SET", "nosuch", "1"}),
            "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'");
  EXPECT_EQ(Cmd({"CONFIG", "SET", "databases", "10"}),
            "-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set "
            "immutable config");
  EXPECT_EQ(Cmd({"CONFIG", "SET", "daemonize", "yes"}),
            "-ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set "
            "immutable config");
}

TEST_F(ServerCommandsTest, ConfigSetRejectsBadValues) {
  EXPECT_EQ(Cmd({"CONFIG", "SET", "maxclients", "abc"}),
            "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument "
            "couldn't be parsed into an integer");
  EXPECT_EQ(Cmd({"CONFIG", "SET", "tcp-keepalive", "-1"}),
            "-ERR CONFIG SET failed (possibly related to argument 'tcp-keepalive') - argument "
            "must be between 0 and 2147483647 inclusive");
  EXPECT_EQ(Cmd({"CONFIG", "SET", "proto-max-bulk-len", "100"}),
            "-ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - "
            "argument must be between 1048576 and 9223372036854775807 inclusive");
  EXPECT_EQ(Cmd({"CONFIG", "SET", "loglevel", "loud"}),
            "-ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) "
            "must be one of the following: debug, verbose, notice, warning");
  EXPECT_EQ(Cmd({"CONFIG", "SET", "maxclients", "1", "maxclients", "2"}),
            "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - duplicate "
            "parameter");
  EXPECT_EQ(Cmd({"CONFIG", "GET", "maxclients"}), "[maxclients,10000]");
}

TEST_F(ServerCommandsTest, ConfigSetIsAllOrNothing) {
  EXPECT_EQ(Cmd({"CONFIG", "SET", "maxclients", "5000", "nosuch", "1"}),
            "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'");
  EXPECT_EQ(Cmd({"CONFIG", "SET", "maxclients", "5000", "tcp-keepalive", "x"}),
            "-ERR CONFIG SET failed (possibly related to argument 'tcp-keepalive') - argument "
            "couldn't be parsed into an integer");
  EXPECT_EQ(Cmd({"CONFIG", "GET", "maxclients"}), "[maxclients,10000]");
}

TEST_F(ServerCommandsTest, ConfigRejectsBadArity) {
  EXPECT_EQ(Cmd({"CONFIG", "GET"}), "-ERR wrong number of arguments for 'config|get' command");
  EXPECT_EQ(Cmd({"CONFIG", "SET", "maxclients"}),
            "-ERR wrong number of arguments for 'config|set' command");
  EXPECT_EQ(Cmd({"CONFIG", "SET", "maxclients", "1", "loglevel"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"CONFIG"}), "-ERR wrong number of arguments for 'config' command");
  EXPECT_EQ(Cmd({"CONFIG", "foo"}), "-ERR unknown subcommand 'foo'. Try CONFIG HELP.");
}

TEST_F(ServerCommandsTest, ConfigResetStatClearsCommandStats) {
  ASSERT_EQ(Cmd({"SET", "a", "1"}), "+OK");
  EXPECT_EQ(Cmd({"CONFIG", "RESETSTAT"}), "+OK");
  std::string stats = Cmd({"INFO", "commandstats"});
  EXPECT_EQ(stats.find("cmdstat_set:"), std::string::npos) << stats;
}

TEST_F(ServerCommandsTest, ConfigHelpHasRedisFirstAndLastLines) {
  auto lines = Elements(*client_, {"CONFIG", "HELP"});
  ASSERT_GT(lines.size(), 4u);
  EXPECT_EQ(lines.front(), "+CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  EXPECT_EQ(lines[1], "+GET <pattern>");
  EXPECT_EQ(lines[lines.size() - 2], "+HELP");
  EXPECT_EQ(lines.back(), "+    Prints this help.");
}

// ------------------------------------------------------------------ DBSIZE FLUSHDB FLUSHALL

TEST_F(ServerCommandsTest, DbSizeCountsKeysOfTheSelectedDb) {
  EXPECT_EQ(Cmd({"DBSIZE"}), ":0");
  ASSERT_EQ(Cmd({"MSET", "a", "1", "b", "2", "a", "3"}), "+OK");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":2");
  ASSERT_EQ(Cmd({"SELECT", "1"}), "+OK");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":0");
  EXPECT_EQ(Cmd({"DBSIZE", "x"}), "-ERR wrong number of arguments for 'dbsize' command");
}

TEST_F(ServerCommandsTest, DbSizeFollowsDeletesAndOverwrites) {
  ASSERT_EQ(Cmd({"MSET", "a", "1", "b", "2"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "a", "x"}), "+OK");
  ASSERT_EQ(Cmd({"DEL", "b", "nothing"}), ":1");
  ASSERT_EQ(Cmd({"RENAME", "a", "c"}), "+OK");
  ASSERT_EQ(Cmd({"COPY", "c", "d"}), ":1");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":2");
  ASSERT_EQ(Cmd({"MOVE", "d", "1"}), ":1");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":1");
}

TEST_F(ServerCommandsTest, FlushDbEmptiesOnlyTheSelectedDb) {
  ASSERT_EQ(Cmd({"SET", "zero", "1"}), "+OK");
  ASSERT_EQ(Cmd({"SELECT", "1"}), "+OK");
  ASSERT_EQ(Cmd({"MSET", "a", "1", "b", "2"}), "+OK");
  EXPECT_EQ(Cmd({"FLUSHDB"}), "+OK");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":0");
  EXPECT_EQ(Cmd({"GET", "a"}), "(nil)");
  ASSERT_EQ(Cmd({"SELECT", "0"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "zero"}), "1");
}

TEST_F(ServerCommandsTest, FlushAllEmptiesEveryDb) {
  ASSERT_EQ(Cmd({"SET", "zero", "1"}), "+OK");
  ASSERT_EQ(Cmd({"SELECT", "9"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "nine", "1", "EX", "100"}), "+OK");
  EXPECT_EQ(Cmd({"FLUSHALL"}), "+OK");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":0");
  ASSERT_EQ(Cmd({"SELECT", "0"}), "+OK");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":0");
  EXPECT_EQ(Cmd({"INFO", "keyspace"}), "# Keyspace\r\n");
  // The db works normally afterwards.
  EXPECT_EQ(Cmd({"SET", "again", "1"}), "+OK");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":1");
}

TEST_F(ServerCommandsTest, FlushAcceptsSyncAndAsyncOnly) {
  ASSERT_EQ(Cmd({"SET", "a", "1"}), "+OK");
  EXPECT_EQ(Cmd({"FLUSHDB", "foo"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"FLUSHALL", "a", "b"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":1");
  EXPECT_EQ(Cmd({"FLUSHDB", "ASYNC"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "a", "1"}), "+OK");
  EXPECT_EQ(Cmd({"FLUSHALL", "sync"}), "+OK");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":0");
}

// ------------------------------------------------------------------ TIME

TEST_F(ServerCommandsTest, TimeReturnsSecondsAndMicroseconds) {
  auto parts = Elements(*client_, {"TIME"});
  ASSERT_EQ(parts.size(), 2u);
  int64_t secs = std::atoll(parts[0].c_str());
  int64_t usecs = std::atoll(parts[1].c_str());
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  EXPECT_LE(std::abs(secs - now), 5);
  EXPECT_GE(usecs, 0);
  EXPECT_LT(usecs, 1000000);
  EXPECT_EQ(Cmd({"TIME", "x"}), "-ERR wrong number of arguments for 'time' command");
}

// ------------------------------------------------------------------ COMMAND

TEST_F(ServerCommandsTest, CommandCountMatchesCommandAndCommandList) {
  std::string count = Cmd({"COMMAND", "COUNT"});
  ASSERT_EQ(count[0], ':');
  size_t n = static_cast<size_t>(std::atoll(count.c_str() + 1));
  EXPECT_GT(n, 50u);
  auto all = client_->Raw({"COMMAND"});
  ASSERT_TRUE(all && all->type == REDIS_REPLY_ARRAY);
  EXPECT_EQ(all->elements, n);
  size_t subcommands = 0;
  for (size_t i = 0; i < all->elements; ++i) subcommands += all->element[i]->element[9]->elements;
  // COMMAND LIST names the subcommands too.
  auto names = Elements(*client_, {"COMMAND", "LIST"});
  EXPECT_EQ(names.size(), n + subcommands);
  std::set<std::string> set(names.begin(), names.end());
  EXPECT_EQ(set.size(), names.size());
  for (const char* c : {"get", "set", "del", "scan", "client", "config", "command", "hello",
                        "bitfield_ro", "lcs", "swapdb", "object", "restore", "config|get",
                        "client|kill", "object|encoding", "command|getkeys"}) {
    EXPECT_TRUE(set.count(c)) << c;
  }
}

TEST_F(ServerCommandsTest, CommandListFiltersByPattern) {
  auto names = Elements(*client_, {"COMMAND", "LIST", "FILTERBY", "PATTERN", "getr*"});
  EXPECT_EQ(names, std::vector<std::string>{"getrange"});
  names = Elements(*client_, {"COMMAND", "LIST", "FILTERBY", "PATTERN", "config|g*"});
  EXPECT_EQ(names, std::vector<std::string>{"config|get"});
  EXPECT_EQ(Cmd({"COMMAND", "LIST", "FOO"}), "-ERR syntax error");
}

TEST_F(ServerCommandsTest, CommandInfoDescribesGetAndSet) {
  auto get = Elements(*client_, {"COMMAND", "INFO", "get"});
  ASSERT_EQ(get.size(), 1u);
  auto r = client_->Raw({"COMMAND", "INFO", "GET", "set"});
  ASSERT_TRUE(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2);
  const redisReply* g = r->element[0];
  ASSERT_EQ(g->elements, 10u) << FormatReply(g);
  std::vector<std::string> head;
  for (size_t i = 0; i < 8; ++i) head.push_back(FormatReply(g->element[i]));
  EXPECT_EQ(head, (std::vector<std::string>{"get", ":2", "[+readonly,+fast]", ":1", ":1", ":1",
                                            "[+@read,+@string,+@fast]", "[]"}));
  EXPECT_EQ(FormatReply(g->element[9]), "[]");
  const redisReply* s = r->element[1];
  ASSERT_EQ(s->elements, 10u) << FormatReply(s);
  head.clear();
  for (size_t i = 0; i < 8; ++i) head.push_back(FormatReply(s->element[i]));
  EXPECT_EQ(head, (std::vector<std::string>{"set", ":-3", "[+write,+denyoom]", ":1", ":1", ":1",
                                            "[+@write,+@string,+@slow]", "[]"}));
}

TEST_F(ServerCommandsTest, CommandInfoReportsRedisFlagsAndCategories) {
  // name, arity, flags, first key, last key, step, ACL categories, tips (empty here).
  auto head = [&](const std::string& name) {
    auto r = client_->Raw({"COMMAND", "INFO", name});
    std::string out;
    if (!r || r->elements != 1 || r->element[0]->elements != 10) return FormatReply(r.get());
    for (size_t i = 0; i < 7; ++i) out += FormatReply(r->element[0]->element[i]) + " ";
    return out;
  };
  EXPECT_EQ(head("ping"), "ping :-1 [+fast] :0 :0 :0 [+@fast,+@connection] ");
  EXPECT_EQ(head("echo"), "echo :2 [+loading,+stale,+fast] :0 :0 :0 [+@fast,+@connection] ");
  EXPECT_EQ(head("select"), "select :2 [+loading,+stale,+fast] :0 :0 :0 [+@fast,+@connection] ");
  EXPECT_EQ(head("reset"),
            "reset :1 [+noscript,+loading,+stale,+fast,+no_auth,+allow_busy] :0 :0 :0 "
            "[+@fast,+@connection] ");
  EXPECT_EQ(head("info"), "info :-1 [+loading,+stale] :0 :0 :0 [+@slow,+@dangerous] ");
  EXPECT_EQ(head("object|help"), "object|help :2 [+loading,+stale] :0 :0 :0 [+@keyspace,+@slow] ");
  EXPECT_EQ(head("client|help"),
            "client|help :2 [+loading,+stale] :0 :0 :0 [+@slow,+@connection] ");
  EXPECT_EQ(head("mset"), "mset :-3 [+write,+denyoom] :1 :-1 :2 [+@write,+@string,+@slow] ");
  EXPECT_EQ(head("bitop"), "bitop :-4 [+write,+denyoom] :2 :-1 :1 [+@write,+@bitmap,+@slow] ");
}

TEST_F(ServerCommandsTest, CommandInfoInResp3UsesSetsForKeySpecsAndMissingSubcommands) {
  RawConnection raw(port());
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"HELLO", "3"})).substr(0, 4), "%7\r\n");
  std::string get = raw.Roundtrip(EncodeCommand({"COMMAND", "INFO", "get"}));
  EXPECT_EQ(get.substr(0, 16), "*1\r\n*10\r\n$3\r\nget") << get;
  EXPECT_NE(get.find("~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n"), std::string::npos) << get;
  EXPECT_EQ(get.substr(get.size() - 4), "~0\r\n") << get;
  std::string ping = raw.Roundtrip(EncodeCommand({"COMMAND", "INFO", "ping"}));
  EXPECT_EQ(ping.substr(ping.size() - 8), "~0\r\n~0\r\n") << ping;
  std::string object = raw.Roundtrip(EncodeCommand({"COMMAND", "INFO", "object"}));
  EXPECT_NE(object.find("~0\r\n~0\r\n*5\r\n*10\r\n"), std::string::npos) << object;
}

TEST_F(ServerCommandsTest, CommandInfoOfKeySpecsNamesBeginSearchAndFindKeys) {
  auto r = client_->Raw({"COMMAND", "INFO", "mset"});
  ASSERT_TRUE(r && r->elements == 1 && r->element[0]->elements == 10);
  std::string specs = FormatReply(r->element[0]->element[8]);
  EXPECT_NE(specs.find("begin_search,[type,index,spec,[index,:1]]"), std::string::npos) << specs;
  EXPECT_NE(specs.find("find_keys,[type,range,spec,[lastkey,:-1,keystep,:2,limit,:0]]"),
            std::string::npos)
      << specs;
}

TEST_F(ServerCommandsTest, CommandInfoOfUnknownCommandIsNil) {
  EXPECT_EQ(Cmd({"COMMAND", "INFO", "nosuch"}), "[(nil)]");
  auto sub = Elements(*client_, {"COMMAND", "INFO", "config|get"});
  ASSERT_EQ(sub.size(), 1u);
  EXPECT_EQ(sub[0].rfind("[config|get,:-3,", 0), 0u) << sub[0];
}

TEST_F(ServerCommandsTest, CommandInfoListsSubcommands) {
  auto r = client_->Raw({"COMMAND", "INFO", "object"});
  ASSERT_TRUE(r && r->elements == 1 && r->element[0]->elements == 10);
  const redisReply* subs = r->element[0]->element[9];
  std::set<std::string> names;
  for (size_t i = 0; i < subs->elements; ++i)
    names.insert(FormatReply(subs->element[i]->element[0]));
  EXPECT_EQ(names, (std::set<std::string>{"object|encoding", "object|freq", "object|idletime",
                                          "object|refcount", "object|help"}));
}

TEST_F(ServerCommandsTest, CommandGetKeysExtractsKeyArguments) {
  EXPECT_EQ(Cmd({"COMMAND", "GETKEYS", "get", "k"}), "[k]");
  EXPECT_EQ(Cmd({"COMMAND", "GETKEYS", "SET", "k", "v", "EX", "10"}), "[k]");
  EXPECT_EQ(Cmd({"COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"}), "[a,b]");
  EXPECT_EQ(Cmd({"COMMAND", "GETKEYS", "lcs", "a", "b"}), "[a,b]");
  EXPECT_EQ(Cmd({"COMMAND", "GETKEYS", "bitop", "and", "d", "a", "b"}), "[d,a,b]");
  EXPECT_EQ(Cmd({"COMMAND", "GETKEYS", "copy", "a", "b", "db", "1"}), "[a,b]");
  EXPECT_EQ(Cmd({"COMMAND", "GETKEYS", "move", "a", "1"}), "[a]");
  EXPECT_EQ(Cmd({"COMMAND", "GETKEYS", "object", "encoding", "k"}), "[k]");
  EXPECT_EQ(Cmd({"COMMAND", "GETKEYS", "del", "a", "b", "c"}), "[a,b,c]");
}

TEST_F(ServerCommandsTest, CommandGetKeysRejectsBadCommands) {
  EXPECT_EQ(Cmd({"COMMAND", "GETKEYS", "ping", "x"}), "-ERR The command has no key arguments");
  EXPECT_EQ(Cmd({"COMMAND", "GETKEYS", "config", "get", "x"}),
            "-ERR The command has no key arguments");
  EXPECT_EQ(Cmd({"COMMAND", "GETKEYS", "get", "a", "b"}),
            "-ERR Invalid number of arguments specified for command");
  EXPECT_EQ(Cmd({"COMMAND", "GETKEYS", "set", "k"}),
            "-ERR Invalid number of arguments specified for command");
  EXPECT_EQ(Cmd({"COMMAND", "GETKEYS", "nosuch", "a"}), "-ERR Invalid command specified");
  EXPECT_EQ(Cmd({"COMMAND", "GETKEYS", "ping"}),
            "-ERR wrong number of arguments for 'command|getkeys' command");
  EXPECT_EQ(Cmd({"COMMAND", "GETKEYS"}),
            "-ERR wrong number of arguments for 'command|getkeys' command");
}

TEST_F(ServerCommandsTest, CommandDocsDescribesCommands) {
  auto r = client_->Raw({"COMMAND", "DOCS", "get"});
  ASSERT_TRUE(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) << FormatReply(r.get());
  EXPECT_EQ(FormatReply(r->element[0]), "get");
  std::string doc = FormatReply(r->element[1]);
  EXPECT_EQ(
      doc.rfind("[summary,Get the value of a key,since,1.0.0,group,string,complexity,O(1)", 0), 0u)
      << doc;
  EXPECT_EQ(Cmd({"COMMAND", "DOCS", "nosuch"}), "[]");
  auto obj = client_->Raw({"COMMAND", "DOCS", "object"});
  ASSERT_TRUE(obj && obj->elements == 2);
  EXPECT_NE(FormatReply(obj->element[1]).find("subcommands,["), std::string::npos);
}

TEST_F(ServerCommandsTest, CommandRejectsUnknownSubcommands) {
  EXPECT_EQ(Cmd({"COMMAND", "foo"}), "-ERR unknown subcommand 'foo'. Try COMMAND HELP.");
  EXPECT_EQ(Cmd({"COMMAND", "COUNT", "x"}),
            "-ERR wrong number of arguments for 'command|count' command");
}

TEST_F(ServerCommandsTest, CommandHelpHasRedisFirstAndLastLines) {
  auto lines = Elements(*client_, {"COMMAND", "HELP"});
  ASSERT_GT(lines.size(), 4u);
  EXPECT_EQ(lines.front(), "+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  EXPECT_EQ(lines[1], "+(no subcommand)");
  EXPECT_EQ(lines[lines.size() - 2], "+HELP");
  EXPECT_EQ(lines.back(), "+    Prints this help.");
}

}  // namespace
}  // namespace keel::server::test
