// The write door seen from clients: every write of every command family reaches RocksDB as
// mutations through the committer, a second store applying the recorded mutations with its
// clock hours ahead ends up identical, a commit failure fails exactly the clients whose
// commands were in that mutation, and a committer completing on its own thread later (as
// replication will) keeps every client's semantics.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/datatypes/replay.h"
#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

constexpr uint64_t kStartMs = 1'700'000'000'000;
constexpr uint64_t kHours = 3'600'000;
constexpr char kCommitError[] = "-ERR storage error: the write batch could not be committed";

class WriteDoorServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartWriter(); }
  void TearDown() override { StopWriter(); }

  void StartWriter(ConfigPairs config = {}) {
    keel_ = std::make_unique<InProcessServer>(dir_.path(), std::move(config),
                                              [c = clock_] { return c->load(); });
    ASSERT_TRUE(keel_->ok()) << keel_->error();
    recorder_ = std::make_unique<keel::test::RecordingCommitter>(&keel_->server().storage());
    keel_->server().storage().set_committer(recorder_.get());
    client_ = std::make_unique<Client>(keel_->port());
    ASSERT_TRUE(client_->connected());
  }
  void StopWriter() {
    client_.reset();
    if (recorder_) recorder_->Drain();
    if (keel_) keel_->Stop();
    keel_.reset();
  }
  std::string Cmd(const std::vector<std::string>& argv) { return client_->Cmd(argv); }

  TempDir dir_;
  std::shared_ptr<std::atomic<uint64_t>> clock_ = std::make_shared<std::atomic<uint64_t>>(kStartMs);
  std::unique_ptr<InProcessServer> keel_;
  std::unique_ptr<keel::test::RecordingCommitter> recorder_;
  std::unique_ptr<Client> client_;
};

// A seeded random command over every family, on a small key space so that commands meet
// (and sometimes collide with WRONGTYPE): strings, keys, hashes, sets, sorted sets, lists,
// streams, expiries, whole-db commands.
std::vector<std::string> RandomCommand(std::mt19937_64& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  auto key = [&](const char* prefix) { return std::string(prefix) + std::to_string(pick(6)); };
  auto num = [&](int n) { return std::to_string(pick(n)); };
  auto member = [&] { return "m" + num(12); };
  switch (pick(44)) {
    case 0:
      return {"SET", key("s"), "v" + num(1000)};
    case 1:
      return {"SET", key("s"), "v" + num(1000), "PX", std::to_string(1 + pick(800))};
    case 2:
      return {"SET", key("s"), "x", "EX", "1", "NX"};
    case 3:
      return {"APPEND", key("s"), "tail"};
    case 4:
      return {"INCRBY", key("n"), num(100)};
    case 5:
      return {"GETDEL", key("s")};
    case 6:
      return {"SETRANGE", key("s"), num(20), "abc"};
    case 7:
      return {"DEL", key("s"), key("h"), key("l")};
    case 8:
      return {"EXPIRE", key(pick(2) ? "h" : "z"), "1"};
    case 9:
      return {"PEXPIRE", key(pick(2) ? "l" : "t"), std::to_string(100 + pick(900))};
    case 10:
      return {"PERSIST", key(pick(2) ? "h" : "s")};
    case 11:
      return {"RENAME", key("h"), key("h")};
    case 12:
      return {"COPY", key("z"), key("z"), "REPLACE"};
    case 13:
      return {"MOVE", key("s"), "1"};
    case 14:
      return {"HSET", key("h"), "f" + num(10), "v" + num(100), "g" + num(10), "w"};
    case 15:
      return {"HDEL", key("h"), "f" + num(10)};
    case 16:
      return {"HINCRBY", key("h"), "c", num(10)};
    case 17:
      return {"SADD", key("t"), member(), member(), member()};
    case 18:
      return {"SREM", key("t"), member()};
    case 19:
      return {"SPOP", key("t")};  // random on the writer, deterministic in its batch
    case 20:
      return {"SMOVE", key("t"), key("t"), member()};
    case 21:
      return {"ZADD", key("z"), num(100), member(), num(100), member()};
    case 22:
      return {"ZINCRBY", key("z"), "2.5", member()};
    case 23:
      return {"ZPOPMIN", key("z")};
    case 24:
      return {"ZREM", key("z"), member()};
    case 25:
      return {"LPUSH", key("l"), "a" + num(100), "b" + num(100)};
    case 26:
      return {"RPUSH", key("l"), "c" + num(100)};
    case 27:
      return {"LPOP", key("l")};
    case 28:
      return {"RPOPLPUSH", key("l"), key("l")};
    case 29:
      return {"LTRIM", key("l"), "0", num(5)};
    case 30:
      return {"LSET", key("l"), "0", "set"};
    case 31:
      return {"XADD", key("x"), "*", "f", num(100)};
    case 32:
      return {"XADD", key("x"), "MAXLEN", "5", "*", "g", num(100)};
    case 33:
      return {"XGROUP", "CREATE", key("x"), "grp", "0", "MKSTREAM"};
    case 34:
      return {"XREADGROUP", "GROUP", "grp", "c" + num(2), "COUNT", "2", "STREAMS", key("x"), ">"};
    case 35:
      return {"XTRIM", key("x"), "MAXLEN", "3"};
    case 36:
      return {"XAUTOCLAIM", key("x"), "grp", "c9", "0", "0-0", "COUNT", "2"};
    case 37:
      return {"SRANDMEMBER", key("t"), "-3"};
    case 38:
      return {"GET", key("s")};
    case 39:
      return {"BLPOP", key("l"), "0.01"};
    case 40:
      return {"ZUNIONSTORE", key("z"), "2", key("z"), key("z")};
    case 41:
      return {"SINTERSTORE", key("t"), key("t"), key("t")};
    case 42:
      return {"PEXPIREAT", key("s"), std::to_string(kStartMs + 60'000 + pick(600'000))};
    default:
      return {"SELECT", num(3)};
  }
}

TEST_F(WriteDoorServerTest, RecordedMutationsReplayToAnIdenticalStoreWhoseClockIsHoursAhead) {
  std::mt19937_64 rng(20261207);
  for (int step = 0; step < 2500; ++step) {
    // Time moves on between requests (keys expire: lazily on access and by the
    // housekeeper, which runs meanwhile and submits its deletions through the same door).
    clock_->fetch_add(rng() % 40);
    if (rng() % 200 == 0) clock_->fetch_add(2000);
    uint64_t kind = rng() % 100;
    if (kind < 8) {
      // MULTI/EXEC: one mutation.
      client_->Append({"MULTI"});
      int n = 1 + static_cast<int>(rng() % 5);
      for (int i = 0; i < n; ++i) client_->Append(RandomCommand(rng));
      client_->Append({"EXEC"});
      for (int i = 0; i < n + 2; ++i)
        ASSERT_EQ(client_->GetReply().rfind("(io error", 0), std::string::npos);
    } else if (kind < 9) {
      ASSERT_EQ(Cmd({"SWAPDB", "0", std::to_string(1 + rng() % 2)}), "+OK");
    } else if (kind < 10 && step % 7 == 0) {
      ASSERT_EQ(Cmd({"FLUSHDB"}), "+OK");
    } else {
      // A pipeline: one mutation for its writes.
      int n = 1 + static_cast<int>(rng() % 8);
      std::string sent;
      for (int i = 0; i < n; ++i) {
        auto cmd = RandomCommand(rng);
        for (const auto& a : cmd) sent += a + " ";
        sent += "| ";
        client_->Append(cmd);
      }
      for (int i = 0; i < n; ++i) {
        ASSERT_EQ(client_->GetReply().rfind("(io error", 0), std::string::npos)
            << "step " << step << ": " << sent;
      }
    }
  }
  // Let the housekeeper expire what is due by now.
  clock_->fetch_add(5000);
  ASSERT_TRUE(WaitUntil([&] { return keel_->server().storage().RunExpiryCycle(10000) == 0; }));
  std::vector<int64_t> dbsize;
  for (int db = 0; db < 3; ++db) {
    ASSERT_EQ(Cmd({"SELECT", std::to_string(db)}), "+OK");
    dbsize.push_back(std::stoll(Cmd({"DBSIZE"}).substr(1)));
  }
  EXPECT_GT(dbsize[0] + dbsize[1] + dbsize[2], 0);
  size_t records = recorder_->count();
  EXPECT_GT(records, 1000u);
  StopWriter();

  auto writer_clock = std::make_shared<std::atomic<uint64_t>>(clock_->load());
  auto writer = keel::test::OpenStore(dir_.path(), writer_clock, true);
  ASSERT_NE(writer, nullptr);
  for (int db = 0; db < 3; ++db) EXPECT_EQ(writer->KeyCount(db), dbsize[db]) << db;
  TempDir replica_dir;
  auto replica_clock = std::make_shared<std::atomic<uint64_t>>(clock_->load() + 5 * kHours);
  auto replica = keel::test::OpenStore(replica_dir.path(), replica_clock, false);
  ASSERT_NE(replica, nullptr);
  ASSERT_TRUE(recorder_->ReplayNew(replica.get()).ok());
  keel::test::ExpectSameStores(writer.get(), replica.get());
  EXPECT_GE(replica->NextVersion(), writer->NextVersion());
}

TEST_F(WriteDoorServerTest, CommitFailureFailsExactlyTheClientsWhoseCommandsWereInTheMutation) {
  recorder_->FailIfContains("poison");
  auto other = std::make_unique<Client>(keel_->port());
  ASSERT_EQ(other->Cmd({"SET", "before", "1"}), "+OK");

  // One pipeline, one mutation: all of its replies are withheld and each replaced by the
  // error; the connection stays in step and goes on.
  client_->Append({"SET", "a1", "x"});
  client_->Append({"SET", "poison", "y"});
  client_->Append({"INCR", "counter"});
  EXPECT_EQ(client_->GetReply(), kCommitError);
  EXPECT_EQ(client_->GetReply(), kCommitError);
  EXPECT_EQ(client_->GetReply(), kCommitError);
  EXPECT_EQ(Cmd({"PING"}), "+PONG");

  // A transaction containing a failing write fails as a whole.
  auto tx = std::make_unique<Client>(keel_->port());
  tx->Append({"MULTI"});
  tx->Append({"SET", "t1", "x"});
  tx->Append({"LPUSH", "poison-list", "y"});
  tx->Append({"EXEC"});
  // MULTI and the queued commands wrote nothing: their replies stand; EXEC's is the error.
  EXPECT_EQ(tx->GetReply(), "+OK");
  EXPECT_EQ(tx->GetReply(), "+QUEUED");
  EXPECT_EQ(tx->GetReply(), "+QUEUED");
  EXPECT_EQ(tx->GetReply(), kCommitError);

  // Everyone else carries on, and nothing of the failed mutations was applied.
  EXPECT_EQ(other->Cmd({"SET", "after", "2"}), "+OK");
  EXPECT_EQ(other->Cmd({"MGET", "before", "after", "a1", "counter", "t1"}),
            "[1,2,(nil),(nil),(nil)]");
  EXPECT_EQ(other->Cmd({"DBSIZE"}), ":2");
  EXPECT_EQ(recorder_->failed(), 2u);
}

TEST_F(WriteDoorServerTest, CommitterCompletingLaterOnItsOwnThreadKeepsClientSemantics) {
  recorder_->Defer(std::chrono::milliseconds(2));
  // Pipelined writes and reads of the connection's own writes.
  for (int i = 0; i < 20; ++i) client_->Append({"RPUSH", "list", std::to_string(i)});
  client_->Append({"LLEN", "list"});
  client_->Append({"DBSIZE"});  // a keyless read waits for the pending writes
  for (int i = 0; i < 20; ++i) EXPECT_EQ(client_->GetReply(), ":" + std::to_string(i + 1));
  EXPECT_EQ(client_->GetReply(), ":20");
  EXPECT_EQ(client_->GetReply(), ":1");
  // An acknowledged write is visible to every other client.
  auto other = std::make_unique<Client>(keel_->port());
  EXPECT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(other->Cmd({"GET", "k"}), "v");
  // MULTI/EXEC and WATCH.
  EXPECT_EQ(Cmd({"WATCH", "k"}), "+OK");
  EXPECT_EQ(other->Cmd({"SET", "k", "changed"}), "+OK");
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "mine"}), "+QUEUED");
  EXPECT_EQ(Cmd({"EXEC"}), "(nil)");
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"INCR", "n"}), "+QUEUED");
  EXPECT_EQ(Cmd({"INCR", "n"}), "+QUEUED");
  EXPECT_EQ(Cmd({"EXEC"}), "[:1,:2]");
  // A blocked client is woken by a write committed later on the committer's thread.
  std::string popped;
  std::thread waiter([&] {
    Client blocked(keel_->port());
    popped = blocked.Cmd({"BLPOP", "queue", "5"});
  });
  ASSERT_TRUE(WaitUntil([&] {
    return other->Cmd({"CLIENT", "LIST"}).find("cmd=blpop") != std::string::npos;
  }));
  EXPECT_EQ(other->Cmd({"LPUSH", "queue", "job"}), ":1");
  waiter.join();
  EXPECT_EQ(popped, "[queue,job]");
  // Whole-db commands and expiry go through the same committer.
  EXPECT_EQ(Cmd({"SET", "ttl", "x", "PX", "100"}), "+OK");
  clock_->fetch_add(200);
  ASSERT_TRUE(WaitUntil([&] { return other->Cmd({"EXISTS", "ttl"}) == ":0"; }));
  EXPECT_EQ(Cmd({"SWAPDB", "0", "1"}), "+OK");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":0");
  EXPECT_EQ(Cmd({"SWAPDB", "0", "1"}), "+OK");
  EXPECT_EQ(Cmd({"FLUSHALL"}), "+OK");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":0");
  // Failures reported from the committer's thread fail exactly their client.
  recorder_->FailIfContains("poison");
  auto victim = std::make_unique<Client>(keel_->port());
  victim->Append({"SET", "ok-looking", "1"});
  victim->Append({"SET", "poison", "1"});
  EXPECT_EQ(victim->GetReply(), kCommitError);
  EXPECT_EQ(victim->GetReply(), kCommitError);
  EXPECT_EQ(other->Cmd({"EXISTS", "ok-looking", "poison"}), ":0");
  EXPECT_EQ(Cmd({"SET", "fine", "1"}), "+OK");
}

// One io thread, a committer that holds every mutation until released: what a client
// waiting for a lock held by a batch in flight does to the others on its io thread.
class WriteDoorParkingTest : public WriteDoorServerTest {
 protected:
  void SetUp() override {
    StartWriter(ConfigPairs{{"io-threads", "1"}});
    if (HasFatalFailure()) return;
    recorder_->Defer(std::chrono::milliseconds(0));
  }
  size_t Parked() { return keel_->server().storage().locks().parking().parked(); }
};

TEST_F(WriteDoorParkingTest, AWriteToAKeyWhoseCommitIsInFlightWaitsWithoutBlockingItsIoThread) {
  recorder_->Hold();
  RawConnection first(keel_->port());
  ASSERT_TRUE(first.Send(EncodeCommand({"INCR", "k"})));
  ASSERT_TRUE(WaitUntil([&] { return recorder_->queued() == 1; }));
  // The second writer needs k's stripe, held until the first INCR is applied: it parks.
  RawConnection second(keel_->port());
  ASSERT_TRUE(second.Send(EncodeCommand({"INCR", "k"}) + EncodeCommand({"GET", "k"})));
  ASSERT_TRUE(WaitUntil([&] { return Parked() == 1; }));
  // Meanwhile the one io thread serves everybody else, reads and writes of other keys.
  Client other(keel_->port());
  EXPECT_EQ(other.Cmd({"PING"}), "+PONG");
  EXPECT_EQ(other.Cmd({"GET", "k"}), "(nil)");
  EXPECT_EQ(second.ReadReply(std::chrono::milliseconds(50)), "");
  recorder_->Release();
  EXPECT_EQ(first.ReadReplies(1), ":1\r\n");
  EXPECT_EQ(second.ReadReplies(2), ":2\r\n$1\r\n2\r\n");
  EXPECT_EQ(Parked(), 0u);
  EXPECT_EQ(other.Cmd({"SET", "other", "x"}), "+OK");
}

TEST_F(WriteDoorParkingTest, FlushDbWaitsForWritesInFlightAndHoldsOffNewOnesWithoutBlocking) {
  EXPECT_EQ(Cmd({"SET", "old", "1"}), "+OK");
  recorder_->Hold();
  RawConnection writer(keel_->port());
  ASSERT_TRUE(writer.Send(EncodeCommand({"SET", "a", "1"})));
  ASSERT_TRUE(WaitUntil([&] { return recorder_->queued() == 1; }));
  // FLUSHDB claims the store and waits for the write in flight to be applied.
  RawConnection flusher(keel_->port());
  ASSERT_TRUE(flusher.Send(EncodeCommand({"FLUSHDB"}) + EncodeCommand({"EXISTS", "a", "old"})));
  ASSERT_TRUE(WaitUntil([&] { return Parked() == 1; }));
  // A later write waits for the flush (writer preference), a PING does not.
  RawConnection late(keel_->port());
  ASSERT_TRUE(late.Send(EncodeCommand({"SET", "b", "2"})));
  ASSERT_TRUE(WaitUntil([&] { return Parked() == 2; }));
  Client other(keel_->port());
  EXPECT_EQ(other.Cmd({"PING"}), "+PONG");
  recorder_->Release();
  EXPECT_EQ(writer.ReadReplies(1), "+OK\r\n");
  EXPECT_EQ(flusher.ReadReplies(2), "+OK\r\n:0\r\n");  // the flush came after SET a
  EXPECT_EQ(late.ReadReplies(1), "+OK\r\n");           // and SET b after the flush
  EXPECT_EQ(other.Cmd({"MGET", "old", "a", "b"}), "[(nil),(nil),2]");
}

TEST_F(WriteDoorParkingTest, ExecWithFlushDbCommitsInPiecesWithoutBlockingItsIoThread) {
  EXPECT_EQ(Cmd({"SET", "old", "1"}), "+OK");
  recorder_->Hold();
  RawConnection tx(keel_->port());
  ASSERT_TRUE(tx.Send(EncodeCommand({"MULTI"}) + EncodeCommand({"SET", "a", "1"}) +
                      EncodeCommand({"FLUSHDB"}) + EncodeCommand({"SET", "b", "2"}) +
                      EncodeCommand({"SWAPDB", "0", "1"}) + EncodeCommand({"DBSIZE"}) +
                      EncodeCommand({"EXEC"}) + EncodeCommand({"SELECT", "1"}) +
                      EncodeCommand({"MGET", "old", "a", "b"})));
  // The block's first piece (SET a) is in flight; nobody else may see any of the block.
  ASSERT_TRUE(WaitUntil([&] { return recorder_->queued() == 1; }));
  Client other(keel_->port());
  EXPECT_EQ(other.Cmd({"PING"}), "+PONG");
  RawConnection reader(keel_->port());
  ASSERT_TRUE(reader.Send(EncodeCommand({"GET", "old"})));
  ASSERT_TRUE(WaitUntil([&] { return Parked() == 1; }));
  EXPECT_EQ(reader.ReadReply(std::chrono::milliseconds(50)), "");
  recorder_->Release();
  EXPECT_EQ(tx.ReadReplies(9),
            "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n"
            "*5\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n:0\r\n+OK\r\n*3\r\n$-1\r\n$-1\r\n$1\r\n2\r\n");
  EXPECT_EQ(reader.ReadReplies(1), "$-1\r\n");  // the reader saw the block whole
  EXPECT_GE(recorder_->count(), 4u);            // SET a, FLUSHDB, SET b, SWAPDB
}

TEST_F(WriteDoorParkingTest, AFailedPieceOfAnExecBlockFailsTheBlockAndLetsItsLocksGo) {
  recorder_->FailIfContains("poison");
  RawConnection tx(keel_->port());
  ASSERT_TRUE(tx.Send(EncodeCommand({"MULTI"}) + EncodeCommand({"SET", "poison", "1"}) +
                      EncodeCommand({"FLUSHDB"}) + EncodeCommand({"SET", "b", "2"}) +
                      EncodeCommand({"EXEC"})));
  EXPECT_EQ(tx.ReadReplies(5),
            std::string("+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n") + kCommitError + "\r\n");
  // The store is free again, and nothing after the failed piece ran.
  EXPECT_EQ(Cmd({"SET", "c", "3"}), "+OK");
  EXPECT_EQ(Cmd({"MGET", "poison", "b", "c"}), "[(nil),(nil),3]");
}

TEST_F(WriteDoorParkingTest, WhileACommitIsInFlightItsIoThreadServesOtherClients) {
  recorder_->Hold();

  RawConnection writer(keel_->port());
  ASSERT_TRUE(writer.Send(EncodeCommand({"SET", "a", "1"}) + EncodeCommand({"DBSIZE"}) +
                          EncodeCommand({"FLUSHDB"}) + EncodeCommand({"SET", "b", "2"}) +
                          EncodeCommand({"DBSIZE"})));
  ASSERT_TRUE(WaitUntil([&] { return recorder_->queued() == 1; }));
  // The one io thread is free: another client is served while the write waits.
  Client other(keel_->port());
  EXPECT_EQ(other.Cmd({"PING"}), "+PONG");
  EXPECT_EQ(other.Cmd({"GET", "a"}), "(nil)");  // not applied yet
  // The writer's replies are withheld until the committer says.
  EXPECT_EQ(writer.ReadReply(std::chrono::milliseconds(100)), "");
  recorder_->Release();
  // DBSIZE ran after SET was applied, FLUSHDB after that, and the rest after the flush.
  EXPECT_EQ(writer.ReadReplies(5), "+OK\r\n:1\r\n+OK\r\n+OK\r\n:1\r\n");
  EXPECT_EQ(other.Cmd({"MGET", "a", "b"}), "[(nil),2]");
}

}  // namespace
}  // namespace keel::server::test
