#include "server/exec_batch.h"

#include <algorithm>
#include <future>

#include "server/notify.h"

namespace keel::server {

struct ExecBatch::Held {
  Storage* storage;
  std::vector<size_t> stripes;
  std::shared_lock<SharedGate> guard;
  std::unique_lock<SharedGate> exclusive;
  std::function<void(const Events&)> on_locked;
};

ExecBatch::~ExecBatch() {
  // Uncommitted writes are dropped (never acknowledged); the locks are let go.
  txn_.reset();
  auto held = TakeHeld();
  Events none;
  Finish(*held, Status(Code::kStorage, "dropped"), none);
}

std::shared_ptr<ExecBatch::Held> ExecBatch::TakeHeld() {
  auto h = std::make_shared<Held>();
  h->storage = storage_;
  h->stripes = std::move(held_);
  held_.clear();
  h->guard = std::move(guard_);
  h->exclusive = std::move(exclusive_);
  h->on_locked = on_commit_locked_;
  return h;
}

void ExecBatch::Finish(Held& h, const Status& st, Events& effects) {
  if (st.ok()) {
    // Still holding the keys: nobody can lock them before WATCH sees the change.
    h.storage->RunExpiredEffects(effects);
    if (h.on_locked && !effects.modified.empty()) h.on_locked(effects);
  }
  for (auto it = h.stripes.rbegin(); it != h.stripes.rend(); ++it) {
    h.storage->locks().UnlockStripe(*it);
  }
  h.stripes.clear();
  if (h.guard.owns_lock()) h.guard.unlock();
  if (h.exclusive.owns_lock()) h.exclusive.unlock();
}

void ExecBatch::CommitAsync(AsyncDone done) {
  Mutation m;
  if (whole_) {
    m = std::move(*whole_);  // begun from an empty batch: nothing else to add
    whole_.reset();
  }
  if (txn_) {
    m = txn_->TakeMutation();
    txn_.reset();
  }
  m.effects.modified = std::move(events_.modified);
  m.effects.notifications = std::move(events_.notifications);
  events_ = Events();
  cmd_modified_mark_ = cmd_notify_mark_ = 0;
  atomic_ = false;
  auto held = TakeHeld();
  if (m.batch.Count() == 0) {
    // Nothing to write (reads, failed or no-op writes): the outcome is known now.
    Status ok;
    Finish(*held, ok, m.effects);
    done(ok, std::move(m.effects));
    return;
  }
  storage_->committer()->Submit(std::move(m), [held = std::move(held), done = std::move(done)](
                                                  Status st, Mutation&& applied) {
    Finish(*held, st, applied.effects);
    done(std::move(st), std::move(applied.effects));
  });
}

Status ExecBatch::Commit() {
  if (!pending()) return Status::Ok();
  std::promise<std::pair<Status, Events>> outcome;
  auto future = outcome.get_future();
  CommitAsync([&outcome](Status st, Events&& effects) {
    outcome.set_value({std::move(st), std::move(effects)});
  });
  auto [st, effects] = future.get();
  if (!st.ok()) {
    commit_failed_ = true;
    return st;
  }
  // Delivered after the locks are released: waking a blocked client re-runs its command.
  if (on_commit_ && (!effects.modified.empty() || !effects.notifications.empty())) {
    on_commit_(std::move(effects));
  }
  return st;
}

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
  return txn_ && !atomic_ &&
         (txn_->pending_writes() >= kMaxPendingWrites || txn_->pending_bytes() >= kMaxPendingBytes);
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
    guard_ = std::shared_lock<SharedGate>(storage_->db_guard());
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
      guard_ = std::shared_lock<SharedGate>(storage_->db_guard());
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
    exclusive_ = std::unique_lock<SharedGate>(storage_->db_guard());
  } else {
    guard_ = std::shared_lock<SharedGate>(storage_->db_guard());
  }
  std::vector<size_t> stripes = Normalized(stripes_fn());
  for (size_t s : stripes) storage_->locks().LockStripe(s);  // holding nothing: ordered, safe
  held_ = std::move(stripes);
  atomic_ = true;
}

Status ExecBatch::CommitPending() {
  if (!txn_) return Status::Ok();
  Status st = txn_->Commit();  // waits; the locks, the gate and the events stay
  if (!st.ok()) commit_failed_ = true;
  txn_.reset();
  return st;
}

Status ExecBatch::EndAtomic() {
  atomic_ = false;
  // The block's writes stay pending, locks held, and reach the committer as one mutation
  // with the rest of the connection's batch (one log entry with replication).
  if (!txn_) return Commit();  // nothing written or read: just let the locks go
  return Status::Ok();
}

bool ExecBatch::TryJoin(const StripesFn& stripes_fn, std::vector<size_t>* joined) {
  if (full()) return false;
  if (!guard_.owns_lock() && !exclusive_.owns_lock()) return true;  // nothing held: no conflict
  std::vector<size_t> stripes = Normalized(stripes_fn());
  std::vector<size_t> missing;
  std::set_difference(stripes.begin(), stripes.end(), held_.begin(), held_.end(),
                      std::back_inserter(missing));
  size_t got = 0;
  for (; got < missing.size(); ++got) {
    if (!storage_->locks().TryLockStripe(missing[got])) break;
  }
  if (got < missing.size()) {
    for (size_t i = 0; i < got; ++i) storage_->locks().UnlockStripe(missing[i]);
    return false;
  }
  held_.insert(held_.end(), missing.begin(), missing.end());
  std::sort(held_.begin(), held_.end());
  *joined = std::move(stripes);
  return true;
}

void ExecBatch::BeginExclusive() {
  exclusive_ = std::unique_lock<SharedGate>(storage_->db_guard());
}

void ExecBatch::AddWholeStore(Mutation mutation) { whole_ = std::move(mutation); }

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
