#include "server/net/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "server/observability/log.h"
#include "server/server.h"

namespace keel::server {

namespace asio = boost::asio;

namespace {

std::string EndpointText(const asio::ip::tcp::endpoint& ep) {
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

Connection::Connection(Server& server, asio::ip::tcp::socket socket, uint64_t id)
    : server_(server),
      socket_(std::move(socket)),
      reply_(&out_),
      batch_(&server.storage()),
      block_timer_(socket_.get_executor()) {
  batch_.set_on_commit(
      [srv = &server](const ExecBatch::Events& events) { srv->watches().Touch(events.modified); },
      [srv = &server, this](ExecBatch::Events&& events) {
        srv->OnCommitted(std::move(events), this);
      });
  client_.id = id;
  client_.batch = &batch_;
  batch_.set_notify_flags(&server.notify_flags());
  client_.connection = this;
  client_.created_ms = server.NowMs();
  client_.last_active_ms.store(client_.created_ms);
  client_.fd = socket_.native_handle();
  boost::system::error_code ec;
  auto remote = socket_.remote_endpoint(ec);
  if (!ec) client_.addr = EndpointText(remote);
  auto local = socket_.local_endpoint(ec);
  if (!ec) client_.laddr = EndpointText(local);
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  int64_t keepalive = server_.config().GetInt("tcp-keepalive");
  if (keepalive > 0) {
    socket_.set_option(asio::socket_base::keep_alive(true), ec);
    int secs = static_cast<int>(keepalive);
    setsockopt(client_.fd, IPPROTO_TCP, TCP_KEEPIDLE, &secs, sizeof(secs));
  }
  client_.authenticated = !server_.requirepass_set();
  UpdateParserLimits();
}

Connection::~Connection() { server_.Unregister(client_.id); }

void Connection::UpdateParserLimits() {
  resp::ParserLimits limits;
  limits.max_bulk_len = server_.proto_max_bulk_len();
  limits.authenticated = client_.authenticated || !server_.requirepass_set();
  parser_.set_limits(limits);
}

void Connection::Start() { DoRead(); }

void Connection::Kill() {
  // Gone from the client list at once, as Redis frees a killed client synchronously: a second
  // CLIENT KILL, CLIENT LIST or INFO no longer sees it while the close is pending.
  server_.Unregister(client_.id);
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->Close(); });
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  if (park_keepalive_) {
    // Let go of a parked connection later, not from inside its own member function.
    asio::post(socket_.get_executor(), [keep = std::move(park_keepalive_)] {});
  }
  if (blocked_) FinishBlock();
  server_.OnClientClosed(client_, this);
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  server_.Unregister(client_.id);
}

void Connection::DoRead() {
  if (closed_ || reading_ || close_after_write_ || commit_in_flight_ || parked_ != Parked::kNo) {
    return;
  }
  if (out_.size() + writing_.size() > kMaxPendingOutput) return;  // resumes after a write
  // Into a buffer of its own: a read stays outstanding while a blocked client or a commit
  // waits, and meanwhile ProcessInput (resumed by the timer, a wake-up or the committer) may
  // move or grow in_.
  // Sized to what ProcessInput reserved for a large bulk (up to 1 MB), so a big value
  // still arrives in few reads.
  size_t want = std::clamp(in_.size() - in_len_, kReadChunk, size_t{1} << 20);
  if (read_buf_.size() != want) read_buf_.resize(want);
  reading_ = true;
  socket_.async_read_some(asio::buffer(read_buf_.data(), read_buf_.size()),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      size_t n) { self->OnRead(ec, n); });
}

void Connection::OnRead(const boost::system::error_code& ec, size_t n) {
  reading_ = false;
  if (ec || closed_) {
    Close();
    return;
  }
  if (in_.size() - in_len_ < n) in_.resize(std::max(in_.size() * 2, in_len_ + kReadChunk));
  std::memcpy(in_.data() + in_len_, read_buf_.data(), n);
  in_len_ += n;
  client_.net_in.fetch_add(n, std::memory_order_relaxed);
  ++client_.read_burst;
  server_.stats().net_input_bytes.fetch_add(n, std::memory_order_relaxed);
  server_.stats().reads_processed.fetch_add(1, std::memory_order_relaxed);
  client_.last_active_ms.store(server_.NowMs(), std::memory_order_relaxed);
  ProcessInput();
  MaybeWrite();
  DoRead();
}

void Connection::ProcessInput() {
  size_t pos = 0;
  // While a commit is in flight nothing runs: OnBatchCommitted resumes here.
  while (pos < in_len_ && !client_.close_after_reply && !close_after_write_ && !blocked_ &&
         !commit_in_flight_ && parked_ == Parked::kNo) {
    std::string_view buf(in_.data() + pos, in_len_ - pos);
    resp::ParseStatus st = parser_.Parse(buf);
    if (st == resp::ParseStatus::kIncomplete) {
      size_t need = parser_.bytes_needed_hint();
      if (in_len_ - pos > static_cast<size_t>(server_.query_buffer_limit())) {
        LogRateLimited(LogLevel::kWarning, "query-buffer-limit",
                       "Closing client that reached max query buffer length (id=" +
                           std::to_string(client_.id) + ")");
        close_after_write_ = true;
        break;
      }
      if (need > 0 && pos + need + 2 > in_.size()) {
        // Reserve the whole bulk once rather than doubling repeatedly.
        if (pos > 0) {
          std::memmove(in_.data(), in_.data() + pos, in_len_ - pos);
          in_len_ -= pos;
          pos = 0;
        }
        in_.resize(need + kReadChunk);
      }
      break;
    }
    if (st == resp::ParseStatus::kError) {
      reply_.Error("ERR " + std::string(parser_.error()));
      LogRateLimited(LogLevel::kVerbose, "protocol-error",
                     "Protocol error (" + std::string(parser_.error()) +
                         ") from client id=" + std::to_string(client_.id));
      close_after_write_ = true;
      break;
    }
    const auto& args = parser_.args();
    if (!args.empty()) {
      bool was_auth = client_.authenticated;
      if (!batch_.pending()) {
        batch_reply_start_ = out_.size();
        batch_replies_ = 0;
      }
      Server::Outcome outcome = server_.Execute(client_, args, reply_);
      if (outcome == Server::Outcome::kCommitFirst || batch_.resume_requested()) {
        // The command needs the pending batch applied first (or an EXEC block stopped
        // between two of its commits): commit, and parse it again once that is done (at
        // once with a local committer, else from OnBatchCommitted).
        parser_.Reset();
        CommitBatch();
        continue;
      }
      if (outcome == Server::Outcome::kWaitLocks) {
        // A lock it needs is held elsewhere: run it again once something is released.
        parser_.Reset();
        Park(Parked::kInput);
        break;
      }
      if (outcome == Server::Outcome::kWaitRead) {
        parser_.Reset();
        AwaitReadBarrier(Parked::kInput);
        break;
      }
      if (batch_.commit_failed()) {
        out_.resize(std::min(batch_reply_start_, out_.size()));
        reply_.Error("ERR storage error: the write batch could not be committed");
        close_after_write_ = true;
        break;
      }
      ++batch_replies_;
      if (was_auth != client_.authenticated) UpdateParserLimits();
      reply_.set_protocol(client_.protocol);
    }
    pos += parser_.consumed();
    parser_.Reset();
    // A whole-store command (FLUSHDB...) is committed before anything else runs.
    if (batch_.commit_requested()) CommitBatch();
  }
  CommitBatch();
  if (pos > 0) {
    std::memmove(in_.data(), in_.data() + pos, in_len_ - pos);
    in_len_ -= pos;
  }
  // Give back a large buffer once it is drained.
  if (in_len_ == 0 && in_.size() > (1u << 20)) {
    in_.resize(kReadChunk);
    in_.shrink_to_fit();
  }
  client_.query_buffer_bytes.store(in_len_, std::memory_order_relaxed);
  if (client_.close_after_reply) close_after_write_ = true;
}

void Connection::OnBlocked(BlockRequest request, std::span<const std::string_view> argv) {
  if (client_.retrying) {
    // Still nothing to serve: stay in line, keeping the original deadline.
    reblocked_ = true;
    if (!request.rewritten_argv.empty()) block_argv_ = std::move(request.rewritten_argv);
    return;
  }
  blocked_ = true;
  client_.blocked.store(true, std::memory_order_relaxed);
  ++block_generation_;
  block_db_ = client_.db;
  if (!request.rewritten_argv.empty()) {
    block_argv_ = std::move(request.rewritten_argv);
  } else {
    block_argv_.assign(argv.begin(), argv.end());
  }
  block_request_ = std::move(request);
  server_.blocking().Add(shared_from_this(), block_db_, block_request_.keys,
                         block_request_.wake_all);
  if (block_request_.timeout_ms > 0) {
    block_timer_.expires_after(std::chrono::milliseconds(block_request_.timeout_ms));
    block_timer_.async_wait(
        [self = shared_from_this(), gen = block_generation_](const boost::system::error_code& ec) {
          if (ec || !self->blocked_ || gen != self->block_generation_) return;
          self->EndBlockWithReply(/*with_error=*/false);
        });
  }
}

void Connection::FinishBlock() {
  server_.blocking().Remove(this, block_db_, block_request_.keys);
  blocked_ = false;
  client_.blocked.store(false, std::memory_order_relaxed);
  ++block_generation_;
  block_timer_.cancel();
}

void Connection::EndBlockWithReply(bool with_error) {
  if (!blocked_ || closed_) return;
  if (parked_ == Parked::kRetry) {
    parked_ = Parked::kNo;    // answered: the wake-up is moot
    park_keepalive_.reset();  // the blocking registry and the caller hold it too
  }
  if (!with_error && block_request_.timeout_reply == BlockRequest::TimeoutReply::kRetry) {
    // The command answers itself, one last time, without blocking.
    ++block_generation_;
    block_timer_.cancel();
    client_.block_timed_out = true;
    Retry();
    client_.block_timed_out = false;
    return;
  }
  FinishBlock();
  if (with_error) {
    reply_.Error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
  } else if (block_request_.timeout_reply == BlockRequest::TimeoutReply::kNullBulk) {
    reply_.NullBulk();
  } else {
    reply_.NullArray();
  }
  Resume();
}

bool Connection::OverOutputLimit(size_t pending) {
  auto limit = server_.output_limit(static_cast<int>(limit_class_.load(std::memory_order_relaxed)));
  if (limit.hard > 0 && pending > limit.hard) return true;
  if (limit.soft > 0 && pending > limit.soft) {
    uint64_t now = server_.NowMs();
    if (soft_limit_since_ms_ == 0) soft_limit_since_ms_ = now;
    return now - soft_limit_since_ms_ >= limit.soft_seconds * 1000;
  }
  soft_limit_since_ms_ = 0;
  return false;
}

void Connection::Deliver(std::shared_ptr<const Message> message) {
  if (OnOwnThread()) {
    // On this connection's own io thread (the publisher, or a writer committing, shares it):
    // append at once, so that a RESP3 client publishing to a channel it subscribes to gets
    // the message before the PUBLISH reply, as from Redis.
    AppendDelivered(*message);
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->MaybeWrite(); });
    return;
  }
  size_t size = message->resp3.size();
  uint64_t in_flight = in_flight_bytes_.fetch_add(size, std::memory_order_relaxed) + size;
  auto limit = server_.output_limit(static_cast<int>(limit_class_.load(std::memory_order_relaxed)));
  if (limit.hard > 0 &&
      in_flight + client_.output_buffer_bytes.load(std::memory_order_relaxed) > limit.hard) {
    // Too far behind already: drop the message and disconnect rather than queue more.
    in_flight_bytes_.fetch_sub(size, std::memory_order_relaxed);
    Kill();
    return;
  }
  asio::post(socket_.get_executor(),
             [self = shared_from_this(), message = std::move(message), size] {
               self->in_flight_bytes_.fetch_sub(size, std::memory_order_relaxed);
               self->AppendDelivered(*message);
               self->MaybeWrite();
             });
}

void Connection::AppendDelivered(const Message& message) {
  if (closed_ || over_limit_) return;
  const std::string& bytes = client_.protocol >= 3 ? message.resp3 : message.resp2;
  if (own_push_offset_ != KeyEvent::kNoReplyOffset && client_.protocol >= 3) {
    size_t at = std::min(own_push_offset_ + own_push_shift_, out_.size());
    out_.insert(at, bytes);
    own_push_shift_ += bytes.size();
  } else {
    out_ += bytes;
  }
  if (OverOutputLimit(out_.size() + writing_.size())) {
    LogRateLimited(LogLevel::kWarning, "output-buffer-limit",
                   "Client id=" + std::to_string(client_.id) +
                       " closed for overcoming of output buffer limits.");
    // Drop what is queued and close from a handler of its own: this may run inside one of
    // this connection's own commands (a PUBLISH to itself).
    over_limit_ = true;
    std::string().swap(out_);
    Kill();
  }
}

void Connection::PostRetry() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->Retry(); });
}

void Connection::PostUnblock(bool with_error) {
  asio::post(socket_.get_executor(),
             [self = shared_from_this(), with_error] { self->EndBlockWithReply(with_error); });
}

void Connection::Retry() {
  if (closed_ || !blocked_) return;
  std::vector<std::string_view> argv(block_argv_.begin(), block_argv_.end());
  int saved_db = client_.db;
  client_.db = block_db_;
  reblocked_ = false;
  client_.retrying = true;
  batch_reply_start_ = out_.size();
  batch_replies_ = 1;
  // A blocked client's batch is empty (committed before it blocked): nothing to commit first.
  Server::Outcome outcome;
  while ((outcome = server_.Execute(client_, argv, reply_)) == Server::Outcome::kCommitFirst) {
    (void)batch_.Commit();
  }
  client_.retrying = false;
  client_.db = saved_db;
  if (outcome == Server::Outcome::kWaitLocks) {
    Park(Parked::kRetry);  // still blocked: try again once the lock is released
    return;
  }
  if (outcome == Server::Outcome::kWaitRead) {
    AwaitReadBarrier(Parked::kRetry);
    return;
  }
  if (reblocked_) {
    CommitBatch();
    return;
  }
  // Served (or failed): leave the line before the commit wakes the next waiter.
  FinishBlock();
  Resume();
}

void Connection::Park(Parked what) {
  parked_ = what;
  // Nothing else (no read, write or timer outstanding) may own the connection meanwhile.
  park_keepalive_ = shared_from_this();
  server_.storage().locks().parking().Park(batch_.wait_generation(), [weak = weak_from_this()] {
    // On the releasing thread: only schedule the retry on this connection's own.
    auto self = weak.lock();
    if (!self) return;
    auto executor = self->socket_.get_executor();
    asio::post(executor, [self = std::move(self)] { self->Unpark(); });
  });
}

void Connection::AwaitReadBarrier(Parked what) {
  parked_ = what;
  park_keepalive_ = shared_from_this();
  uint64_t burst = client_.read_burst;
  server_.cluster()->ReadIndex([weak = weak_from_this(), burst](Status st) {
    auto self = weak.lock();
    if (!self) return;
    auto executor = self->socket_.get_executor();
    asio::post(executor, [self = std::move(self), burst, ok = st.ok()] {
      // On failure (leadership lost) the command runs again and is redirected.
      if (ok) self->client_.read_barrier_burst = burst;
      self->Unpark();
    });
  });
}

void Connection::Unpark() {
  auto keepalive = std::move(park_keepalive_);
  Parked what = parked_;
  if (closed_ || what == Parked::kNo) return;  // a stale wake-up
  parked_ = Parked::kNo;
  if (what == Parked::kRetry) {
    Retry();
    return;
  }
  ProcessInput();
  MaybeWrite();
  DoRead();
}

void Connection::Resume() {
  CommitBatch();
  ProcessInput();
  MaybeWrite();
  DoRead();
}

bool Connection::OnOwnThread() {
  auto executor = socket_.get_executor();  // target() points into it: keep it alive
  auto* own = executor.target<asio::io_context::executor_type>();
  return own != nullptr && own->running_in_this_thread();
}

void Connection::CommitBatch() {
  if (!batch_.pending() || commit_in_flight_) return;
  // The batch's replies (from batch_reply_start_ on) are withheld until the committer
  // says: nothing is written to the socket, and no further input is processed, meanwhile.
  commit_in_flight_ = true;
  in_commit_call_ = true;
  batch_.CommitAsync([self = shared_from_this(), start = batch_reply_start_](
                         Status st, ExecBatch::Events&& effects) mutable {
    if (self->OnOwnThread()) {
      self->OnBatchCommitted(std::move(st), std::move(effects), start);
      return;
    }
    auto executor = self->socket_.get_executor();
    asio::post(executor, [self = std::move(self), st = std::move(st), effects = std::move(effects),
                          start]() mutable {
      self->OnBatchCommitted(std::move(st), std::move(effects), start);
    });
  });
  in_commit_call_ = false;
}

void Connection::OnBatchCommitted(Status st, ExecBatch::Events&& effects, size_t reply_start) {
  commit_in_flight_ = false;
  if (st.ok()) {
    if (!effects.modified.empty() || !effects.notifications.empty()) {
      server_.OnCommitted(std::move(effects), this);
    }
  } else {
    // Every client's next write may fail the same way (disk full...): one line a second.
    LogRateLimited(LogLevel::kWarning, "write-batch-commit",
                   "Write batch commit failed: " + st.detail());
    out_.resize(std::min(reply_start, out_.size()));
    // Every command of the batch gets the error in place of its reply (a read in it may
    // have seen the batch's own writes): the client's pipeline stays in step and it may
    // retry them. Unless the batch's replies cannot be counted that way: an EXEC block
    // stopped between two of its commits, or a client that subscribed (pushes are not
    // replies); then it gets one error and the connection closes.
    std::string text = server_.CommitErrorText(st);
    if (client_.exec_resume || client_.in_pubsub() || batch_replies_ == 0) {
      reply_.Error(text);
      close_after_write_ = true;
    } else {
      for (size_t i = 0; i < batch_replies_; ++i) reply_.Error(text);
    }
    if (client_.exec_resume) {
      // A piece of an exclusive EXEC block failed: the rest does not run; its locks go.
      client_.exec_resume.reset();
      client_.in_exec = false;
      client_.SyncShared();
    }
    batch_.Abort();
  }
  if (in_commit_call_) return;  // completed inline: CommitBatch's caller carries on
  if (closed_) return;
  ProcessInput();
  MaybeWrite();
  DoRead();
}

void Connection::MaybeWrite() {
  client_.output_buffer_bytes.store(out_.size() + writing_.size(), std::memory_order_relaxed);
  if (closed_ || over_limit_ || writing_active_ || commit_in_flight_) return;
  if (out_.empty()) {
    if (close_after_write_) Close();
    return;
  }
  writing_.swap(out_);
  out_.clear();
  writing_active_ = true;
  asio::async_write(socket_, asio::buffer(writing_),
                    [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
                      self->OnWrite(ec, n);
                    });
}

void Connection::OnWrite(const boost::system::error_code& ec, size_t n) {
  writing_active_ = false;
  if (ec) {
    Close();
    return;
  }
  client_.net_out.fetch_add(n, std::memory_order_relaxed);
  server_.stats().net_output_bytes.fetch_add(n, std::memory_order_relaxed);
  server_.stats().writes_processed.fetch_add(1, std::memory_order_relaxed);
  if (writing_.capacity() > (4u << 20)) {
    std::string().swap(writing_);
  } else {
    writing_.clear();
  }
  MaybeWrite();
  DoRead();
}

}  // namespace keel::server
