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

ExecBatch::~ExecBatch() { Abort(); }

void ExecBatch::Abort() {
  // Uncommitted writes are dropped (never acknowledged); the locks are let go.
  txn_.reset();
  whole_.reset();
  events_ = Events();
  atomic_ = false;
  resume_requested_ = false;
  auto held = TakeHeld();
  Events none;
  Finish(*held, Status(Code::kStorage, "dropped"), none);
  if (claimed_) {
    claimed_ = false;
    storage_->db_guard().unlock();  // ends the claim: waiting readers may enter
  }
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
  h.storage->locks().UnlockStripes(h.stripes);
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
  if (resume_requested_) {
    // A piece of an exclusive block: the locks and the atomic mode stay with the batch.
    resume_requested_ = false;
    if (m.batch.Count() == 0) {
      done(Status::Ok(), std::move(m.effects));
      return;
    }
    storage_->committer()->Submit(
        std::move(m), [storage = storage_, on_locked = on_commit_locked_, done = std::move(done)](
                          Status st, Mutation&& applied) {
          if (st.ok()) {
            storage->RunExpiredEffects(applied.effects);
            if (on_locked && !applied.effects.modified.empty()) on_locked(applied.effects);
          }
          done(std::move(st), std::move(applied.effects));
        });
    return;
  }
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

namespace {
// Try-locks `stripes` (sorted); on failure unlocks what it took.
bool TryLockAll(LockManager& locks, const std::vector<size_t>& stripes) {
  size_t got = 0;
  for (; got < stripes.size(); ++got) {
    if (!locks.TryLockStripe(stripes[got])) break;
  }
  if (got == stripes.size()) return true;
  for (size_t i = got; i-- > 0;) locks.UnlockStripe(stripes[i]);
  return false;
}
}  // namespace

bool ExecBatch::TryBeginAtomic(const StripesFn& stripes_fn, bool exclusive) {
  wait_generation_ = storage_->locks().parking().generation();
  if (exclusive) {
    if (!TryBeginExclusive()) return false;
  } else {
    std::shared_lock<SharedGate> guard(storage_->db_guard(), std::try_to_lock);
    if (!guard.owns_lock()) return false;
    guard_ = std::move(guard);
  }
  std::vector<size_t> stripes = Normalized(stripes_fn());
  if (!TryLockAll(storage_->locks(), stripes)) {
    if (guard_.owns_lock()) guard_.unlock();
    if (exclusive_.owns_lock()) exclusive_.unlock();
    return false;
  }
  held_ = std::move(stripes);
  atomic_ = true;
  return true;
}

bool ExecBatch::has_writes() const { return txn_.has_value() && txn_->pending_writes() > 0; }

Status ExecBatch::EndAtomic() {
  atomic_ = false;
  // The block's writes stay pending, locks held, and reach the committer as one mutation
  // with the rest of the connection's batch (one log entry with replication).
  if (!txn_ && !whole_) return Commit();  // nothing to write: lets the locks go at once
  return Status::Ok();
}

bool ExecBatch::TryJoin(const StripesFn& stripes_fn, std::vector<size_t>* joined) {
  if (full()) return false;
  wait_generation_ = storage_->locks().parking().generation();
  bool took_guard = false;
  if (!guard_.owns_lock() && !exclusive_.owns_lock()) {
    // Stripes depend on the db map, which SWAPDB changes: computed under the gate.
    std::shared_lock<SharedGate> guard(storage_->db_guard(), std::try_to_lock);
    if (!guard.owns_lock()) return false;
    guard_ = std::move(guard);
    took_guard = true;
  }
  std::vector<size_t> stripes = Normalized(stripes_fn());
  std::vector<size_t> missing;
  std::set_difference(stripes.begin(), stripes.end(), held_.begin(), held_.end(),
                      std::back_inserter(missing));
  if (!TryLockAll(storage_->locks(), missing)) {
    if (took_guard) guard_.unlock();
    return false;
  }
  held_.insert(held_.end(), missing.begin(), missing.end());
  std::sort(held_.begin(), held_.end());
  *joined = std::move(stripes);
  return true;
}

bool ExecBatch::TryLockRead(std::shared_lock<SharedGate>* guard) {
  wait_generation_ = storage_->locks().parking().generation();
  *guard = std::shared_lock<SharedGate>(storage_->db_guard(), std::try_to_lock);
  return guard->owns_lock();
}

bool ExecBatch::TryBeginExclusive() {
  SharedGate& gate = storage_->db_guard();
  wait_generation_ = storage_->locks().parking().generation();
  if (!claimed_) {
    if (!gate.try_claim()) return false;  // another writer has it, or claims it
    claimed_ = true;
  }
  if (!gate.drained()) return false;  // readers still inside; the claim holds new ones off
  claimed_ = false;
  exclusive_ = std::unique_lock<SharedGate>(gate, std::adopt_lock);
  return true;
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
