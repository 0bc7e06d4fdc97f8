// WatchRegistry: the keys clients WATCH, so that any committed change to one of them (by a
// command, a transaction, expiry, FLUSHDB/FLUSHALL/SWAPDB) makes their next EXEC fail.
//
// A watcher is a shared atomic "dirty" flag owned by the client. Touch() is called by the
// committing thread while it still holds the modified keys' stripe locks, so an EXEC that
// locks the same keys afterwards always sees the flag. Thread-safe (one mutex); the common
// case (nobody watches anything) costs one atomic load.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace keel::server {

class WatchRegistry {
 public:
  using Flag = std::shared_ptr<std::atomic<bool>>;

  void Watch(int db, const std::string& key, const Flag& flag);
  void Unwatch(int db, const std::string& key, const Flag& flag);
  // WATCH found the key logically expired but not yet deleted: its deletion by the expiry
  // machinery is no change for this watcher (Redis's watchedKey.expired).
  void MarkExpired(int db, const std::string& key, const Flag& flag);
  // Marks every watcher of these (db, key)s dirty.
  void Touch(const std::vector<std::pair<int, std::string>>& keys);
  void TouchKey(int db, const std::string& key);
  // The expiry machinery deleted the key: marks its watchers dirty, except those that
  // watched it already expired (they watch a missing key from now on).
  void TouchExpired(int db, const std::string& key);
  // The watched keys of `db` (FLUSHDB/SWAPDB check which of them exist).
  std::vector<std::string> KeysOf(int db);
  bool empty() const { return count_.load(std::memory_order_relaxed) == 0; }

 private:
  std::mutex mu_;
  struct Watcher {
    Flag flag;
    bool expired;  // watched while logically expired, not yet deleted
  };
  std::map<std::pair<int, std::string>, std::vector<Watcher>> watchers_;
  std::atomic<size_t> count_{0};
};

}  // namespace keel::server
