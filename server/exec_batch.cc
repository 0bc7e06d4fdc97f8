#include "server/exec_batch.h"

#include <algorithm>

#include "server/notify.h"

namespace keel::server {

ExecBatch::~ExecBatch() { (void)Release(/*commit=*/false); }

Status ExecBatch::Release(bool commit) {
  Status st = commit ? CommitPending() : Status::Ok();
  txn_.reset();
  if (commit && st.ok() && on_commit_locked_ && !events_.modified.empty()) {
    on_commit_locked_(events_);
  }
  for (auto it = held_.rbegin(); it != held_.rend(); ++it) storage_->locks().UnlockStripe(*it);
  held_.clear();
  if (guard_.owns_lock()) guard_.unlock();
  if (exclusive_.owns_lock()) exclusive_.unlock();
  Events events = std::move(events_);
  events_ = Events();
  cmd_modified_mark_ = cmd_notify_mark_ = 0;
  // Deliver only after the locks are released: waking a blocked client re-runs its command.
  if (commit && st.ok() && on_commit_ &&
      (!events.modified.empty() || !events.notifications.empty())) {
    on_commit_(std::move(events));
  }
  return st;
}

Status ExecBatch::Commit() { return Release(/*commit=*/true); }

void ExecBatch::OnNewKey(int logical_db, std::string_view key) {
  if (notify_flags_ == nullptr || !(notify_flags_->load(std::memory_order_relaxed) & kNotifyNew)) {
    return;
  }
  events_.notifications.push_back(KeyEvent{'n', "new", logical_db, std::string(key), output_pos()});
}

void ExecBatch::OnKeyMiss(int logical_db, std::string_view key) {
  if (notify_flags_ == nullptr ||
      !(notify_flags_->load(std::memory_order_relaxed) & kNotifyKeyMiss)) {
    return;
  }
  events_.notifications.push_back(
      KeyEvent{'m', "keymiss", logical_db, std::string(key), output_pos()});
}

bool ExecBatch::full() const {
  return txn_ && !atomic_ && (txn_->pending_writes() >= kMaxPendingWrites ||
                  txn_->pending_bytes() >= kMaxPendingBytes);
}

namespace {
std::vector<size_t> Normalized(std::vector<size_t> stripes) {
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  return stripes;
}
}  // namespace

Result<Txn*> ExecBatch::BeginWrite(int logical_db, std::vector<size_t> stripes) {
  return BeginWrite(logical_db, [&stripes] { return stripes; });
}

Result<Txn*> ExecBatch::BeginWrite(int logical_db, const StripesFn& stripes_fn) {
  if (full()) {
    Status st = Commit();
    if (!st.ok()) return st;
  }
  // Stripes depend on the db map, which SWAPDB changes: compute them under the guard, and
  // again whenever the guard was let go.
  if (!guard_.owns_lock() && !exclusive_.owns_lock()) {
    guard_ = std::shared_lock<std::shared_mutex>(storage_->db_guard());
  }
  std::vector<size_t> stripes = Normalized(stripes_fn());
  std::vector<size_t> missing;
  std::set_difference(stripes.begin(), stripes.end(), held_.begin(), held_.end(),
                      std::back_inserter(missing));
  if (!missing.empty() && atomic_) {
    // A transaction's stripes were all taken by BeginAtomic; a key found only now (should not
    // happen) is taken blocking rather than by committing half of the transaction.
    for (size_t s : missing) storage_->locks().LockStripe(s);
    held_.insert(held_.end(), missing.begin(), missing.end());
    std::sort(held_.begin(), held_.end());
    missing.clear();
  }
  if (!missing.empty() && !held_.empty()) {
    // Holding locks: only try. On contention, commit and start over holding nothing.
    size_t got = 0;
    for (; got < missing.size(); ++got) {
      if (!storage_->locks().TryLockStripe(missing[got])) break;
    }
    if (got == missing.size()) {
      held_.insert(held_.end(), missing.begin(), missing.end());
      std::sort(held_.begin(), held_.end());
      missing.clear();
    } else {
      for (size_t i = 0; i < got; ++i) storage_->locks().UnlockStripe(missing[i]);
      Status st = Commit();
      if (!st.ok()) return st;
      guard_ = std::shared_lock<std::shared_mutex>(storage_->db_guard());
      missing = Normalized(stripes_fn());
    }
  }
  for (size_t s : missing) storage_->locks().LockStripe(s);  // holding nothing: ordered, safe
  if (!missing.empty()) {
    held_.insert(held_.end(), missing.begin(), missing.end());
    std::sort(held_.begin(), held_.end());
  }
  if (!txn_) {
    txn_.emplace(storage_, logical_db, TxnMode::kWrite);
    txn_->set_event_sink(this);
  }
  txn_->BeginCommand(TxnMode::kWrite, logical_db);
  cmd_modified_mark_ = events_.modified.size();
  cmd_notify_mark_ = events_.notifications.size();
  return &*txn_;
}

void ExecBatch::BeginAtomic(const StripesFn& stripes_fn, bool exclusive) {
  (void)Commit();
  if (exclusive) {
    exclusive_ = std::unique_lock<std::shared_mutex>(storage_->db_guard());
  } else {
    guard_ = std::shared_lock<std::shared_mutex>(storage_->db_guard());
  }
  std::vector<size_t> stripes = Normalized(stripes_fn());
  for (size_t s : stripes) storage_->locks().LockStripe(s);  // holding nothing: ordered, safe
  held_ = std::move(stripes);
  atomic_ = true;
}

Status ExecBatch::CommitPending() {
  if (!txn_) return Status::Ok();
  Status st = txn_->Commit();
  if (!st.ok()) commit_failed_ = true;
  txn_.reset();
  return st;
}

Status ExecBatch::EndAtomic() {
  atomic_ = false;
  return Commit();
}

Txn* ExecBatch::BeginRead(int logical_db) {
  if (!txn_ && atomic_) {
    txn_.emplace(storage_, logical_db, TxnMode::kWrite);
    txn_->set_event_sink(this);
  }
  if (!txn_) return nullptr;
  txn_->BeginCommand(TxnMode::kRead, logical_db);
  return &*txn_;
}

void ExecBatch::EndCommand(bool failed) {
  if (txn_) txn_->EndCommand(failed);
  if (failed) {
    events_.modified.resize(std::min(cmd_modified_mark_, events_.modified.size()));
    events_.notifications.resize(std::min(cmd_notify_mark_, events_.notifications.size()));
  }
}

}  // namespace keel::server
