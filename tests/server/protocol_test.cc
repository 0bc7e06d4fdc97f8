// The wire protocol under bad and unusual input, over raw sockets: malformed RESP, huge
// declared lengths, binary data, unknown commands, arity and type errors, inline commands and
// deep pipelines. Every test checks the exact Redis 7.0 reply, that the server stays up (a
// new connection gets PONG) and that data written before is intact.
#include <string>

#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

class ProtocolTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_EQ(Cmd({"SET", "sentinel", "still-here"}), "+OK");
  }

  // The server answers a new connection and the data written before is intact.
  void ExpectHealthy() {
    Client c(port());
    ASSERT_TRUE(c.connected()) << c.error();
    EXPECT_EQ(c.Cmd({"PING"}), "+PONG");
    EXPECT_EQ(c.Cmd({"GET", "sentinel"}), "still-here");
  }

  // Sends `bytes` on a fresh connection and expects `reply` followed by the server closing it.
  void ExpectErrorAndClose(const std::string& bytes, const std::string& reply) {
    RawConnection raw(port());
    ASSERT_TRUE(raw.connected());
    ASSERT_TRUE(raw.Send(bytes));
    std::string data;
    EXPECT_TRUE(raw.WaitForClose(10s, &data)) << "connection left open";
    EXPECT_EQ(data, reply);
    ExpectHealthy();
  }
};

// ------------------------------------------------------------------ malformed RESP

TEST_F(ProtocolTest, NonNumericBulkLengthIsAProtocolErrorAndCloses) {
  ExpectErrorAndClose("*1\r\n$x\r\n", "-ERR Protocol error: invalid bulk length\r\n");
}

TEST_F(ProtocolTest, NegativeOrZeroPaddedBulkLengthIsInvalid) {
  ExpectErrorAndClose("*1\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length\r\n");
  ExpectErrorAndClose("*1\r\n$01\r\na\r\n", "-ERR Protocol error: invalid bulk length\r\n");
}

TEST_F(ProtocolTest, NonNumericMultibulkLengthIsInvalid) {
  ExpectErrorAndClose("*x\r\n", "-ERR Protocol error: invalid multibulk length\r\n");
  ExpectErrorAndClose("*2147483648\r\n", "-ERR Protocol error: invalid multibulk length\r\n");
}

TEST_F(ProtocolTest, MissingDollarIsReportedWithTheByteFound) {
  ExpectErrorAndClose("*1\r\nfoo\r\n", "-ERR Protocol error: expected '$', got 'f'\r\n");
}

TEST_F(ProtocolTest, RepliesBeforeAProtocolErrorAreStillSent) {
  ExpectErrorAndClose(EncodeCommand({"SET", "a", "1"}) + "*1\r\n$x\r\n",
                      "+OK\r\n-ERR Protocol error: invalid bulk length\r\n");
  EXPECT_EQ(Cmd({"GET", "a"}), "1");
}

TEST_F(ProtocolTest, TwoGigabyteBulkLengthIsRejectedAtOnce) {
  ExpectErrorAndClose("*1\r\n$2147483648\r\n", "-ERR Protocol error: invalid bulk length\r\n");
  // One byte over proto-max-bulk-len (512 MB) as well.
  ExpectErrorAndClose("*1\r\n$536870913\r\n", "-ERR Protocol error: invalid bulk length\r\n");
}

TEST_F(ProtocolTest, MaximumBulkLengthWithoutBodyWaitsAndThenCloses) {
  RawConnection raw(port());
  ASSERT_TRUE(raw.Send("*2\r\n$3\r\nSET\r\n$536870912\r\nabc"));
  EXPECT_EQ(raw.ReadBytes(1, 300ms), "");  // no reply: the server waits for the body
  raw.Close();
  ExpectHealthy();
}

TEST_F(ProtocolTest, MillionElementHeaderWithoutBodyThenCloseLeavesTheServerUp) {
  {
    RawConnection raw(port());
    ASSERT_TRUE(raw.Send("*1000000\r\n"));
    EXPECT_EQ(raw.ReadBytes(1, 200ms), "");
  }
  {
    RawConnection raw(port());
    ASSERT_TRUE(raw.Send("*1000000\r\n$3\r\nSET\r\n$1\r\nk\r\n"));
    EXPECT_EQ(raw.ReadBytes(1, 200ms), "");
  }
  ExpectHealthy();
  EXPECT_EQ(Cmd({"EXISTS", "k"}), ":0");
}

TEST_F(ProtocolTest, EmptyMultibulksAreIgnored) {
  RawConnection raw(port());
  EXPECT_EQ(raw.Roundtrip("*0\r\n*-1\r\n" + EncodeCommand({"PING"})), "+PONG\r\n");
}

TEST_F(ProtocolTest, RequestSplitAcrossManyWritesIsAssembled) {
  RawConnection raw(port());
  std::string req = EncodeCommand({"SET", "split", std::string(1000, 'x')});
  for (size_t i = 0; i < req.size(); i += 7) {
    ASSERT_TRUE(raw.Send(req.substr(i, 7)));
    if (i % 70 == 0) std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(raw.ReadReply(), "+OK\r\n");
  EXPECT_EQ(Cmd({"STRLEN", "split"}), ":1000");
}

TEST_F(ProtocolTest, TooLongInlineRequestIsAnError) {
  ExpectErrorAndClose(std::string(70 * 1024, 'a'),
                      "-ERR Protocol error: too big inline request\r\n");
}

TEST_F(ProtocolTest, TooLongMultibulkCountLineIsAnError) {
  ExpectErrorAndClose("*" + std::string(70 * 1024, '1'),
                      "-ERR Protocol error: too big mbulk count string\r\n");
}

// ------------------------------------------------------------------ binary data

TEST_F(ProtocolTest, BinaryKeysAndValuesRoundTrip) {
  std::string key("\0key\r\n\0", 7);
  std::string value;
  for (int i = 0; i < 256; ++i) value.push_back(static_cast<char>(i));
  value += "\r\n\r\n";
  RawConnection raw(port());
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"SET", key, value})), "+OK\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"GET", key})),
            "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n");
  EXPECT_EQ(Cmd({"GET", key}), value);
  EXPECT_EQ(Cmd({"EXISTS", std::string("\0key", 4)}), ":0");
  EXPECT_EQ(Cmd({"KEYS", "*key*"}), "[" + key + "]");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":2");
}

// ------------------------------------------------------------------ command errors

TEST_F(ProtocolTest, UnknownCommandNamesTheCommandAndItsFirstArguments) {
  RawConnection raw(port());
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"FOO", "a", "b"})),
            "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"foo"})),
            "-ERR unknown command 'foo', with args beginning with: \r\n");
  EXPECT_EQ(raw.Roundtrip("NOSUCH x y\r\n"),
            "-ERR unknown command 'NOSUCH', with args beginning with: 'x' 'y' \r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"PING"})), "+PONG\r\n");  // the connection stays
  ExpectHealthy();
}

TEST_F(ProtocolTest, UnknownCommandTruncatesLongArguments) {
  std::string reply = Cmd({"FOO", std::string(200, 'x'), "second"});
  EXPECT_EQ(reply, "-ERR unknown command 'FOO', with args beginning with: '" +
                       std::string(128, 'x') + "' ");
  std::string name(200, 'n');
  EXPECT_EQ(Cmd({name}),
            "-ERR unknown command '" + std::string(128, 'n') + "', with args beginning with: ");
}

TEST_F(ProtocolTest, UnknownCommandWithNewlinesInArgumentsStaysOneLine) {
  RawConnection raw(port());
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"FOO", "a\r\nb"})),
            "-ERR unknown command 'FOO', with args beginning with: 'a  b' \r\n");
}

TEST_F(ProtocolTest, WrongArityNamesTheCommandInLowerCase) {
  RawConnection raw(port());
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"GET"})),
            "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"SeT", "k"})),
            "-ERR wrong number of arguments for 'set' command\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"config", "get"})),
            "-ERR wrong number of arguments for 'config|get' command\r\n");
  ExpectHealthy();
}

TEST_F(ProtocolTest, WrongTypeIsReportedAndTheValueKept) {
  MakeList("list");
  EXPECT_EQ(Cmd({"INCR", "list"}),
            "-WRONGTYPE Operation against a key holding the wrong kind of value");
  EXPECT_EQ(Cmd({"APPEND", "list", "x"}),
            "-WRONGTYPE Operation against a key holding the wrong kind of value");
  EXPECT_EQ(Cmd({"TYPE", "list"}), "+list");
  ExpectHealthy();
}

TEST_F(ProtocolTest, NonNumericIncrementsAreRejected) {
  ASSERT_EQ(Cmd({"SET", "n", "5"}), "+OK");
  EXPECT_EQ(Cmd({"INCRBY", "n", "five"}), "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"INCRBYFLOAT", "n", "five"}), "-ERR value is not a valid float");
  EXPECT_EQ(Cmd({"GET", "n"}), "5");
}

TEST_F(ProtocolTest, IncrPastInt64MaxLeavesTheValue) {
  ASSERT_EQ(Cmd({"SET", "n", "9223372036854775807"}), "+OK");
  RawConnection raw(port());
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"INCR", "n"})),
            "-ERR increment or decrement would overflow\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"GET", "n"})), "$19\r\n9223372036854775807\r\n");
  ExpectHealthy();
}

// ------------------------------------------------------------------ inline commands

TEST_F(ProtocolTest, InlineCommandsWork) {
  RawConnection raw(port());
  EXPECT_EQ(raw.Roundtrip("PING\r\n"), "+PONG\r\n");
  EXPECT_EQ(raw.Roundtrip("SET a b\r\n"), "+OK\r\n");
  EXPECT_EQ(raw.Roundtrip("GET a\n"), "$1\r\nb\r\n");  // a bare LF ends the line too
  EXPECT_EQ(raw.Roundtrip("   \r\n\r\nPING  \r\n"), "+PONG\r\n");
}

TEST_F(ProtocolTest, InlineCommandsUnderstandQuotesAndEscapes) {
  RawConnection raw(port());
  EXPECT_EQ(raw.Roundtrip("SET \"x y\" \"a\\x41\\n\"\r\n"), "+OK\r\n");
  EXPECT_EQ(Cmd({"GET", "x y"}), "aA\n");
  EXPECT_EQ(raw.Roundtrip("SET 'single q' 'it\\'s'\r\n"), "+OK\r\n");
  EXPECT_EQ(Cmd({"GET", "single q"}), "it's");
}

TEST_F(ProtocolTest, InlineUnbalancedQuotesIsAProtocolError) {
  ExpectErrorAndClose("SET \"a b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n");
}

TEST_F(ProtocolTest, InlineAndMultibulkMixInOnePipeline) {
  RawConnection raw(port());
  ASSERT_TRUE(raw.Send("SET m 1\r\n" + EncodeCommand({"INCR", "m"}) + "INCR m\r\nGET m\r\n"));
  EXPECT_EQ(raw.ReadReplies(4), "+OK\r\n:2\r\n:3\r\n$1\r\n3\r\n");
}

// ------------------------------------------------------------------ pipelining

TEST_F(ProtocolTest, TenThousandPipelinedCommandsInOneWriteAllGetReplies) {
  constexpr int kCommands = 10000;
  std::string batch;
  for (int i = 0; i < kCommands; ++i) {
    if (i % 2 == 0) {
      batch += EncodeCommand({"INCR", "counter"});
    } else {
      batch += EncodeCommand({"SET", "p:" + std::to_string(i), std::to_string(i)});
    }
  }
  RawConnection raw(port());
  ASSERT_TRUE(raw.Send(batch));
  std::string replies = raw.ReadReplies(kCommands, 60s);
  std::string expected;
  for (int i = 0; i < kCommands; ++i) {
    expected += i % 2 == 0 ? ":" + std::to_string(i / 2 + 1) + "\r\n" : "+OK\r\n";
  }
  EXPECT_EQ(replies.size(), expected.size());
  EXPECT_TRUE(replies == expected) << "replies differ from the expected sequence";
  EXPECT_EQ(Cmd({"GET", "counter"}), std::to_string(kCommands / 2));
  EXPECT_EQ(Cmd({"GET", "p:9999"}), "9999");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":" + std::to_string(kCommands / 2 + 2));
}

TEST_F(ProtocolTest, PipelinedReadsSeeEarlierPipelinedWrites) {
  RawConnection raw(port());
  std::string batch = EncodeCommand({"SET", "x", "1"}) + EncodeCommand({"GET", "x"}) +
                      EncodeCommand({"APPEND", "x", "2"}) + EncodeCommand({"MGET", "x", "y"}) +
                      EncodeCommand({"DEL", "x"}) + EncodeCommand({"EXISTS", "x"}) +
                      EncodeCommand({"DBSIZE"});
  ASSERT_TRUE(raw.Send(batch));
  EXPECT_EQ(raw.ReadReplies(7),
            "+OK\r\n$1\r\n1\r\n:2\r\n*2\r\n$2\r\n12\r\n$-1\r\n:1\r\n:0\r\n:1\r\n");
}

TEST_F(ProtocolTest, FailedCommandInAPipelineDoesNotUndoTheOthers) {
  RawConnection raw(port());
  ASSERT_TRUE(raw.Send(EncodeCommand({"SET", "a", "1"}) + EncodeCommand({"INCRBY", "a", "x"}) +
                       EncodeCommand({"SET", "b", "2"})));
  EXPECT_EQ(raw.ReadReplies(3), "+OK\r\n-ERR value is not an integer or out of range\r\n+OK\r\n");
  EXPECT_EQ(Cmd({"MGET", "a", "b"}), "[1,2]");
}

TEST_F(ProtocolTest, RepliesArriveAfterTheClientHalfCloses) {
  RawConnection raw(port());
  std::string batch = EncodeCommand({"SET", "half", "1"});
  for (int i = 0; i < 5000; ++i) batch += EncodeCommand({"INCR", "half"});
  ASSERT_TRUE(raw.Send(batch));
  raw.ShutdownWrite();
  std::string data;
  EXPECT_TRUE(raw.WaitForClose(30s, &data));
  EXPECT_EQ(data.substr(0, 5), "+OK\r\n");
  EXPECT_EQ(data.substr(data.size() - 7), ":5001\r\n");
  EXPECT_EQ(Cmd({"GET", "half"}), "5001");
}

TEST_F(ProtocolTest, PipelinedSelectKeepsWritesInTheirDbs) {
  RawConnection raw(port());
  ASSERT_TRUE(raw.Send(EncodeCommand({"SET", "a", "zero"}) + EncodeCommand({"SELECT", "1"}) +
                       EncodeCommand({"SET", "a", "one"}) + EncodeCommand({"GET", "a"}) +
                       EncodeCommand({"SELECT", "0"}) + EncodeCommand({"GET", "a"}) +
                       EncodeCommand({"MOVE", "a", "2"}) + EncodeCommand({"SELECT", "2"}) +
                       EncodeCommand({"GET", "a"})));
  EXPECT_EQ(raw.ReadReplies(9),
            "+OK\r\n+OK\r\n+OK\r\n$3\r\none\r\n+OK\r\n$4\r\nzero\r\n:1\r\n+OK\r\n"
            "$4\r\nzero\r\n");
  EXPECT_EQ(Cmd({"EXISTS", "a"}), ":0");
}

TEST_F(ProtocolTest, PipelinedWritesBeforeFlushAndSwapDbAreOrdered) {
  RawConnection raw(port());
  ASSERT_TRUE(raw.Send(EncodeCommand({"SET", "k", "v"}) + EncodeCommand({"SWAPDB", "0", "1"}) +
                       EncodeCommand({"GET", "k"}) + EncodeCommand({"SET", "j", "w"}) +
                       EncodeCommand({"FLUSHDB"}) + EncodeCommand({"DBSIZE"}) +
                       EncodeCommand({"SELECT", "1"}) + EncodeCommand({"GET", "k"})));
  EXPECT_EQ(raw.ReadReplies(8), "+OK\r\n+OK\r\n$-1\r\n+OK\r\n+OK\r\n:0\r\n+OK\r\n$1\r\nv\r\n");
}

TEST_F(ProtocolTest, ClientThatNeverReadsRepliesDoesNotHurtOthers) {
  RawConnection greedy(port());
  std::string batch;
  for (int i = 0; i < 2000; ++i) batch += EncodeCommand({"GET", "sentinel"});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(greedy.Send(batch));
  ExpectHealthy();
}

}  // namespace
}  // namespace keel::server::test
