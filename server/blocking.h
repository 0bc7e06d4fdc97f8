// BlockingManager: the clients parked by blocking commands (BLPOP, BZPOPMIN, XREAD BLOCK...),
// queued per (db, key) in the order they blocked.
//
// After a write commits, Wake() retries the first client waiting on each modified key (and
// every wake_all waiter). A retried client that is served consumes data, which modifies the
// key again and so retries the next one in line: clients are served in FIFO order without
// any polling. Retries run on the waiter's own io thread (posted). Thread-safe (one mutex).
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "datatypes/status.h"

namespace keel::server {

class Connection;

// The pseudo key (in db 0) that WAIT blocks on; woken whenever the replica group's
// replicas acknowledge more of the log. (A user key of the same bytes only causes a
// harmless extra check.)
inline constexpr std::string_view kReplicationProgressKey{"\0keel\0wait", 11};

class BlockingManager {
 public:
  // Queues `conn` on each key (once per key).
  void Add(const std::shared_ptr<Connection>& conn, int db, const std::vector<std::string>& keys,
           bool wake_all);
  // Removes `conn` from the queues of `keys`.
  void Remove(const Connection* conn, int db, const std::vector<std::string>& keys);
  // Retries the waiters of each modified (db, key).
  void Wake(const std::vector<std::pair<int, std::string>>& keys);
  // Retries every waiter in `db` (SWAPDB changes what all its keys hold).
  void WakeDb(int db);
  size_t blocked_clients() const { return count_.load(std::memory_order_relaxed); }

 private:
  struct Waiter {
    std::weak_ptr<Connection> conn;
    const Connection* id;
    bool wake_all;
  };
  using Key = std::pair<int, std::string>;
  void WakeLocked(std::deque<Waiter>& queue, std::vector<std::shared_ptr<Connection>>* out);

  mutable std::mutex mu_;
  std::map<Key, std::deque<Waiter>> queues_;
  std::map<const Connection*, size_t> keys_per_conn_;
  std::atomic<size_t> count_{0};
};

// Parses a blocking timeout in seconds (fractional allowed: BLPOP, BZPOPMIN...) into
// milliseconds (0 = forever), with Redis's errors ("timeout is not a float or out of range",
// "timeout is out of range", "timeout is negative").
Result<uint64_t> ParseBlockTimeout(std::string_view arg);
// The same for timeouts given in milliseconds (XREAD BLOCK, XREADGROUP BLOCK).
Result<uint64_t> ParseBlockTimeoutMs(std::string_view arg);

}  // namespace keel::server
