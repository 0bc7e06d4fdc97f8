// Command specifications (one row per command) and the context a handler runs in.
//
// A CommandSpec is immutable after the CommandTable is built at start-up; the table drives
// arity errors, COMMAND / COMMAND INFO / COMMAND DOCS / COMMAND GETKEYS, key locking, and the
// per-command statistics (INFO commandstats, metrics). A CommandContext lives for one command
// on one io thread; it is not shared.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "datatypes/status.h"
#include "datatypes/storage.h"
#include "resp/reply_builder.h"

namespace keel::server {

class Server;
struct Client;
struct CommandContext;

enum CommandFlag : uint32_t {
  kCmdWrite = 1u << 0,
  kCmdReadOnly = 1u << 1,
  kCmdDenyOom = 1u << 2,
  kCmdAdmin = 1u << 3,
  kCmdPubSub = 1u << 4,
  kCmdNoScript = 1u << 5,
  kCmdBlocking = 1u << 6,
  kCmdLoading = 1u << 7,
  kCmdStale = 1u << 8,
  kCmdSkipMonitor = 1u << 9,
  kCmdSkipSlowlog = 1u << 10,
  kCmdFast = 1u << 11,
  kCmdNoAuth = 1u << 12,
  kCmdMayReplicate = 1u << 13,
  kCmdNoMulti = 1u << 14,
  kCmdAllowBusy = 1u << 15,
  // Keel-internal: the command needs the connection's pending writes applied before it
  // runs (EXEC: a transaction locks its keys from an empty batch).
  kCmdCommitFirst = 1u << 27,
  // Keel-internal (not shown by COMMAND): allowed in a RESP2 subscribed connection.
  kCmdPubSubContext = 1u << 28,
  // Keel-internal: MULTI/EXEC/DISCARD/WATCH/QUIT/RESET run at once even inside MULTI.
  kCmdTxnControl = 1u << 29,
  // Keel-internal (not shown by COMMAND): the command holds the whole store (FLUSHDB,
  // FLUSHALL, SWAPDB): it runs from an empty batch with the db gate held exclusively, and
  // its mutation is committed before anything else runs.
  kCmdOwnsDbGuard = 1u << 30,
  // Keel-internal: the command never touches storage.
  kCmdNoStorage = 1u << 31,
};

// Redis's names of the public flags, in COMMAND INFO order.
std::vector<std::string_view> FlagNames(uint32_t flags);

using CommandHandler = void (*)(CommandContext& ctx);
// Extra keys to lock beyond the key positions, as (logical db, key); e.g. MOVE's target.
using ExtraLocksFn = void (*)(CommandContext& ctx,
                              std::vector<std::pair<int, std::string_view>>* out);
// Key positions for commands whose keys are not a first/last/step range.
using KeysFn = std::vector<size_t> (*)(std::span<const std::string_view> argv);

struct CommandSpec {
  std::string_view name;  // lower case; subcommands are "parent|sub"
  int arity = 0;          // argc including the name (and subcommand); negative = at least -arity
  uint32_t flags = 0;
  int first_key = 0;  // 0 = no keys
  int last_key = 0;   // negative counts from the end
  int step = 0;
  CommandHandler handler = nullptr;
  std::string_view group;  // "string", "generic", "connection", "server"...
  std::string_view summary;
  std::string_view since;
  std::string_view complexity;
  std::string_view acl;  // ACL categories, e.g. "@write @string @slow"
  KeysFn keys = nullptr;
  ExtraLocksFn extra_locks = nullptr;
  std::vector<CommandSpec> subcommands;
  size_t id = 0;  // assigned by the table: index into its statistics
};

// The key argument positions of `argv` for `spec`.
std::vector<size_t> KeyPositions(const CommandSpec& spec, std::span<const std::string_view> argv);

struct CommandStats {
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> usec{0};
  std::atomic<uint64_t> failed{0};    // the command ran and replied with an error
  std::atomic<uint64_t> rejected{0};  // refused before running (arity, auth...)
};

// What a blocking command asks for when it cannot be served now (see CommandContext::Block).
struct BlockRequest {
  std::vector<std::string> keys;  // wake when any of these keys (client's db) is modified
  uint64_t timeout_ms = 0;        // 0 = block forever
  // What a client that timed out gets: a null, or (kRetry) one more run of the command
  // with Client::block_timed_out set, which must answer without blocking (WAIT's count).
  enum class TimeoutReply : uint8_t {
    kNullArray,
    kNullBulk,
    kRetry
  } timeout_reply = TimeoutReply::kNullArray;
  // If not empty, the arguments the command is re-run with when woken (e.g. XREAD's "$"
  // replaced by the last id at the time of blocking).
  std::vector<std::string> rewritten_argv;
  // Retry this client on every change of a key, not only when it is first in line: for
  // commands that do not consume what they read (XREAD), so one write serves them all.
  bool wake_all = false;
};

// A keyspace event a command caused (for keyspace notifications), published once its
// mutation is applied. It lives in datatypes/committer.h: a mutation's effects carry them.
using keel::KeyEvent;

struct CommandContext {
  Server& server;
  Client& client;
  std::span<const std::string_view> argv;
  resp::ReplyBuilder& reply;
  const CommandSpec& spec;
  // The transaction of this command: kWrite with the key stripes locked for write commands,
  // kRead otherwise. Null for kCmdNoStorage / kCmdOwnsDbGuard commands.
  Txn* txn = nullptr;
  bool failed = false;
  // kCmdOwnsDbGuard commands: the dispatcher already holds the db guard exclusively (the
  // command runs inside a MULTI/EXEC block that contains it).
  bool guard_held = false;

  Storage& storage();
  // Replies with the Redis error text for `status` and marks the command failed.
  void Error(const Status& status);
  void Error(Code code) { Error(Status(code)); }
  // Replies with a literal error line ("ERR ..." / "WRONGTYPE ...").
  void ErrorText(std::string_view text);
  // The lower-case command name as Redis prints it in errors ("get", "config|get").
  std::string_view name() const { return spec.name; }

  // Write commands call these for every key they change, as Redis calls signalModifiedKey
  // and notifyKeyspaceEvent. Both take effect only after the write is committed: KeyModified
  // invalidates WATCHes and wakes clients blocked on the key; Notify publishes keyspace
  // notifications. `db` defaults to the client's db.
  void KeyModified(std::string_view key, int db = -1);
  void Notify(char type, std::string_view event, std::string_view key, int db = -1);
  // Set by handlers of commands that Redis replies to before publishing their events (EXPIRE,
  // LPUSH, HSET...): events raised from then on go after the reply for a RESP3 client that
  // listens to its own events, wherever the handler writes the reply.
  bool events_after_reply = false;
  bool had_events_after_reply = false;

  // For blocking commands (BLPOP, BZPOPMIN, XREAD BLOCK...): call instead of replying when
  // nothing can be served now. The client is parked; when a key in `request.keys` is modified
  // the command runs again (clients blocked on a key are retried in FIFO order); on timeout
  // the client gets the timeout reply. Inside MULTI/EXEC it replies the timeout reply at once.
  void Block(BlockRequest request);
  bool blocked = false;
  // True when this run is a retry of a blocked command (woken by a write or a timeout check).
  bool retry = false;
};

}  // namespace keel::server
