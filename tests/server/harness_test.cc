// The implementation of tests/server/harness.h (it lives in a *_test.cc file because the
// test binary is built from that glob), plus tests of the harness's own helpers.
#include "tests/server/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace keel::server::test {

// ------------------------------------------------------------------ TempDir

TempDir::TempDir(std::string_view prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" +
                     std::string(prefix) + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) != nullptr) path_ = buf.data();
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

// ------------------------------------------------------------------ InProcessServer

InProcessServer::InProcessServer(const std::string& dir, const ConfigPairs& extra, Clock clock) {
  auto config = std::make_unique<Config>();
  ConfigPairs pairs = {{"bind", "127.0.0.1"}, {"port", "0"},           {"dir", dir},
                       {"io-threads", "2"},   {"loglevel", "warning"}, {"tcp-keepalive", "0"},
                       {"metrics-port", "0"}};
  for (const auto& p : extra) {
    bool replaced = false;
    for (auto& q : pairs) {
      if (q.first == p.first) {
        q.second = p.second;
        replaced = true;
      }
    }
    if (!replaced) pairs.push_back(p);
  }
  Status st = config->Set(pairs, /*startup=*/true);
  if (!st.ok()) {
    error_ = "config: " + st.detail();
    return;
  }
  auto server = std::make_unique<Server>(std::move(config), std::move(clock));
  st = server->Start();
  if (!st.ok()) {
    error_ = "start: " + st.detail();
    return;
  }
  server_ = std::move(server);
  port_ = server_->port();
  waiter_ = std::thread([s = server_.get()] { s->Wait(); });
}

InProcessServer::~InProcessServer() { Stop(); }

void InProcessServer::Stop() {
  if (server_ == nullptr) return;
  server_->RequestShutdown();
  if (waiter_.joinable()) waiter_.join();
  server_.reset();
}

// ------------------------------------------------------------------ replies

std::string FormatReply(const redisReply* r) {
  if (r == nullptr) return "(null reply)";
  switch (r->type) {
    case REDIS_REPLY_STRING:
      return std::string(r->str, r->len);
    case REDIS_REPLY_STATUS:
      return "+" + std::string(r->str, r->len);
    case REDIS_REPLY_ERROR:
      return "-" + std::string(r->str, r->len);
    case REDIS_REPLY_INTEGER:
      return ":" + std::to_string(r->integer);
    case REDIS_REPLY_NIL:
      return "(nil)";
    case REDIS_REPLY_ARRAY: {
      std::string out = "[";
      for (size_t i = 0; i < r->elements; ++i) {
        if (i > 0) out += ",";
        out += FormatReply(r->element[i]);
      }
      return out + "]";
    }
    default:
      return "(unknown reply type " + std::to_string(r->type) + ")";
  }
}

// ------------------------------------------------------------------ Client

Client::Client(uint16_t port) {
  timeval tv{5, 0};
  ctx_ = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (ctx_ != nullptr && ctx_->err == 0) {
    timeval io{30, 0};
    redisSetTimeout(ctx_, io);
  }
}

Client::~Client() {
  if (ctx_ != nullptr) redisFree(ctx_);
}

std::string Client::error() const {
  if (ctx_ == nullptr) return "no context";
  return ctx_->err != 0 ? std::string(ctx_->errstr) : std::string();
}

namespace {

struct ArgvBuffers {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  explicit ArgvBuffers(const std::vector<std::string>& argv) {
    for (const auto& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
  }
};

}  // namespace

std::unique_ptr<redisReply, void (*)(void*)> Client::Raw(const std::vector<std::string>& argv) {
  if (!connected()) return {nullptr, freeReplyObject};
  ArgvBuffers b(argv);
  void* r = redisCommandArgv(ctx_, static_cast<int>(argv.size()), b.ptrs.data(), b.lens.data());
  return {static_cast<redisReply*>(r), freeReplyObject};
}

std::string Client::Cmd(const std::vector<std::string>& argv) {
  if (!connected()) return "(io error: " + error() + ")";
  auto r = Raw(argv);
  if (r == nullptr) return "(io error: " + error() + ")";
  return FormatReply(r.get());
}

void Client::Append(const std::vector<std::string>& argv) {
  if (!connected()) return;
  ArgvBuffers b(argv);
  redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), b.ptrs.data(), b.lens.data());
}

std::string Client::GetReply() {
  if (!connected()) return "(io error: " + error() + ")";
  void* r = nullptr;
  if (redisGetReply(ctx_, &r) != REDIS_OK || r == nullptr) return "(io error: " + error() + ")";
  std::string out = FormatReply(static_cast<redisReply*>(r));
  freeReplyObject(r);
  return out;
}

// ------------------------------------------------------------------ RawConnection

RawConnection::RawConnection(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fd_ = fd;
}

RawConnection::~RawConnection() { Close(); }

void RawConnection::ShutdownWrite() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

void RawConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawConnection::Send(std::string_view bytes) {
  if (fd_ < 0) return false;
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool RawConnection::Fill(std::chrono::steady_clock::time_point deadline) {
  if (fd_ < 0 || peer_closed_) return false;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int rc = poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return false;
    if (rc == 0) continue;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      peer_closed_ = true;
      return false;
    }
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }
}

std::string RawConnection::ReadBytes(size_t n, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (buffer_.size() < n && Fill(deadline)) {
  }
  std::string out = buffer_.substr(0, std::min(n, buffer_.size()));
  buffer_.erase(0, out.size());
  return out;
}

std::string RawConnection::ReadReply(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    size_t len = RespReplyLength(buffer_);
    if (len > 0) {
      std::string out = buffer_.substr(0, len);
      buffer_.erase(0, len);
      return out;
    }
    if (!Fill(deadline)) return "";
  }
}

std::string RawConnection::ReadReplies(size_t count, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string out;
  size_t pos = 0;
  for (size_t i = 0; i < count;) {
    size_t len = RespReplyLength(std::string_view(buffer_).substr(pos));
    if (len > 0) {
      pos += len;
      ++i;
      continue;
    }
    if (!Fill(deadline)) break;
  }
  out = buffer_.substr(0, pos);
  buffer_.erase(0, pos);
  return out;
}

std::string RawConnection::Roundtrip(std::string_view bytes, std::chrono::milliseconds timeout) {
  if (!Send(bytes)) return "";
  return ReadReply(timeout);
}

bool RawConnection::WaitForClose(std::chrono::milliseconds timeout, std::string* data) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Fill(deadline)) {
  }
  if (data != nullptr) data->append(buffer_);
  buffer_.clear();
  return peer_closed_;
}

namespace {

// Position after the CRLF-terminated line starting at `pos`, or npos.
size_t LineEnd(std::string_view buf, size_t pos) {
  size_t cr = buf.find("\r\n", pos);
  return cr == std::string_view::npos ? cr : cr + 2;
}

// Length of the reply starting at `pos` (0 if incomplete).
size_t ReplyAt(std::string_view buf, size_t pos) {
  if (pos >= buf.size()) return 0;
  size_t end = LineEnd(buf, pos);
  if (end == std::string_view::npos) return 0;
  char type = buf[pos];
  std::string_view header = buf.substr(pos + 1, end - pos - 3);
  switch (type) {
    case '+':
    case '-':
    case ':':
    case '_':
    case ',':
    case '#':
    case '(':
      return end - pos;
    case '$':
    case '=':
    case '!': {
      long long n = std::atoll(std::string(header).c_str());
      if (n < 0) return end - pos;
      size_t total = end + static_cast<size_t>(n) + 2;
      return total <= buf.size() ? total - pos : 0;
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      long long n = std::atoll(std::string(header).c_str());
      if (n < 0) return end - pos;
      if (type == '%' || type == '|') n *= 2;
      size_t at = end;
      for (long long i = 0; i < n; ++i) {
        size_t len = ReplyAt(buf, at);
        if (len == 0) return 0;
        at += len;
      }
      // An attribute ('|') precedes the reply it describes.
      if (type == '|') {
        size_t len = ReplyAt(buf, at);
        if (len == 0) return 0;
        at += len;
      }
      return at - pos;
    }
    default:
      return end - pos;  // not RESP: treat the line as one unit
  }
}

}  // namespace

size_t RespReplyLength(std::string_view buf) { return ReplyAt(buf, 0); }

std::string EncodeCommand(const std::vector<std::string>& argv) {
  std::string out = "*" + std::to_string(argv.size()) + "\r\n";
  for (const auto& a : argv) {
    out += "$" + std::to_string(a.size()) + "\r\n";
    out += a;
    out += "\r\n";
  }
  return out;
}

bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(10ms);
  }
}

// ------------------------------------------------------------------ ChildServer

ChildServer::ChildServer(const std::string& binary, const std::string& dir,
                         const std::string& log_path, const std::vector<std::string>& extra_args)
    : log_path_(log_path) {
  std::vector<std::string> args = {binary,  "--port",     "0",         "--bind", "127.0.0.1",
                                   "--dir", dir,          "--logfile", log_path, "--io-threads",
                                   "1",     "--loglevel", "notice"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  // Truncate any old log so WaitReady reads this run's port.
  std::ofstream(log_path, std::ios::trunc).close();
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
      dup2(devnull, 2);
    }
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  pid_ = pid;
}

ChildServer::~ChildServer() { Kill9(); }

bool ChildServer::WaitReady(std::chrono::milliseconds timeout) {
  const std::string marker = "Ready to accept connections tcp on port ";
  return WaitUntil(
             [&] {
               if (pid_ <= 0) return false;
               int status = 0;
               if (waitpid(pid_, &status, WNOHANG) == pid_) {
                 pid_ = -1;  // exited
                 return true;
               }
               std::ifstream f(log_path_);
               std::stringstream ss;
               ss << f.rdbuf();
               std::string log = ss.str();
               size_t at = log.find(marker);
               if (at == std::string::npos) return false;
               size_t end = log.find('\n', at);
               if (end == std::string::npos) return false;
               port_ = static_cast<uint16_t>(std::atoi(log.c_str() + at + marker.size()));
               return port_ != 0;
             },
             timeout) &&
         pid_ > 0 && port_ != 0;
}

void ChildServer::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

int ChildServer::Terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = -1;
  bool exited = WaitUntil([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
  if (!exited) {
    Kill9();
    return -1;
  }
  pid_ = -1;
  return status;
}

// ------------------------------------------------------------------ ServerTest

uint16_t ExternalPort() {
  const char* p = std::getenv("KEEL_TEST_REDIS_PORT");
  if (p == nullptr || *p == '\0') return 0;
  return static_cast<uint16_t>(std::atoi(p));
}

uint16_t ServerTest::port() const { return external() ? external_port_ : keel_->port(); }

void ServerTest::StartServer() {
  keel_ = std::make_unique<InProcessServer>(dir_->path(), ExtraConfig());
  ASSERT_TRUE(keel_->ok()) << keel_->error();
  client_ = std::make_unique<Client>(keel_->port());
  ASSERT_TRUE(client_->connected()) << client_->error();
}

void ServerTest::SetUp() {
  external_port_ = ExternalPort();
  if (external()) {
    client_ = std::make_unique<Client>(external_port_);
    ASSERT_TRUE(client_->connected()) << client_->error();
    ASSERT_EQ(Cmd({"FLUSHALL"}), "+OK");
    return;
  }
  dir_ = std::make_unique<TempDir>();
  ASSERT_FALSE(dir_->path().empty()) << "mkdtemp failed";
  StartServer();
}

void ServerTest::TearDown() {
  client_.reset();
  if (external()) {
    // Undo what auth tests may have configured.
    Client c(external_port_);
    c.Cmd({"AUTH", kTestPassword});
    c.Cmd({"CONFIG", "SET", "requirepass", ""});
    c.Cmd({"FLUSHALL"});
    return;
  }
  keel_.reset();
  dir_.reset();
}

void ServerTest::RestartServer() {
  ASSERT_FALSE(external());
  client_.reset();
  keel_.reset();
  StartServer();
}

void ServerTest::MakeList(const std::string& key, int db) {
  {
    auto c = NewClient();
    ASSERT_EQ(c->Cmd({"SELECT", std::to_string(db)}), "+OK");
    ASSERT_EQ(c->Cmd({"EXISTS", key}), ":0") << "MakeList: key exists";
    std::string r = c->Cmd({"LPUSH", key, "element"});
    if (r == ":1") return;
    ASSERT_FALSE(external()) << r;
    ASSERT_EQ(r.rfind("-ERR unknown command", 0), 0u) << r;
  }
  // No list commands (yet): write the key's records directly.
  Storage& st = server().storage();
  std::shared_lock<SharedGate> guard(st.db_guard());
  auto lock = st.locks().LockKey(st.PhysicalDb(db), key);
  Txn txn(&st, db, TxnMode::kWrite);
  KeyRecord rec;
  ASSERT_TRUE(txn.Load(key, &rec).ok());
  ASSERT_FALSE(rec.exists) << "MakeList: key exists";
  Metadata meta;
  meta.type = ValueType::kList;
  meta.version = st.NextVersion();
  meta.size = 1;
  txn.Store(key, &rec, meta, "");
  txn.PutSub(key, meta.version, std::string(8, '\0'), "element");
  ASSERT_TRUE(txn.Commit().ok());
}

// ------------------------------------------------------------------ tests of the harness

TEST(HarnessTest, RespReplyLengthFindsCompleteReplies) {
  EXPECT_EQ(RespReplyLength("+OK\r\n"), 5u);
  EXPECT_EQ(RespReplyLength("+OK\r"), 0u);
  EXPECT_EQ(RespReplyLength("$3\r\nabc\r\n+x"), 9u);
  EXPECT_EQ(RespReplyLength("$3\r\nab"), 0u);
  EXPECT_EQ(RespReplyLength("$-1\r\n"), 5u);
  EXPECT_EQ(RespReplyLength("*2\r\n:1\r\n$1\r\na\r\n"), 15u);
  EXPECT_EQ(RespReplyLength("*2\r\n:1\r\n"), 0u);
  EXPECT_EQ(RespReplyLength("%1\r\n+a\r\n:1\r\n"), 12u);
  EXPECT_EQ(RespReplyLength("_\r\n"), 3u);
}

TEST(HarnessTest, EncodeCommandIsBinarySafe) {
  EXPECT_EQ(EncodeCommand({"SET", std::string("a\0b", 3), "\r\n"}),
            std::string("*3\r\n$3\r\nSET\r\n$3\r\na\0b\r\n$2\r\n\r\n\r\n", 30));
}

TEST(HarnessTest, TempDirIsRemovedOnDestruction) {
  std::string path;
  {
    TempDir d;
    path = d.path();
    ASSERT_FALSE(path.empty());
    std::ofstream(path + "/f") << "x";
    EXPECT_TRUE(std::filesystem::exists(path + "/f"));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace keel::server::test
