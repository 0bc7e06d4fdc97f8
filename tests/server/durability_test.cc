// Durability of acknowledged writes: the real keel-server binary runs as a child process, is
// killed with SIGKILL after its writes were acknowledged, and restarted on the same directory.
// Every child is stopped by pid (ChildServer's destructor), also when an assertion fails.
#include <signal.h>
#include <sys/wait.h>

#include <string>

#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

#ifndef KEEL_SERVER_BINARY
#error "KEEL_SERVER_BINARY must name the keel-server binary"
#endif

class DurabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (ExternalPort() != 0) GTEST_SKIP() << "runs the keel-server binary";
    ASSERT_FALSE(data_.path().empty());
    ASSERT_FALSE(logs_.path().empty());
  }

  // Starts keel-server on data_ and waits until it accepts connections.
  std::unique_ptr<ChildServer> Start(const std::vector<std::string>& extra = {}) {
    auto child = std::make_unique<ChildServer>(KEEL_SERVER_BINARY, data_.path(),
                                               logs_.path() + "/keel.log", extra);
    EXPECT_TRUE(child->WaitReady()) << "keel-server did not start; see " << logs_.path();
    return child;
  }

  TempDir data_{"keel-durability"};
  TempDir logs_{"keel-durability-log"};
};

TEST_F(DurabilityTest, AcknowledgedWritesSurviveKillNine) {
  constexpr int kKeys = 1000;
  {
    auto child = Start();
    ASSERT_NE(child->port(), 0);
    Client c(child->port());
    ASSERT_TRUE(c.connected()) << c.error();
    for (int i = 0; i < kKeys; ++i) {
      ASSERT_EQ(c.Cmd({"SET", "key:" + std::to_string(i), "value:" + std::to_string(i)}), "+OK");
    }
    child->Kill9();
  }
  auto child = Start();
  ASSERT_NE(child->port(), 0);
  Client c(child->port());
  ASSERT_TRUE(c.connected()) << c.error();
  EXPECT_EQ(c.Cmd({"DBSIZE"}), ":" + std::to_string(kKeys));
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_EQ(c.Cmd({"GET", "key:" + std::to_string(i)}), "value:" + std::to_string(i))
        << "key:" << i;
  }
}

TEST_F(DurabilityTest, AcknowledgedPipelinedWritesAndCountersSurviveKillNine) {
  constexpr int kKeys = 1000;
  {
    auto child = Start();
    ASSERT_NE(child->port(), 0);
    Client c(child->port());
    for (int i = 0; i < kKeys; ++i) {
      c.Append({"SET", "p:" + std::to_string(i), std::to_string(i)});
      c.Append({"INCR", "counter"});
    }
    for (int i = 0; i < kKeys; ++i) {
      ASSERT_EQ(c.GetReply(), "+OK");
      ASSERT_EQ(c.GetReply(), ":" + std::to_string(i + 1));
    }
    ASSERT_EQ(c.Cmd({"DEL", "p:0"}), ":1");
    ASSERT_EQ(c.Cmd({"SELECT", "3"}), "+OK");
    ASSERT_EQ(c.Cmd({"SET", "in-db3", "x", "EX", "1000"}), "+OK");
    child->Kill9();
  }
  auto child = Start();
  ASSERT_NE(child->port(), 0);
  Client c(child->port());
  EXPECT_EQ(c.Cmd({"DBSIZE"}), ":" + std::to_string(kKeys));  // p:1..p:999 + counter
  EXPECT_EQ(c.Cmd({"GET", "counter"}), std::to_string(kKeys));
  EXPECT_EQ(c.Cmd({"EXISTS", "p:0"}), ":0");
  EXPECT_EQ(c.Cmd({"GET", "p:999"}), "999");
  ASSERT_EQ(c.Cmd({"SELECT", "3"}), "+OK");
  EXPECT_EQ(c.Cmd({"GET", "in-db3"}), "x");
  std::string ttl = c.Cmd({"TTL", "in-db3"});
  EXPECT_TRUE(ttl == ":1000" || ttl == ":999") << ttl;
}

TEST_F(DurabilityTest, SwapDbAndFlushSurviveKillNine) {
  {
    auto child = Start();
    ASSERT_NE(child->port(), 0);
    Client c(child->port());
    ASSERT_EQ(c.Cmd({"SET", "a", "from-db0"}), "+OK");
    ASSERT_EQ(c.Cmd({"SELECT", "1"}), "+OK");
    ASSERT_EQ(c.Cmd({"SET", "b", "from-db1"}), "+OK");
    ASSERT_EQ(c.Cmd({"SELECT", "2"}), "+OK");
    ASSERT_EQ(c.Cmd({"SET", "gone", "x"}), "+OK");
    ASSERT_EQ(c.Cmd({"FLUSHDB"}), "+OK");
    ASSERT_EQ(c.Cmd({"SWAPDB", "0", "1"}), "+OK");
    child->Kill9();
  }
  auto child = Start();
  ASSERT_NE(child->port(), 0);
  Client c(child->port());
  EXPECT_EQ(c.Cmd({"KEYS", "*"}), "[b]");
  EXPECT_EQ(c.Cmd({"GET", "b"}), "from-db1");
  ASSERT_EQ(c.Cmd({"SELECT", "1"}), "+OK");
  EXPECT_EQ(c.Cmd({"KEYS", "*"}), "[a]");
  ASSERT_EQ(c.Cmd({"SELECT", "2"}), "+OK");
  EXPECT_EQ(c.Cmd({"DBSIZE"}), ":0");
}

TEST_F(DurabilityTest, CleanShutdownOnSigtermKeepsDataAndExitsZero) {
  {
    auto child = Start();
    ASSERT_NE(child->port(), 0);
    Client c(child->port());
    ASSERT_EQ(c.Cmd({"SET", "k", "v"}), "+OK");
    int status = child->Terminate();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  }
  auto child = Start();
  ASSERT_NE(child->port(), 0);
  Client c(child->port());
  EXPECT_EQ(c.Cmd({"GET", "k"}), "v");
}

TEST_F(DurabilityTest, RepeatedCrashesLoseNothingAcknowledged) {
  int next = 0;
  for (int round = 0; round < 3; ++round) {
    auto child = Start();
    ASSERT_NE(child->port(), 0);
    Client c(child->port());
    EXPECT_EQ(c.Cmd({"DBSIZE"}), ":" + std::to_string(next));
    for (int i = 0; i < 100; ++i, ++next) {
      ASSERT_EQ(c.Cmd({"SET", "r:" + std::to_string(next), "v"}), "+OK");
    }
    child->Kill9();
  }
  auto child = Start();
  Client c(child->port());
  EXPECT_EQ(c.Cmd({"DBSIZE"}), ":" + std::to_string(next));
}

}  // namespace
}  // namespace keel::server::test
