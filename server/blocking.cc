#include "server/blocking.h"

#include <cmath>

#include "datatypes/number.h"
#include "server/net/connection.h"

namespace keel::server {

void BlockingManager::Add(const std::shared_ptr<Connection>& conn, int db,
                          const std::vector<std::string>& keys, bool wake_all) {
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& k : keys) {
    auto& q = queues_[{db, k}];
    bool present = false;
    for (const auto& w : q) present |= w.id == conn.get();
    if (present) continue;
    q.push_back(Waiter{conn, conn.get(), wake_all});
    if (keys_per_conn_[conn.get()]++ == 0) count_.fetch_add(1, std::memory_order_relaxed);
  }
}

void BlockingManager::Remove(const Connection* conn, int db, const std::vector<std::string>& keys) {
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& k : keys) {
    auto it = queues_.find({db, k});
    if (it == queues_.end()) continue;
    auto& q = it->second;
    for (auto w = q.begin(); w != q.end(); ++w) {
      if (w->id != conn) continue;
      q.erase(w);
      auto c = keys_per_conn_.find(conn);
      if (c != keys_per_conn_.end() && --c->second == 0) {
        keys_per_conn_.erase(c);
        count_.fetch_sub(1, std::memory_order_relaxed);
      }
      break;
    }
    if (q.empty()) queues_.erase(it);
  }
}

void BlockingManager::WakeLocked(std::deque<Waiter>& queue,
                                 std::vector<std::shared_ptr<Connection>>* out) {
  bool first = true;
  for (auto it = queue.begin(); it != queue.end();) {
    auto conn = it->conn.lock();
    if (!conn) {  // disconnected without cleanup: drop
      it = queue.erase(it);
      continue;
    }
    if (first || it->wake_all) out->push_back(std::move(conn));
    first = false;
    ++it;
  }
}

void BlockingManager::Wake(const std::vector<std::pair<int, std::string>>& keys) {
  std::vector<std::shared_ptr<Connection>> retry;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (queues_.empty()) return;
    for (const auto& k : keys) {
      auto it = queues_.find(k);
      if (it != queues_.end()) WakeLocked(it->second, &retry);
    }
  }
  for (auto& c : retry) c->PostRetry();
}

void BlockingManager::WakeDb(int db) {
  std::vector<std::shared_ptr<Connection>> retry;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [key, q] : queues_) {
      if (key.first != db) continue;
      for (auto& w : q) {
        if (auto c = w.conn.lock()) retry.push_back(std::move(c));
      }
    }
  }
  for (auto& c : retry) c->PostRetry();
}

Result<uint64_t> ParseBlockTimeout(std::string_view arg) {
  long double secs;
  if (!ParseLongDouble(arg, &secs)) {
    return Status(Code::kInvalidArgument, "timeout is not a float or out of range");
  }
  long double ms = secs * 1000.0L;
  if (ms > static_cast<long double>(INT64_MAX)) {
    return Status(Code::kInvalidArgument, "timeout is out of range");
  }
  auto whole = static_cast<int64_t>(std::ceil(ms));  // -0.0001 s rounds to 0: forever
  if (whole < 0) return Status(Code::kInvalidArgument, "timeout is negative");
  return static_cast<uint64_t>(whole);
}

Result<uint64_t> ParseBlockTimeoutMs(std::string_view arg) {
  int64_t ms;
  if (!ParseInt64(arg, &ms)) {
    return Status(Code::kInvalidArgument, "timeout is not an integer or out of range");
  }
  if (ms < 0) return Status(Code::kInvalidArgument, "timeout is negative");
  return static_cast<uint64_t>(ms);
}

}  // namespace keel::server
