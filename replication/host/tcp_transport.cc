#include "replication/host/tcp_transport.h"

#include <boost/asio.hpp>
#include <deque>

#include "datatypes/encoding.h"
#include "replication/codec.h"

namespace keel::replication {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kNodeIdLen = 40;
constexpr size_t kHelloLen = 1 + 8 + 8 + kNodeIdLen;

bool DecodeHello(std::string_view body, TcpTransport::Hello* out) {
  if (body.size() != kHelloLen || body[0] != 1) return false;
  out->cluster = GetFixed64LE(body.data() + 1);
  out->replica = GetFixed64LE(body.data() + 9);
  out->node_id.assign(body.data() + 17, kNodeIdLen);
  return out->replica != kNoReplica;
}

}  // namespace

std::string TcpTransport::EncodeFrame(FrameKind kind, std::string_view body) {
  std::string out;
  out.reserve(5 + body.size());
  PutFixed32LE(&out, static_cast<uint32_t>(body.size() + 1));
  out.push_back(static_cast<char>(kind));
  out.append(body);
  return out;
}

std::string TcpTransport::EncodeHello(const Hello& hello) {
  std::string body(1, '\1');
  PutFixed64LE(&body, hello.cluster);
  PutFixed64LE(&body, hello.replica);
  std::string id = hello.node_id;
  id.resize(kNodeIdLen, '0');
  body += id;
  return EncodeFrame(FrameKind::kHello, body);
}

// Reads frames from a socket, one at a time.
class FrameReader {
 public:
  // Parses what `buf` holds: returns false on a malformed stream; sets *kind/*body for a
  // complete frame and how many bytes it used.
  static bool Next(std::string_view buf, TcpTransport::FrameKind* kind, std::string_view* body,
                   size_t* used) {
    *used = 0;
    if (buf.size() < 4) return true;
    uint32_t len = GetFixed32LE(buf.data());
    if (len == 0 || len > TcpTransport::kMaxFrameBytes) return false;
    if (buf.size() < 4 + static_cast<size_t>(len)) return true;
    auto k = static_cast<uint8_t>(buf[4]);
    if (k < 1 || k > 5) return false;
    *kind = static_cast<TcpTransport::FrameKind>(k);
    *body = buf.substr(5, len - 1);
    *used = 4 + len;
    return true;
  }
};

struct TcpTransport::Impl {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  tcp::acceptor acceptor{io};
  std::thread thread;
  Hello self;
  std::atomic<uint64_t> cluster{0};
  MessageHandler on_message;
  RequestHandler on_request;
  PublishHandler on_publish;

  struct Peer {
    explicit Peer(asio::io_context& io) : socket(io), timer(io) {}
    std::string host;
    uint16_t port = 0;
    tcp::socket socket;
    asio::steady_timer timer;
    std::deque<std::string> queue;
    size_t queued_bytes = 0;
    bool connected = false, connecting = false, writing = false, retry_pending = false;
    int backoff_ms = 50;
    uint64_t generation = 0;  // bumped when the address changes or the peer goes
  };
  std::map<ReplicaId, std::shared_ptr<Peer>> peers;  // bus thread only

  // --- outbound ---
  void Dial(ReplicaId id, const std::shared_ptr<Peer>& p) {
    if (p->connected || p->connecting) return;
    p->connecting = true;
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(p->host, ec);
    if (ec) {
      // A host name: resolve synchronously (rare; addresses are normally IPs).
      tcp::resolver r(io);
      auto results = r.resolve(p->host, std::to_string(p->port), ec);
      if (ec || results.empty()) {
        p->connecting = false;
        Retry(id, p);
        return;
      }
      addr = results.begin()->endpoint().address();
    }
    uint64_t gen = p->generation;
    p->socket = tcp::socket(io);
    p->socket.async_connect(tcp::endpoint(addr, p->port), [this, id, p, gen](auto ec2) {
      p->connecting = false;
      if (gen != p->generation) return;
      if (ec2) {
        Retry(id, p);
        return;
      }
      boost::system::error_code ignored;
      p->socket.set_option(tcp::no_delay(true), ignored);
      p->connected = true;
      p->backoff_ms = 50;
      Hello h = self;
      h.cluster = cluster.load();
      p->queue.push_front(EncodeHello(h));
      p->queued_bytes += p->queue.front().size();
      Flush(id, p);
      WatchClose(id, p, gen);
    });
  }
  // A read on the outbound socket only notices the peer closing it.
  void WatchClose(ReplicaId id, const std::shared_ptr<Peer>& p, uint64_t gen) {
    auto buf = std::make_shared<std::array<char, 64>>();
    p->socket.async_read_some(asio::buffer(*buf), [this, id, p, gen, buf](auto ec, size_t) {
      if (gen != p->generation) return;
      if (ec) {
        Drop(id, p);
        return;
      }
      WatchClose(id, p, gen);  // nothing is expected from this side; ignore it
    });
  }
  void Drop(ReplicaId id, const std::shared_ptr<Peer>& p) {
    boost::system::error_code ignored;
    p->socket.close(ignored);
    bool was = p->connected;
    p->connected = false;
    p->writing = false;
    ++p->generation;
    // Frames queued for a connection that is gone: the core resends what matters.
    p->queue.clear();
    p->queued_bytes = 0;
    if (was || !p->connecting) Retry(id, p);
  }
  void Retry(ReplicaId id, const std::shared_ptr<Peer>& p) {
    uint64_t gen = p->generation;
    p->retry_pending = true;
    p->timer.expires_after(std::chrono::milliseconds(p->backoff_ms));
    p->backoff_ms = std::min(p->backoff_ms * 2, 1000);
    p->timer.async_wait([this, id, p, gen](auto ec) {
      p->retry_pending = false;
      if (ec || gen != p->generation) return;
      auto it = peers.find(id);
      if (it == peers.end() || it->second != p) return;
      Dial(id, p);
    });
  }
  void Flush(ReplicaId id, const std::shared_ptr<Peer>& p) {
    if (!p->connected || p->writing || p->queue.empty()) return;
    p->writing = true;
    auto batch = std::make_shared<std::string>();
    while (!p->queue.empty() && batch->size() < (1u << 20)) {
      *batch += p->queue.front();
      p->queued_bytes -= p->queue.front().size();
      p->queue.pop_front();
    }
    uint64_t gen = p->generation;
    asio::async_write(p->socket, asio::buffer(*batch), [this, id, p, gen, batch](auto ec, size_t) {
      if (gen != p->generation) return;
      p->writing = false;
      if (ec) {
        Drop(id, p);
        return;
      }
      Flush(id, p);
    });
  }
  void Enqueue(ReplicaId id, std::string frame) {
    auto it = peers.find(id);
    if (it == peers.end()) return;  // no address known: dropped
    auto& p = it->second;
    if (p->queue.size() >= kMaxQueuedFrames || p->queued_bytes + frame.size() > kMaxQueuedBytes) {
      return;  // bounded: the core resends
    }
    p->queued_bytes += frame.size();
    p->queue.push_back(std::move(frame));
    if (!p->connected) {
      if (!p->retry_pending) Dial(id, p);  // else the backoff timer dials
      return;
    }
    Flush(id, p);
  }

  // --- inbound ---
  struct Inbound : std::enable_shared_from_this<Inbound> {
    explicit Inbound(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    std::string buf;
    std::array<char, 65536> chunk;
    bool said_hello = false;
    Hello peer;
  };
  void AcceptNext() {
    acceptor.async_accept([this](auto ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        boost::system::error_code ignored;
        s.set_option(tcp::no_delay(true), ignored);
        auto in = std::make_shared<Inbound>(std::move(s));
        Read(in);
      }
      AcceptNext();
    });
  }
  void Read(const std::shared_ptr<Inbound>& in) {
    in->socket.async_read_some(asio::buffer(in->chunk), [this, in](auto ec, size_t n) {
      if (ec) return;  // closed: the socket goes with the last reference
      in->buf.append(in->chunk.data(), n);
      size_t pos = 0;
      while (true) {
        FrameKind kind = FrameKind::kHello;
        std::string_view body;
        size_t used;
        if (!FrameReader::Next(std::string_view(in->buf).substr(pos), &kind, &body, &used) ||
            !Handle(in, kind, body, used)) {
          boost::system::error_code ignored;
          in->socket.close(ignored);  // bad input: drop the connection, change nothing
          return;
        }
        if (used == 0) break;
        pos += used;
      }
      in->buf.erase(0, pos);
      Read(in);
    });
  }
  // Returns false to drop the connection.
  bool Handle(const std::shared_ptr<Inbound>& in, FrameKind kind, std::string_view body,
              size_t used) {
    if (used == 0) return true;
    if (!in->said_hello) {
      if (kind != FrameKind::kHello || !DecodeHello(body, &in->peer)) return false;
      in->said_hello = true;
      return true;
    }
    switch (kind) {
      case FrameKind::kPaxos: {
        uint64_t ours = cluster.load();
        if (ours == 0 || in->peer.cluster != ours || body.size() < 8) return false;
        GroupId group = GetFixed64LE(body.data());
        Message m;
        if (DecodeMessage(body.substr(8), &m) != Status::kOk) return false;
        if (m.from != in->peer.replica || m.to != self.replica) return false;
        on_message(group, std::move(m));
        return true;
      }
      case FrameKind::kPublish: {
        uint64_t ours = cluster.load();
        if (ours == 0 || in->peer.cluster != ours || body.size() < 4) return false;
        uint32_t n = GetFixed32LE(body.data());
        if (n > body.size() - 4) return false;
        if (on_publish) on_publish(body.substr(4, n), body.substr(4 + n));
        return true;
      }
      case FrameKind::kRequest: {
        std::string reply = on_request ? on_request(in->peer, body) : std::string();
        auto frame = std::make_shared<std::string>(EncodeFrame(FrameKind::kReply, reply));
        asio::async_write(in->socket, asio::buffer(*frame), [in, frame](auto, size_t) {});
        return true;
      }
      default:
        return false;
    }
  }
};

TcpTransport::TcpTransport(Hello self, MessageHandler on_message, RequestHandler on_request)
    : impl_(std::make_unique<Impl>()) {
  impl_->self = std::move(self);
  impl_->cluster = impl_->self.cluster;
  impl_->on_message = std::move(on_message);
  impl_->on_request = std::move(on_request);
}

TcpTransport::~TcpTransport() { Stop(); }

keel::Status TcpTransport::Start(const std::string& ip, uint16_t port) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(ip, ec);
  if (ec) return keel::Status(Code::kInvalidArgument, "invalid cluster bus address '" + ip + "'");
  tcp::endpoint ep(addr, port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(128, ec);
  if (ec) {
    return keel::Status(Code::kStorage, "Could not bind the cluster bus port " + ip + ":" +
                                            std::to_string(port) + ": " + ec.message());
  }
  port_ = a.local_endpoint().port();
  impl_->AcceptNext();
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
  return keel::Status::Ok();
}

void TcpTransport::Stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  asio::post(impl_->io, [impl = impl_.get()] {
    boost::system::error_code ec;
    impl->acceptor.close(ec);
    for (auto& [id, p] : impl->peers) {
      ++p->generation;
      p->socket.close(ec);
      p->timer.cancel();
    }
    impl->peers.clear();
    impl->io.stop();
  });
  impl_->thread.join();
}

void TcpTransport::set_publish_handler(PublishHandler handler) {
  impl_->on_publish = std::move(handler);
}

void TcpTransport::Broadcast(std::string_view channel, std::string_view message) {
  std::string body;
  PutFixed32LE(&body, static_cast<uint32_t>(channel.size()));
  body.append(channel);
  body.append(message);
  if (body.size() + 1 > kMaxFrameBytes) return;
  asio::post(impl_->io, [impl = impl_.get(), frame = EncodeFrame(FrameKind::kPublish, body)] {
    for (auto& [id, p] : impl->peers) impl->Enqueue(id, frame);
  });
}

void TcpTransport::SetCluster(uint64_t cluster) {
  impl_->cluster = cluster;
  // Reconnect so that peers see the new hello.
  asio::post(impl_->io, [impl = impl_.get()] {
    for (auto& [id, p] : impl->peers) {
      if (p->connected) impl->Drop(id, p);
    }
  });
}

void TcpTransport::SetPeer(ReplicaId id, const std::string& host, uint16_t port) {
  {
    std::lock_guard<std::mutex> l(addresses_mu_);
    addresses_[id] = {host, port};
  }
  asio::post(impl_->io, [impl = impl_.get(), id, host, port] {
    auto& p = impl->peers[id];
    if (p && p->host == host && p->port == port) return;
    if (p) {
      ++p->generation;
      boost::system::error_code ec;
      p->socket.close(ec);
      p->timer.cancel();
    }
    p = std::make_shared<Impl::Peer>(impl->io);
    p->host = host;
    p->port = port;
    impl->Dial(id, p);
  });
}

void TcpTransport::RemovePeer(ReplicaId id) {
  {
    std::lock_guard<std::mutex> l(addresses_mu_);
    addresses_.erase(id);
  }
  asio::post(impl_->io, [impl = impl_.get(), id] {
    auto it = impl->peers.find(id);
    if (it == impl->peers.end()) return;
    ++it->second->generation;
    boost::system::error_code ec;
    it->second->socket.close(ec);
    it->second->timer.cancel();
    impl->peers.erase(it);
  });
}

void TcpTransport::Send(GroupId group, const Message& m) {
  std::string body;
  PutFixed64LE(&body, group);
  body += EncodeMessage(m);
  if (body.size() + 1 > kMaxFrameBytes) return;  // never sent; the core sends smaller batches
  asio::post(impl_->io, [impl = impl_.get(), to = m.to,
                         frame = EncodeFrame(FrameKind::kPaxos, body)]() mutable {
    impl->Enqueue(to, std::move(frame));
  });
}

void TcpTransport::Post(std::function<void()> fn) { asio::post(impl_->io, std::move(fn)); }

void TcpTransport::PostAfter(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto timer = std::make_shared<asio::steady_timer>(impl_->io, delay);
  timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) {
    if (!ec) fn();
  });
}

bool TcpTransport::InThread() const { return impl_->io.get_executor().running_in_this_thread(); }

keel::Result<std::string> TcpTransport::Call(ReplicaId to, std::string body,
                                             std::chrono::milliseconds timeout) {
  std::pair<std::string, uint16_t> address;
  {
    std::lock_guard<std::mutex> l(addresses_mu_);
    auto it = addresses_.find(to);
    if (it == addresses_.end()) {
      return keel::Status(Code::kInvalidArgument,
                          "no address known for replica " + std::to_string(to));
    }
    address = it->second;
  }
  return Request(address.first, address.second, std::move(body), timeout);
}

keel::Result<std::string> TcpTransport::Request(const std::string& host, uint16_t port,
                                                std::string body,
                                                std::chrono::milliseconds timeout) {
  asio::io_context io(1);
  tcp::socket socket(io);
  std::string reply;
  keel::Status outcome(Code::kInvalidArgument, "no answer");
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) {
    tcp::resolver r(io);
    auto results = r.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) return keel::Status(Code::kInvalidArgument, "unknown host " + host);
    addr = results.begin()->endpoint().address();
  }
  Hello h = impl_->self;
  h.cluster = impl_->cluster.load();
  auto out = std::make_shared<std::string>(EncodeHello(h) + EncodeFrame(FrameKind::kRequest, body));
  std::string in;
  std::array<char, 4096> chunk;
  std::function<void(boost::system::error_code, size_t)> on_read = [&](auto rec, size_t n) {
    if (rec) {
      outcome = keel::Status(Code::kInvalidArgument, "connection closed: " + rec.message());
      return;
    }
    in.append(chunk.data(), n);
    FrameKind kind = FrameKind::kHello;
    std::string_view frame_body;
    size_t used;
    if (!FrameReader::Next(in, &kind, &frame_body, &used) ||
        (used > 0 && kind != FrameKind::kReply)) {
      outcome = keel::Status(Code::kInvalidArgument, "not a Keel cluster bus");
      return;
    }
    if (used > 0) {
      reply.assign(frame_body);
      outcome = keel::Status::Ok();
      return;
    }
    socket.async_read_some(asio::buffer(chunk), on_read);
  };
  socket.async_connect(tcp::endpoint(addr, port), [&](auto cec) {
    if (cec) {
      outcome = keel::Status(Code::kInvalidArgument, cec.message());
      return;
    }
    asio::async_write(socket, asio::buffer(*out), [&](auto wec, size_t) {
      if (wec) {
        outcome = keel::Status(Code::kInvalidArgument, wec.message());
        return;
      }
      socket.async_read_some(asio::buffer(chunk), on_read);
    });
  });
  io.run_for(timeout);
  if (!io.stopped()) outcome = keel::Status(Code::kInvalidArgument, "timed out");
  boost::system::error_code ignored;
  socket.close(ignored);
  if (!outcome.ok()) return outcome;
  return reply;
}

}  // namespace keel::replication
