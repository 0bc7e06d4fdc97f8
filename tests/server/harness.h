// Test harness for the server unit tests (tests/server/*_test.cc): an in-process Keel server
// on an ephemeral port with a throw-away data directory, a synchronous hiredis client whose
// replies are rendered as short canonical strings, a raw-socket client for protocol tests, a
// child-process runner for the real keel-server binary, and the ServerTest fixture tying
// them together.
//
// Reply rendering (Client::Cmd, FormatReply): bulk -> the raw bytes, nil -> "(nil)", status ->
// "+OK", error -> "-ERR ...", integer -> ":1", array -> "[a,b]" (nested as "[[a,b],c]").
//
// External mode: when the environment variable KEEL_TEST_REDIS_PORT names the port of a
// running redis-server, ServerTest talks to it instead of starting Keel (FLUSHALL before each
// test), so the expectations themselves can be checked against real Redis 7.0. Tests that
// need Keel's internals call KEEL_ONLY().
//
// Ownership: every object owns what it starts (server thread, sockets, temp dirs, child
// processes) and releases it in its destructor, also when a test fails. Thread-safety: none
// of these objects is shared between threads; tests give each thread its own Client.
#pragma once

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "server/server.h"

namespace keel::server::test {

using namespace std::chrono_literals;

// The password auth tests configure (also removed again in external mode).
inline constexpr char kTestPassword[] = "s3cret-pass";

// A directory made with mkdtemp and removed (recursively) on destruction.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "keel-srvtest");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

using ConfigPairs = std::vector<std::pair<std::string, std::string>>;

// A Server started in this process on 127.0.0.1:0 with Wait() on its own thread.
class InProcessServer {
 public:
  // Starts at once; ok() tells whether it did (error() says why not).
  InProcessServer(const std::string& dir, const ConfigPairs& extra = {}, Clock clock = {});
  ~InProcessServer();  // Stop()
  InProcessServer(const InProcessServer&) = delete;
  InProcessServer& operator=(const InProcessServer&) = delete;

  bool ok() const { return server_ != nullptr; }
  const std::string& error() const { return error_; }
  uint16_t port() const { return port_; }
  Server& server() { return *server_; }
  // RequestShutdown, join the Wait() thread, destroy the Server (closes RocksDB).
  void Stop();

 private:
  std::unique_ptr<Server> server_;
  std::thread waiter_;
  uint16_t port_ = 0;
  std::string error_;
};

// Renders a hiredis reply canonically (see the header comment).
std::string FormatReply(const redisReply* reply);

// A synchronous hiredis connection. Every call blocks for at most the timeout (30 s).
class Client {
 public:
  explicit Client(uint16_t port);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return ctx_ != nullptr && ctx_->err == 0; }
  std::string error() const;

  // Sends one command (binary safe) and returns its reply rendered by FormatReply, or
  // "(io error: ...)" if the connection failed.
  std::string Cmd(const std::vector<std::string>& argv);
  // Pipelining: queue commands, then collect the replies in order.
  void Append(const std::vector<std::string>& argv);
  std::string GetReply();
  // Like Cmd but hands back the reply itself (null on I/O error).
  std::unique_ptr<redisReply, void (*)(void*)> Raw(const std::vector<std::string>& argv);

 private:
  redisContext* ctx_ = nullptr;
};

// A plain TCP connection for protocol tests: send exact bytes, read what comes back.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Writes all of `bytes`; false if the peer is gone.
  bool Send(std::string_view bytes);
  // Reads until `n` bytes in total have arrived (returns fewer on close or timeout).
  std::string ReadBytes(size_t n, std::chrono::milliseconds timeout = 10s);
  // Reads one complete RESP2/RESP3 reply (its raw bytes); "" on close or timeout.
  std::string ReadReply(std::chrono::milliseconds timeout = 10s);
  // Reads `count` complete replies, concatenated.
  std::string ReadReplies(size_t count, std::chrono::milliseconds timeout = 30s);
  // Sends `bytes` and reads one reply.
  std::string Roundtrip(std::string_view bytes, std::chrono::milliseconds timeout = 10s);
  // Reads until the peer closes the connection; true if it did within `timeout`. Whatever
  // arrived meanwhile is appended to *data if given.
  bool WaitForClose(std::chrono::milliseconds timeout = 10s, std::string* data = nullptr);
  // Half-closes: the server sees end of input but may still reply.
  void ShutdownWrite();
  void Close();

 private:
  // Reads what is available into buffer_, waiting up to `timeout`; false on close/timeout.
  bool Fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  bool peer_closed_ = false;
  std::string buffer_;
};

// Length of the first complete RESP reply in `buf` (0 if incomplete).
size_t RespReplyLength(std::string_view buf);

// Encodes argv as a RESP multibulk request.
std::string EncodeCommand(const std::vector<std::string>& argv);

// Polls `pred` every 10 ms until it is true or `timeout` passes; returns its last value.
bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s);

// The real keel-server binary as a child process (durability tests). It listens on an
// ephemeral port, read back from its log. The destructor kills it (SIGKILL) if still running.
class ChildServer {
 public:
  ChildServer(const std::string& binary, const std::string& dir, const std::string& log_path,
              const std::vector<std::string>& extra_args = {});
  ~ChildServer();
  ChildServer(const ChildServer&) = delete;
  ChildServer& operator=(const ChildServer&) = delete;

  // Waits until the child logs its port; false if it exited or did not within `timeout`.
  bool WaitReady(std::chrono::milliseconds timeout = 30s);
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // kill -9 and reap.
  void Kill9();
  // SIGTERM and reap (clean shutdown); returns the exit status as waitpid reports it.
  int Terminate(std::chrono::milliseconds timeout = 30s);

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string log_path_;
};

// The port of an external redis-server to test against instead of Keel, or 0.
uint16_t ExternalPort();

// One server (in-process Keel, or external Redis) per test plus a connected client.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Configuration for the in-process server on top of the harness defaults.
  virtual ConfigPairs ExtraConfig() const { return {}; }

  std::string Cmd(const std::vector<std::string>& argv) { return client_->Cmd(argv); }
  std::unique_ptr<Client> NewClient() const { return std::make_unique<Client>(port()); }
  uint16_t port() const;
  bool external() const { return external_port_ != 0; }
  // The in-process server (never in external mode).
  Server& server() { return keel_->server(); }
  const std::string& data_dir() const { return dir_->path(); }
  // Stops the in-process server and starts a new one on the same directory; reconnects
  // client_.
  void RestartServer();
  // Creates `key` in logical db `db` as a one-element list, so WRONGTYPE paths can be tested
  // before Keel has list commands: through Storage directly in-process, LPUSH on Redis.
  void MakeList(const std::string& key, int db = 0);

  std::unique_ptr<Client> client_;

 private:
  void StartServer();

  uint16_t external_port_ = 0;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<InProcessServer> keel_;
};

// For tests that need the in-process server (restart, internals, Keel-only config).
#define KEEL_ONLY()                                          \
  do {                                                       \
    if (external()) GTEST_SKIP() << "needs in-process Keel"; \
  } while (0)

}  // namespace keel::server::test
