// The cluster bus on real loopback sockets: Paxos messages reach the addressed replica with
// their group; a connection that sends an oversized or malformed frame, a hello of another
// cluster, or a message that is not from the replica that said hello is dropped and changes
// nothing; a request to an address where no Keel node listens fails in bounded time.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "datatypes/encoding.h"
#include "replication/codec.h"
#include "replication/host/tcp_transport.h"

namespace keel::replication {
namespace {

using namespace std::chrono_literals;

struct Inbox {
  std::mutex mu;
  std::vector<std::pair<GroupId, Message>> got;
  size_t size() {
    std::lock_guard<std::mutex> l(mu);
    return got.size();
  }
};

std::string NodeId(char c) { return std::string(40, c); }

bool WaitUntil(const std::function<bool()>& f, std::chrono::milliseconds limit = 5s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return f();
}

// A raw client socket to 127.0.0.1:port.
int Dial(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

// Whether the peer closed the connection (read returns 0) within the receive timeout.
bool ClosedByPeer(int fd) {
  char buf[64];
  ssize_t n = read(fd, buf, sizeof(buf));
  return n == 0;
}

// A listening socket on a free loopback port.
int Listen(uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  EXPECT_EQ(listen(fd, 4), 0);
  return fd;
}

Message Heartbeat(ReplicaId from, ReplicaId to, uint64_t commit) {
  Message m;
  m.type = MessageType::kHeartbeat;
  m.from = from;
  m.to = to;
  m.commit = commit;
  return m;
}

std::string PaxosFrame(GroupId group, const Message& m) {
  std::string body;
  PutFixed64LE(&body, group);
  body += EncodeMessage(m);
  return TcpTransport::EncodeFrame(TcpTransport::FrameKind::kPaxos, body);
}

class TcpTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = std::make_unique<TcpTransport>(
        TcpTransport::Hello{7, 1, NodeId('a')},
        [this](GroupId g, Message m) {
          std::lock_guard<std::mutex> l(inbox_a_.mu);
          inbox_a_.got.emplace_back(g, std::move(m));
        },
        nullptr);
    b_ = std::make_unique<TcpTransport>(
        TcpTransport::Hello{7, 2, NodeId('b')},
        [this](GroupId g, Message m) {
          std::lock_guard<std::mutex> l(inbox_b_.mu);
          inbox_b_.got.emplace_back(g, std::move(m));
        },
        [](const TcpTransport::Hello& from, std::string_view body) {
          return "echo " + std::to_string(from.replica) + " " + std::string(body);
        });
    ASSERT_TRUE(a_->Start("127.0.0.1", 0).ok());
    ASSERT_TRUE(b_->Start("127.0.0.1", 0).ok());
    a_->SetPeer(2, "127.0.0.1", b_->port());
    b_->SetPeer(1, "127.0.0.1", a_->port());
  }
  void TearDown() override {
    a_->Stop();
    b_->Stop();
  }

  Inbox inbox_a_, inbox_b_;
  std::unique_ptr<TcpTransport> a_, b_;
};

TEST_F(TcpTransportTest, MessagesReachTheAddressedReplicaWithTheirGroup) {
  for (uint64_t i = 1; i <= 100; ++i) a_->Send(7, Heartbeat(1, 2, i));
  b_->Send(7, Heartbeat(2, 1, 42));
  ASSERT_TRUE(WaitUntil([&] { return inbox_b_.size() == 100 && inbox_a_.size() == 1; }));
  std::lock_guard<std::mutex> l(inbox_b_.mu);
  for (size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(inbox_b_.got[i].first, 7u);
    EXPECT_EQ(inbox_b_.got[i].second.commit, i + 1);  // in order, on one connection
  }
}

TEST_F(TcpTransportTest, BadFramesDropTheConnectionAndChangeNothing) {
  std::string hello = TcpTransport::EncodeHello({7, 1, NodeId('a')});
  struct Case {
    const char* what;
    std::string bytes;
  };
  std::string oversized("\xff\xff\xff\x7f\x02", 5);
  std::string unknown_kind =
      TcpTransport::EncodeFrame(static_cast<TcpTransport::FrameKind>(9), "x");
  std::string garbage_message = TcpTransport::EncodeFrame(TcpTransport::FrameKind::kPaxos,
                                                          std::string(8, '\0') + "not a message");
  std::vector<Case> cases = {
      {"an oversized frame", hello + oversized},
      {"a frame of an unknown kind", hello + unknown_kind},
      {"a Paxos frame before any hello", PaxosFrame(7, Heartbeat(1, 2, 1))},
      {"a malformed message", hello + garbage_message},
      {"another cluster's hello",
       TcpTransport::EncodeHello({8, 1, NodeId('a')}) + PaxosFrame(8, Heartbeat(1, 2, 1))},
      {"a message not from the replica that said hello", hello + PaxosFrame(7, Heartbeat(3, 2, 1))},
      {"a message for another replica", hello + PaxosFrame(7, Heartbeat(1, 5, 1))},
      {"a zero-length frame", hello + std::string(4, '\0')},
  };
  for (const auto& c : cases) {
    int fd = Dial(b_->port());
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, c.bytes.data(), c.bytes.size()), static_cast<ssize_t>(c.bytes.size()));
    EXPECT_TRUE(ClosedByPeer(fd)) << c.what;
    close(fd);
  }
  EXPECT_EQ(inbox_b_.size(), 0u);
  // The bus still works.
  a_->Send(7, Heartbeat(1, 2, 9));
  ASSERT_TRUE(WaitUntil([&] { return inbox_b_.size() == 1; }));
}

TEST_F(TcpTransportTest, RequestsAreAnsweredAndFailInBoundedTimeWhereNoKeelNodeListens) {
  auto reply = a_->Request("127.0.0.1", b_->port(), "hi", 2s);
  ASSERT_TRUE(reply.ok()) << reply.status().detail();
  EXPECT_EQ(*reply, "echo 1 hi");
  // A listener that accepts and never answers.
  uint16_t port = 0;
  int silent_fd = Listen(&port);
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(a_->Request("127.0.0.1", port, "hi", 500ms).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  close(silent_fd);
  // One that answers as a Redis server would.
  int talker_fd = Listen(&port);
  std::thread talker([talker_fd] {
    int fd = accept(talker_fd, nullptr, nullptr);
    const char banner[] = "-ERR unknown command\r\n";
    (void)!write(fd, banner, sizeof(banner) - 1);
    close(fd);
  });
  auto foreign = a_->Request("127.0.0.1", port, "hi", 2s);
  talker.join();
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.status().detail(), "not a Keel cluster bus");
  close(talker_fd);
  // Nothing listening any more: refused at once.
  auto nobody = a_->Request("127.0.0.1", port, "hi", 2s);
  EXPECT_FALSE(nobody.ok());
}

}  // namespace
}  // namespace keel::replication
