// Connection: one client's TCP socket, its request parser and its buffers, on one io thread.
//
// Reads feed the incremental RESP parser; every complete request in the buffer is executed
// in order and its reply appended to the output buffer, which is written in one go
// (pipelining). When more than kMaxPendingOutput bytes of replies wait to be written, reading
// pauses until the client catches up, so a client that pipelines without reading cannot
// grow the server's memory without bound.
//
// Ownership: shared_ptr, kept alive by pending async operations and by the Server's client
// registry (weak). Thread-safety: all members are used on the connection's io_context thread;
// other threads may only call Kill(), which posts to it.
#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <utility>  // before Asio: Boost 1.74 uses std::exchange without it in C++20

#include <boost/asio.hpp>

#include "resp/reply_builder.h"
#include "resp/request_parser.h"
#include "server/commands/command.h"
#include "server/exec_batch.h"
#include "server/net/client.h"

namespace keel::server {

class Server;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  static constexpr size_t kMaxPendingOutput = 64u << 20;
  static constexpr size_t kReadChunk = 16u << 10;

  Connection(Server& server, boost::asio::ip::tcp::socket socket, uint64_t id);
  ~Connection();

  void Start();
  // Closes the connection from any thread.
  void Kill();

  // Blocking commands (see server/blocking.h). OnBlocked runs on this connection's thread,
  // from the blocked command's handler; the others may be called from any thread.
  void OnBlocked(BlockRequest request, std::span<const std::string_view> argv);
  void PostRetry();
  // CLIENT UNBLOCK: replies the timeout reply (or an UNBLOCKED error) if still blocked.
  void PostUnblock(bool with_error);

  // Out-of-band output (pub/sub messages, MONITOR lines) from any thread, encoded for RESP2
  // and RESP3 (the client's protocol picks one; either may be shared by many receivers).
  // Never blocks the caller. A receiver whose pending output passes its class's
  // client-output-buffer-limit (hard, or soft for longer than its seconds) is disconnected.
  struct Message {
    std::string resp2;
    std::string resp3;
  };
  void Deliver(std::shared_ptr<const Message> message);
  // The output-buffer limit class of this client (set by SUBSCRIBE / MONITOR).
  enum class LimitClass : uint8_t { kNormal = 0, kReplica = 1, kPubSub = 2 };
  void set_limit_class(LimitClass c) { limit_class_.store(c, std::memory_order_relaxed); }
  Client& client() { return client_; }
  boost::asio::any_io_executor executor() { return socket_.get_executor(); }
  // On this connection's thread, while the Server publishes the keyspace events of its
  // committed commands: a message delivered to this connection itself goes to `offset` of the
  // pending output (plus what earlier such messages inserted) instead of the end, i.e.
  // before the reply of the command that raised it, as Redis orders them for RESP3.
  // EndOwnPushes returns to appending.
  void PlaceOwnPushesAt(size_t offset) { own_push_offset_ = offset; }
  void EndOwnPushes() {
    own_push_offset_ = KeyEvent::kNoReplyOffset;
    own_push_shift_ = 0;
  }

 private:
  void DoRead();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void ProcessInput();
  void MaybeWrite();
  void OnWrite(const boost::system::error_code& ec, size_t n);
  void Close();
  void UpdateParserLimits();
  void Retry();
  void FinishBlock();
  void EndBlockWithReply(bool with_error);
  void Resume();
  // Submits the pending batch (ExecBatch::CommitAsync); OnBatchCommitted, on this thread,
  // releases its replies, or on failure drops them and closes the connection.
  void CommitBatch();
  void OnBatchCommitted(Status st, ExecBatch::Events&& effects, size_t reply_start);
  bool OnOwnThread();

  Server& server_;
  boost::asio::ip::tcp::socket socket_;
  Client client_;
  resp::RequestParser parser_;
  std::vector<char> in_;  // unprocessed input (in_len_ bytes)
  size_t in_len_ = 0;
  std::vector<char> read_buf_;  // what the outstanding socket read fills
  std::string out_;             // replies not yet handed to the socket
  std::string writing_;         // replies being written
  resp::ReplyBuilder reply_;
  ExecBatch batch_;
  size_t batch_reply_start_ = 0;  // where the replies of the pending batch begin in out_
  size_t batch_replies_ = 0;      // how many commands replied since then
  bool reading_ = false;
  bool writing_active_ = false;
  bool closed_ = false;
  bool close_after_write_ = false;
  bool commit_in_flight_ = false;  // a batch is with the committer: replies and input wait
  bool in_commit_call_ = false;    // inside CommitBatch's submit (done ran inline)
  // Parked in the lock manager's ParkingLot (Server::Outcome::kWaitLocks): input and reads
  // wait until Unpark runs the command (kInput) or the blocked command's retry (kRetry) again.
  enum class Parked : uint8_t { kNo, kInput, kRetry };
  Parked parked_ = Parked::kNo;
  std::shared_ptr<Connection> park_keepalive_;  // while parked (cleared by Unpark or Close)
  void Park(Parked what);
  // Parks until the cluster leader's read barrier (ClusterNode::ReadIndex) answers.
  void AwaitReadBarrier(Parked what);
  void Unpark();

  bool OverOutputLimit(size_t pending);
  // Appends a delivered message to out_ (on this connection's thread); past the output
  // limit, drops the output and closes the connection.
  void AppendDelivered(const Message& message);
  bool over_limit_ = false;  // closing for overcoming the output-buffer limit
  size_t own_push_offset_ = KeyEvent::kNoReplyOffset;  // see PlaceOwnPushesAt
  size_t own_push_shift_ = 0;
  std::atomic<LimitClass> limit_class_{LimitClass::kNormal};
  std::atomic<uint64_t> in_flight_bytes_{0};  // delivered but not yet appended to out_
  uint64_t soft_limit_since_ms_ = 0;

  // The parked blocking command, if any.
  bool blocked_ = false;
  bool reblocked_ = false;
  uint64_t block_generation_ = 0;
  int block_db_ = 0;
  std::vector<std::string> block_argv_;
  BlockRequest block_request_;
  boost::asio::steady_timer block_timer_;
};

}  // namespace keel::server
