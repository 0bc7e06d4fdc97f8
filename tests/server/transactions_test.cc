// MULTI / EXEC / DISCARD / WATCH / UNWATCH over the wire, with Redis 7.0's exact replies:
// queueing, EXECABORT, runtime errors that do not roll back, WATCH invalidation by every kind
// of change (other clients, the client itself, expiry, RENAME, other transactions, FLUSHDB,
// FLUSHALL, SWAPDB), atomicity towards other clients, and no global lock while EXEC runs.
// Every expectation holds against redis-server too (KEEL_TEST_REDIS_PORT), except the ones
// marked KEEL_ONLY.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

using TransactionTest = ServerTest;

// Runs MULTI, the commands, EXEC on `c`, checking every command was QUEUED; returns EXEC's
// reply.
std::string Transaction(Client& c, const std::vector<std::vector<std::string>>& commands) {
  EXPECT_EQ(c.Cmd({"MULTI"}), "+OK");
  for (const auto& cmd : commands) EXPECT_EQ(c.Cmd(cmd), "+QUEUED") << cmd[0];
  return c.Cmd({"EXEC"});
}

// ------------------------------------------------------------------ queueing and EXEC

TEST_F(TransactionTest, MultiQueuesCommandsAndExecRunsThemInOrder) {
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "1"}), "+QUEUED");
  EXPECT_EQ(Cmd({"INCR", "k"}), "+QUEUED");
  EXPECT_EQ(Cmd({"GET", "k"}), "+QUEUED");
  EXPECT_EQ(Cmd({"EXEC"}), "[+OK,:2,2]");
  EXPECT_EQ(Cmd({"GET", "k"}), "2");
}

TEST_F(TransactionTest, QueuedCommandsDoNotRunBeforeExec) {
  auto other = NewClient();
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "v"}), "+QUEUED");
  EXPECT_EQ(other->Cmd({"GET", "k"}), "(nil)");
  EXPECT_EQ(Cmd({"EXEC"}), "[+OK]");
  EXPECT_EQ(other->Cmd({"GET", "k"}), "v");
}

TEST_F(TransactionTest, EmptyTransactionReturnsAnEmptyArray) {
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"EXEC"}), "[]");
}

TEST_F(TransactionTest, ExecWithoutMultiIsAnError) {
  EXPECT_EQ(Cmd({"EXEC"}), "-ERR EXEC without MULTI");
}

TEST_F(TransactionTest, DiscardWithoutMultiIsAnError) {
  EXPECT_EQ(Cmd({"DISCARD"}), "-ERR DISCARD without MULTI");
}

TEST_F(TransactionTest, DiscardDropsTheQueuedCommands) {
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "v"}), "+QUEUED");
  EXPECT_EQ(Cmd({"DISCARD"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "k"}), "(nil)");
  EXPECT_EQ(Cmd({"EXEC"}), "-ERR EXEC without MULTI");
}

TEST_F(TransactionTest, NestedMultiIsAnErrorThatKeepsTheTransaction) {
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "v"}), "+QUEUED");
  EXPECT_EQ(Cmd({"MULTI"}), "-ERR MULTI calls can not be nested");
  EXPECT_EQ(Cmd({"EXEC"}), "[+OK]");
}

TEST_F(TransactionTest, WatchInsideMultiIsAnErrorThatKeepsTheTransaction) {
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "v"}), "+QUEUED");
  EXPECT_EQ(Cmd({"WATCH", "k"}), "-ERR WATCH inside MULTI is not allowed");
  EXPECT_EQ(Cmd({"EXEC"}), "[+OK]");
}

TEST_F(TransactionTest, UnknownCommandInsideMultiMakesExecAbort) {
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "v"}), "+QUEUED");
  EXPECT_EQ(Cmd({"NOSUCHCMD", "x"}),
            "-ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' ");
  EXPECT_EQ(Cmd({"EXEC"}), "-EXECABORT Transaction discarded because of previous errors.");
  EXPECT_EQ(Cmd({"GET", "k"}), "(nil)");
}

TEST_F(TransactionTest, WrongArityInsideMultiMakesExecAbort) {
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k"}), "-ERR wrong number of arguments for 'set' command");
  EXPECT_EQ(Cmd({"SET", "k2", "v"}), "+QUEUED");
  EXPECT_EQ(Cmd({"EXEC"}), "-EXECABORT Transaction discarded because of previous errors.");
  EXPECT_EQ(Cmd({"GET", "k2"}), "(nil)");
  EXPECT_EQ(Cmd({"EXEC"}), "-ERR EXEC without MULTI");
}

TEST_F(TransactionTest, WrongArityOfDiscardInsideMultiMakesExecAbort) {
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"DISCARD", "x"}), "-ERR wrong number of arguments for 'discard' command");
  EXPECT_EQ(Cmd({"EXEC"}), "-EXECABORT Transaction discarded because of previous errors.");
}

TEST_F(TransactionTest, ExecWithArgumentsDiscardsTheTransactionAndSaysWhy) {
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "v"}), "+QUEUED");
  EXPECT_EQ(Cmd({"EXEC", "extra"}),
            "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' "
            "command");
  EXPECT_EQ(Cmd({"EXEC"}), "-ERR EXEC without MULTI");
  EXPECT_EQ(Cmd({"GET", "k"}), "(nil)");
}

TEST_F(TransactionTest, ExecWithArgumentsOutsideMultiIsAnExecAbort) {
  EXPECT_EQ(Cmd({"EXEC", "extra"}),
            "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' "
            "command");
}

TEST_F(TransactionTest, RuntimeErrorsInsideExecDoNotRollBackTheOtherCommands) {
  EXPECT_EQ(Transaction(*client_, {{"SET", "s", "text"},
                                   {"INCR", "s"},
                                   {"LPUSH", "s", "x"},
                                   {"APPEND", "s", "!"},
                                   {"SET", "t", "1"}}),
            "[+OK,-ERR value is not an integer or out of range,-WRONGTYPE Operation against a "
            "key holding the wrong kind of value,:5,+OK]");
  EXPECT_EQ(Cmd({"GET", "s"}), "text!");
  EXPECT_EQ(Cmd({"GET", "t"}), "1");
}

TEST_F(TransactionTest, OptionErrorsFoundAtExecTimeAreRepliedInPlace) {
  EXPECT_EQ(Transaction(*client_, {{"SETEX", "a", "-1", "x"}, {"SET", "b", "1"}}),
            "[-ERR invalid expire time in 'setex' command,+OK]");
}

TEST_F(TransactionTest, SelectInsideTheTransactionSwitchesTheDatabaseForTheRest) {
  EXPECT_EQ(Transaction(*client_, {{"SELECT", "2"}, {"SET", "x", "in2"}, {"GET", "x"}}),
            "[+OK,+OK,in2]");
  EXPECT_EQ(Cmd({"GET", "x"}), "in2");  // the SELECT stays in effect after EXEC
  EXPECT_EQ(Cmd({"SELECT", "0"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "x"}), "(nil)");
}

TEST_F(TransactionTest, BlockingCommandInsideExecTimesOutAtOnce) {
  EXPECT_EQ(Transaction(*client_, {{"BLPOP", "nolist", "0"}, {"SET", "k", "v"}}), "[(nil),+OK]");
}

TEST_F(TransactionTest, UnwatchIsQueuedInsideMulti) {
  EXPECT_EQ(Transaction(*client_, {{"UNWATCH"}}), "[+OK]");
}

TEST_F(TransactionTest, ResetLeavesTheTransaction) {
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "v"}), "+QUEUED");
  EXPECT_EQ(Cmd({"RESET"}), "+RESET");
  EXPECT_EQ(Cmd({"EXEC"}), "-ERR EXEC without MULTI");
  EXPECT_EQ(Cmd({"GET", "k"}), "(nil)");
}

TEST_F(TransactionTest, QuitInsideMultiRepliesOkAndCloses) {
  RawConnection raw(port());
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"MULTI"})), "+OK\r\n");
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"SET", "k", "v"})), "+QUEUED\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"QUIT"})), "+OK\r\n");
  EXPECT_TRUE(raw.WaitForClose());
  EXPECT_EQ(Cmd({"GET", "k"}), "(nil)");
}

TEST_F(TransactionTest, SubscribeInsideMultiRunsAtExec) {
  RawConnection raw(port());
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"MULTI"})), "+OK\r\n");
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"SUBSCRIBE", "ch"})), "+QUEUED\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"EXEC"})),
            "*1\r\n*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
  // Now in the RESP2 subscribed context: MULTI and EXEC are refused, EXEC with Redis's
  // EXECABORT wording.
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"MULTI"})),
            "-ERR Can't execute 'multi': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
            "RESET are allowed in this context\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"EXEC"})),
            "-EXECABORT Transaction discarded because of: Can't execute 'exec': only "
            "(P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
            "context\r\n");
}

TEST_F(TransactionTest, Resp3ExecRepliesKeepTheirResp3Types) {
  RawConnection raw(port());
  ASSERT_FALSE(raw.Roundtrip(EncodeCommand({"HELLO", "3"})).empty());
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"MULTI"})), "+OK\r\n");
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"GET", "missing"})), "+QUEUED\r\n");
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"CONFIG", "GET", "notify-keyspace-events"})),
            "+QUEUED\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"EXEC"})),
            "*2\r\n_\r\n%1\r\n$22\r\nnotify-keyspace-events\r\n$0\r\n\r\n");
}

// ------------------------------------------------------------------ WATCH

TEST_F(TransactionTest, WatchedKeyChangedByAnotherClientMakesExecReturnNull) {
  auto other = NewClient();
  EXPECT_EQ(Cmd({"SET", "k", "1"}), "+OK");
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(other->Cmd({"SET", "k", "2"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"SET", "k", "3"}}), "(nil)");
  EXPECT_EQ(Cmd({"GET", "k"}), "2");
}

TEST_F(TransactionTest, WatchedKeyUnchangedLetsExecRun) {
  EXPECT_EQ(Cmd({"SET", "k", "1"}), "+OK");
  EXPECT_EQ(Cmd({"WATCH", "k", "k", "missing"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"INCR", "k"}}), "[:2]");
}

TEST_F(TransactionTest, WatchedKeyChangedByTheClientItselfMakesExecReturnNull) {
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "mine"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"GET", "k"}}), "(nil)");
}

TEST_F(TransactionTest, WatchedKeyCreatedAndDeletedAgainStillCountsAsChanged) {
  auto other = NewClient();
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(other->Cmd({"SET", "k", "1"}), "+OK");
  EXPECT_EQ(other->Cmd({"DEL", "k"}), ":1");
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "(nil)");
}

TEST_F(TransactionTest, DeletingAMissingWatchedKeyIsNoChange) {
  auto other = NewClient();
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(other->Cmd({"DEL", "k"}), ":0");
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "[+PONG]");
}

TEST_F(TransactionTest, WritingTheSameValueCountsAsAChange) {
  auto other = NewClient();
  EXPECT_EQ(Cmd({"SET", "k", "same"}), "+OK");
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(other->Cmd({"SET", "k", "same"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "(nil)");
}

TEST_F(TransactionTest, ReadingAWatchedKeyIsNoChange) {
  auto other = NewClient();
  EXPECT_EQ(Cmd({"SET", "k", "1"}), "+OK");
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(other->Cmd({"GET", "k"}), "1");
  EXPECT_EQ(other->Cmd({"PERSIST", "k"}), ":0");  // nothing to persist: no change
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "[+PONG]");
}

TEST_F(TransactionTest, FailedWriteOfAWatchedKeyIsNoChange) {
  auto other = NewClient();
  EXPECT_EQ(Cmd({"SET", "k", "1"}), "+OK");
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(other->Cmd({"INCRBY", "k", "x"}), "-ERR value is not an integer or out of range");
  EXPECT_EQ(other->Cmd({"LPUSH", "k", "x"}),
            "-WRONGTYPE Operation against a key holding the wrong kind of value");
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "[+PONG]");
}

TEST_F(TransactionTest, WatchedKeyInAnotherDatabaseIsTrackedInThatDatabase) {
  auto other = NewClient();
  EXPECT_EQ(Cmd({"SELECT", "5"}), "+OK");
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(Cmd({"SELECT", "0"}), "+OK");
  EXPECT_EQ(other->Cmd({"SET", "k", "db0"}), "+OK");  // same name, other database
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "[+PONG]");
  EXPECT_EQ(Cmd({"SELECT", "5"}), "+OK");
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(other->Cmd({"SELECT", "5"}), "+OK");
  EXPECT_EQ(other->Cmd({"SET", "k", "db5"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "(nil)");
}

TEST_F(TransactionTest, WatchedKeyRenamedAwayMakesExecReturnNull) {
  auto other = NewClient();
  EXPECT_EQ(Cmd({"SET", "src", "v"}), "+OK");
  EXPECT_EQ(Cmd({"WATCH", "src"}), "+OK");
  EXPECT_EQ(other->Cmd({"RENAME", "src", "dst"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "(nil)");
}

TEST_F(TransactionTest, WatchedKeyRenamedOntoMakesExecReturnNull) {
  auto other = NewClient();
  EXPECT_EQ(Cmd({"SET", "src", "v"}), "+OK");
  EXPECT_EQ(Cmd({"WATCH", "dst"}), "+OK");
  EXPECT_EQ(other->Cmd({"RENAME", "src", "dst"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "(nil)");
}

TEST_F(TransactionTest, WatchedKeyChangedByAnotherTransactionMakesExecReturnNull) {
  auto other = NewClient();
  EXPECT_EQ(Cmd({"SET", "k", "1"}), "+OK");
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(Transaction(*other, {{"INCR", "k"}}), "[:2]");
  EXPECT_EQ(Transaction(*client_, {{"INCR", "k"}}), "(nil)");
  EXPECT_EQ(Cmd({"GET", "k"}), "2");
}

TEST_F(TransactionTest, WatchedKeyThatExpiresMakesExecReturnNull) {
  EXPECT_EQ(Cmd({"SET", "k", "v", "PX", "50"}), "+OK");
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "(nil)");
}

TEST_F(TransactionTest, WatchedKeyThatExpiresAfterExecDoesNotMatter) {
  EXPECT_EQ(Cmd({"SET", "k", "v", "EX", "100"}), "+OK");
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"GET", "k"}}), "[v]");
}

TEST_F(TransactionTest, WatchingAKeyThatAlreadyExpiredIsNoChangeWhenItIsReclaimed) {
  EXPECT_EQ(Cmd({"SET", "k", "v", "PX", "1"}), "+OK");
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  // Long enough for the expiry machinery to delete the key (Keel reclaims keys a read found
  // expired within 100 ms; Redis's active cycle samples it soon too).
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(Cmd({"DBSIZE"}), ":0");
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "[+PONG]");
}

TEST_F(TransactionTest, WritingAWatchedKeyThatAlreadyExpiredIsAChange) {
  EXPECT_EQ(Cmd({"SET", "k", "v", "PX", "1"}), "+OK");
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  auto other = NewClient();
  EXPECT_EQ(other->Cmd({"SET", "k", "new"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "(nil)");
}

TEST_F(TransactionTest, UnwatchForgetsTheWatchedKeys) {
  auto other = NewClient();
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(Cmd({"UNWATCH"}), "+OK");
  EXPECT_EQ(other->Cmd({"SET", "k", "2"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "[+PONG]");
}

TEST_F(TransactionTest, DiscardForgetsTheWatchedKeys) {
  auto other = NewClient();
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"DISCARD"}), "+OK");
  EXPECT_EQ(other->Cmd({"SET", "k", "2"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "[+PONG]");
}

TEST_F(TransactionTest, ExecForgetsTheWatchedKeysEvenWhenItFails) {
  auto other = NewClient();
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(other->Cmd({"SET", "k", "1"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "(nil)");
  EXPECT_EQ(other->Cmd({"SET", "k", "2"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "[+PONG]");
}

TEST_F(TransactionTest, QueueingErrorWinsOverAChangedWatchedKey) {
  auto other = NewClient();
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(other->Cmd({"SET", "k", "1"}), "+OK");
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"NOSUCHCMD"}), "-ERR unknown command 'NOSUCHCMD', with args beginning with: ");
  EXPECT_EQ(Cmd({"EXEC"}), "-EXECABORT Transaction discarded because of previous errors.");
}

TEST_F(TransactionTest, AbortedExecIsANullInResp3) {
  auto other = NewClient();
  RawConnection raw(port());
  ASSERT_FALSE(raw.Roundtrip(EncodeCommand({"HELLO", "3"})).empty());
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"WATCH", "k"})), "+OK\r\n");
  EXPECT_EQ(other->Cmd({"SET", "k", "1"}), "+OK");
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"MULTI"})), "+OK\r\n");
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"PING"})), "+QUEUED\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"EXEC"})), "_\r\n");
}

TEST_F(TransactionTest, AbortedExecIsANullArrayInResp2) {
  auto other = NewClient();
  RawConnection raw(port());
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"WATCH", "k"})), "+OK\r\n");
  EXPECT_EQ(other->Cmd({"SET", "k", "1"}), "+OK");
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"MULTI"})), "+OK\r\n");
  ASSERT_EQ(raw.Roundtrip(EncodeCommand({"PING"})), "+QUEUED\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"EXEC"})), "*-1\r\n");
}

// ------------------------------------------------------------------ WATCH and whole databases

TEST_F(TransactionTest, FlushdbOfAWatchedKeyThatExistedMakesExecReturnNull) {
  auto other = NewClient();
  EXPECT_EQ(Cmd({"SET", "k", "1"}), "+OK");
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(other->Cmd({"FLUSHDB"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "(nil)");
}

TEST_F(TransactionTest, FlushdbIsNoChangeForAWatchedKeyThatDidNotExist) {
  auto other = NewClient();
  EXPECT_EQ(other->Cmd({"SET", "unrelated", "1"}), "+OK");
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(other->Cmd({"FLUSHDB"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "[+PONG]");
}

TEST_F(TransactionTest, FlushdbOfAnotherDatabaseIsNoChange) {
  auto other = NewClient();
  EXPECT_EQ(Cmd({"SET", "k", "1"}), "+OK");
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(other->Cmd({"SELECT", "1"}), "+OK");
  EXPECT_EQ(other->Cmd({"SET", "k", "1"}), "+OK");
  EXPECT_EQ(other->Cmd({"FLUSHDB"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "[+PONG]");
}

TEST_F(TransactionTest, FlushallMakesExecReturnNullForAWatchedKeyInAnyDatabase) {
  auto other = NewClient();
  EXPECT_EQ(Cmd({"SELECT", "3"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "1"}), "+OK");
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(other->Cmd({"FLUSHALL"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "(nil)");
}

TEST_F(TransactionTest, SwapdbMakesExecReturnNullForAWatchedKeyInTheFirstDatabase) {
  auto other = NewClient();
  EXPECT_EQ(Cmd({"SET", "k", "1"}), "+OK");
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(other->Cmd({"SWAPDB", "0", "1"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "(nil)");
}

TEST_F(TransactionTest, SwapdbMakesExecReturnNullForAWatchedKeyThatExistsOnlyInTheOther) {
  auto other = NewClient();
  EXPECT_EQ(other->Cmd({"SELECT", "1"}), "+OK");
  EXPECT_EQ(other->Cmd({"SET", "k", "1"}), "+OK");
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");  // missing in db 0
  EXPECT_EQ(other->Cmd({"SWAPDB", "1", "0"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"GET", "k"}}), "(nil)");
}

TEST_F(TransactionTest, SwapdbIsNoChangeForAWatchedKeyMissingInBothDatabases) {
  auto other = NewClient();
  EXPECT_EQ(other->Cmd({"SET", "unrelated", "1"}), "+OK");
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(other->Cmd({"SWAPDB", "0", "1"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"PING"}}), "[+PONG]");
}

TEST_F(TransactionTest, FlushdbInsideExecRepliesLikeRedis) {
  EXPECT_EQ(Cmd({"SET", "a", "1"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"SET", "b", "2"}, {"FLUSHDB"}, {"SET", "c", "3"}}),
            "[+OK,+OK,+OK]");
  EXPECT_EQ(Cmd({"KEYS", "*"}), "[c]");
}

// Known gap: keyless reads (DBSIZE, KEYS, SCAN) inside EXEC see only committed data, not the
// transaction's own earlier writes.
TEST_F(TransactionTest, DbsizeInsideExecCountsTheTransactionsOwnWrites) {
  EXPECT_EQ(Transaction(*client_, {{"SET", "a", "1"}, {"DBSIZE"}, {"KEYS", "*"}}), "[+OK,:1,[a]]");
}

TEST_F(TransactionTest, KeysScanAndRandomkeyInsideExecSeeTheTransactionsOwnWrites) {
  ASSERT_EQ(Cmd({"SET", "old", "x"}), "+OK");
  EXPECT_EQ(Transaction(*client_, {{"DEL", "old"},
                                   {"SET", "new", "1"},
                                   {"DBSIZE"},
                                   {"KEYS", "*"},
                                   {"SCAN", "0", "COUNT", "100"},
                                   {"RANDOMKEY"},
                                   {"DEL", "new"},
                                   {"RANDOMKEY"},
                                   {"DBSIZE"}}),
            "[:1,+OK,:1,[new],[0,[new]],new,:1,(nil),:0]");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":0");
}

TEST_F(TransactionTest, SwapdbInsideExecRepliesLikeRedis) {
  EXPECT_EQ(
      Transaction(
          *client_,
          {{"SET", "a", "1"}, {"SWAPDB", "0", "1"}, {"GET", "a"}, {"SELECT", "1"}, {"GET", "a"}}),
      "[+OK,+OK,(nil),+OK,1]");
}

// ------------------------------------------------------------------ isolation and concurrency

TEST_F(TransactionTest, OtherClientsNeverSeeHalfOfATransaction) {
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    Client c(port());
    while (!stop.load()) {
      std::string r = c.Cmd({"MGET", "a", "b"});
      ++reads;
      // Both keys come from the same transaction: equal, or both missing at first.
      if (r != "[(nil),(nil)]") {
        auto comma = r.find(',');
        if (comma == std::string::npos ||
            r.substr(1, comma - 1) != r.substr(comma + 1, r.size() - comma - 2)) {
          ++torn;
        }
      }
    }
  });
  auto writer = NewClient();
  for (int i = 0; i < 300; ++i) {
    std::string v = std::to_string(i);
    ASSERT_EQ(Transaction(*writer, {{"SET", "a", v}, {"SET", "b", v}}), "[+OK,+OK]");
  }
  stop = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(torn.load(), 0);
}

TEST_F(TransactionTest, OtherClientsNeverSeeHalfOfATransactionThatFlushesOrSwaps) {
  ASSERT_EQ(Cmd({"MSET", "a", "0", "b", "0"}), "+OK");
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    Client c(port());
    while (!stop.load()) {
      // Every transaction below leaves a == b in db 0; its middle states do not.
      std::string r = c.Cmd({"MGET", "a", "b"});
      ++reads;
      auto comma = r.find(',');
      if (r.find("nil") != std::string::npos || comma == std::string::npos ||
          r.substr(1, comma - 1) != r.substr(comma + 1, r.size() - comma - 2)) {
        ++torn;
      }
    }
  });
  auto writer = NewClient();
  for (int i = 1; i <= 100; ++i) {
    std::string v = std::to_string(i);
    if (i % 2 == 0) {
      ASSERT_EQ(
          Transaction(*writer, {{"SET", "a", v}, {"FLUSHDB"}, {"SET", "a", v}, {"SET", "b", v}}),
          "[+OK,+OK,+OK,+OK]");
    } else {
      // Fill db 1 with the next pair, swap it in, and clear what was swapped out.
      ASSERT_EQ(Transaction(*writer, {{"SELECT", "1"},
                                      {"SET", "a", v},
                                      {"SET", "b", v},
                                      {"SWAPDB", "0", "1"},
                                      {"FLUSHDB"},
                                      {"SELECT", "0"}}),
                "[+OK,+OK,+OK,+OK,+OK,+OK]");
    }
  }
  stop = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(Cmd({"MGET", "a", "b"}), "[100,100]");
}

TEST_F(TransactionTest, TwentyClientsIncrementingOptimisticallyLoseNoUpdate) {
  constexpr int kClients = 20;
  constexpr int kAttempts = 30;
  EXPECT_EQ(Cmd({"SET", "counter", "0"}), "+OK");
  std::atomic<int> committed{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&] {
      Client c(port());
      for (int i = 0; i < kAttempts; ++i) {
        if (c.Cmd({"WATCH", "counter"}) != "+OK") ++failures;
        std::string v = c.Cmd({"GET", "counter"});
        long n = std::strtol(v.c_str(), nullptr, 10);
        if (c.Cmd({"MULTI"}) != "+OK") ++failures;
        if (c.Cmd({"SET", "counter", std::to_string(n + 1)}) != "+QUEUED") ++failures;
        std::string r = c.Cmd({"EXEC"});
        if (r == "[+OK]") {
          ++committed;
        } else if (r != "(nil)") {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(committed.load(), 0);
  EXPECT_EQ(Cmd({"GET", "counter"}), std::to_string(committed.load()));
}

TEST_F(TransactionTest, ExecDoesNotStopClientsOnUnrelatedKeys) {
  KEEL_ONLY();  // Redis runs EXEC on its only thread: everyone else waits
  Storage& st = server().storage();
  ASSERT_NE(st.locks().StripeOf(st.PhysicalDb(0), "busy"),
            st.locks().StripeOf(st.PhysicalDb(0), "free"));
  // Consecutive connections land on different io threads (round robin over two).
  RawConnection txn(port());
  RawConnection other(port());
  constexpr int kQueued = 150000;
  std::string pipeline = EncodeCommand({"MULTI"});
  for (int i = 0; i < kQueued; ++i) pipeline += EncodeCommand({"INCR", "busy"});
  // Queue everything and read the QUEUED replies, then send EXEC alone.
  ASSERT_TRUE(txn.Send(pipeline));
  ASSERT_FALSE(txn.ReadReplies(kQueued + 1, 60s).empty());
  ASSERT_TRUE(txn.Send(EncodeCommand({"EXEC"})));
  // While the EXEC runs, the other client's commands on another key are answered, and a
  // read of the transaction's key sees all of it or nothing.
  auto start = std::chrono::steady_clock::now();
  int answered = 0;
  std::string exec_reply;
  while (exec_reply.empty()) {
    ASSERT_EQ(other.Roundtrip(EncodeCommand({"SET", "free", "x"})), "+OK\r\n");
    std::string busy = other.Roundtrip(EncodeCommand({"GET", "busy"}));
    ++answered;
    exec_reply = txn.ReadReply(20ms);  // keeps what it read so far when it times out
    // Never part of the transaction: nothing, or all of it.
    EXPECT_TRUE(busy == "$-1\r\n" || busy == "$6\r\n150000\r\n") << busy;
    ASSERT_LT(std::chrono::steady_clock::now() - start, 120s);
  }
  EXPECT_EQ(exec_reply.rfind("*" + std::to_string(kQueued) + "\r\n:1\r\n:2\r\n", 0), 0u);
  EXPECT_GT(answered, 5);
  EXPECT_EQ(Cmd({"GET", "busy"}), std::to_string(kQueued));
}

}  // namespace
}  // namespace keel::server::test
