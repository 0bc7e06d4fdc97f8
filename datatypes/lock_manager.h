// LockManager: striped per-key locks that make read-modify-write commands atomic per key, and
// SharedGate, the store-wide reader/writer gate (Storage::db_guard()).
//
// Keys hash (with their physical db) onto a fixed array of stripes. A command locks every
// stripe its keys map to, in ascending stripe order (so two multi-key commands cannot
// deadlock), holds them while it reads and writes, and releases them once its mutation is
// applied (Committer's done callback). Two keys sharing a stripe merely serialize.
//
// Unlike std::mutex, a stripe and the gate may be released by a thread other than the one
// that took them: a commit's done callback may run on the committer's thread (see
// datatypes/committer.h). Both are futex-style words (C++20 atomic wait/notify).
//
// Two ways to wait. Background threads (the expiry housekeeper) block on the futex. An io
// thread never blocks: it only tries, and on failure parks the connection in the
// ParkingLot, which calls the connection's wake-up once something was released since the
// attempt (see ParkingLot). Waiting for a lock held by a batch in flight would otherwise
// stall every connection of that io thread for a whole commit (a Paxos round trip).
// Thread-safe; owned by Storage.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

namespace keel {

// Wake-ups for callers that must not block on a busy lock. Protocol, free of lost wake-ups:
//   1. read generation() before trying the locks;
//   2. on failure, Park(that generation, wake): `wake` is called once, at the next
//      Released() or at once if a release already happened since step 1;
//   3. `wake` runs on the releasing thread (often the committer's): it only schedules the
//      retry (the caller tries again from step 1; spurious wake-ups are harmless).
// Every release of a stripe or of the gate's exclusive hold, and the last shared release
// while a writer claims the gate, calls Released(). Thread-safe.
class ParkingLot {
 public:
  uint64_t generation() const { return generation_.load(std::memory_order_seq_cst); }
  void Park(uint64_t seen_generation, std::function<void()> wake);
  void Released() {
    generation_.fetch_add(1, std::memory_order_seq_cst);
    if (parked_.load(std::memory_order_seq_cst) != 0) WakeAll();
  }
  size_t parked() const { return parked_.load(std::memory_order_relaxed); }

 private:
  void WakeAll();
  std::atomic<uint64_t> generation_{0};
  std::atomic<size_t> parked_{0};
  std::mutex mu_;
  std::vector<std::function<void()>> waiting_;
};

// A mutex that any thread may unlock (Drepper's three-state futex mutex).
class StripeLock {
 public:
  bool try_lock() {
    uint32_t free = 0;
    return state_.compare_exchange_strong(free, 1, std::memory_order_acquire);
  }
  void lock() {
    if (try_lock()) return;
    while (state_.exchange(2, std::memory_order_acquire) != 0) {
      state_.wait(2, std::memory_order_relaxed);
    }
  }
  void unlock() {
    if (state_.exchange(0, std::memory_order_release) == 2) state_.notify_one();
  }

 private:
  std::atomic<uint32_t> state_{0};  // 0 free, 1 locked, 2 locked with waiters
};

// A writer-preferring shared lock that any thread may release; usable with std::shared_lock
// and std::unique_lock. Besides the blocking lock(), an exclusive hold can be taken without
// blocking in two steps: try_claim() sets the writer bit (new readers now fail
// try_lock_shared), then drained() tells when the readers inside have left; the claimer then
// owns the gate (std::adopt_lock) and unlock() ends the claim or the hold alike.
class SharedGate {
 public:
  explicit SharedGate(ParkingLot* lot = nullptr) : lot_(lot) {}

  void lock_shared() {
    uint64_t s = state_.load(std::memory_order_relaxed);
    for (;;) {
      if (s & kWriter) {
        state_.wait(s, std::memory_order_relaxed);
        s = state_.load(std::memory_order_relaxed);
        continue;
      }
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return;
      }
    }
  }
  bool try_lock_shared() {
    uint64_t s = state_.load(std::memory_order_relaxed);
    while (!(s & kWriter)) {
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }
  void unlock_shared() {
    // The last reader out wakes a writer waiting for the readers to drain.
    if (state_.fetch_sub(1, std::memory_order_release) - 1 == kWriter) {
      state_.notify_all();
      if (lot_ != nullptr) lot_->Released();
    }
  }
  bool try_claim() {
    uint64_t s = state_.load(std::memory_order_relaxed);
    while (!(s & kWriter)) {
      if (state_.compare_exchange_weak(s, s | kWriter, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }
  bool drained() const { return state_.load(std::memory_order_acquire) == kWriter; }
  void lock() {
    uint64_t s = state_.load(std::memory_order_relaxed);
    for (;;) {
      if (s & kWriter) {
        state_.wait(s, std::memory_order_relaxed);
        s = state_.load(std::memory_order_relaxed);
        continue;
      }
      if (state_.compare_exchange_weak(s, s | kWriter, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        break;
      }
    }
    // New readers are held off; wait for those inside to leave.
    for (s = state_.load(std::memory_order_acquire); s != kWriter;
         s = state_.load(std::memory_order_acquire)) {
      state_.wait(s, std::memory_order_acquire);
    }
  }
  bool try_lock() {
    uint64_t free = 0;
    return state_.compare_exchange_strong(free, kWriter, std::memory_order_acquire);
  }
  void unlock() {
    state_.fetch_and(~kWriter, std::memory_order_release);
    state_.notify_all();
    if (lot_ != nullptr) lot_->Released();
  }

 private:
  static constexpr uint64_t kWriter = uint64_t{1} << 62;
  std::atomic<uint64_t> state_{0};  // kWriter bit | number of readers inside
  ParkingLot* lot_;
};

class LockManager {
 public:
  explicit LockManager(size_t stripes = 4096);
  LockManager(const LockManager&) = delete;
  LockManager& operator=(const LockManager&) = delete;

  size_t StripeOf(uint8_t db, std::string_view key) const;

  // Holds a set of stripes; movable, unlocks on destruction (on whatever thread that is).
  class Guard {
   public:
    Guard() = default;
    Guard(Guard&& other) noexcept : owner_(other.owner_), stripes_(std::move(other.stripes_)) {
      other.owner_ = nullptr;
    }
    Guard& operator=(Guard&& other) noexcept;
    ~Guard() { Release(); }
    void Release();

   private:
    friend class LockManager;
    LockManager* owner_ = nullptr;
    std::vector<size_t> stripes_;
  };

  // Locks the given stripes (any order, duplicates allowed) in ascending order.
  Guard Lock(std::vector<size_t> stripes);
  Guard LockKey(uint8_t db, std::string_view key) { return Lock({StripeOf(db, key)}); }

  // Raw stripe operations for holders of growing lock sets (server/exec_batch.h). A caller
  // that already holds stripes must only TryLockStripe, never block: blocking is allowed only
  // while holding nothing, which keeps lock acquisition deadlock-free.
  bool TryLockStripe(size_t stripe) { return stripes_[stripe].try_lock(); }
  void LockStripe(size_t stripe) { stripes_[stripe].lock(); }
  void UnlockStripe(size_t stripe) {
    stripes_[stripe].unlock();
    parking_.Released();
  }
  // Unlocks a set (in reverse order), waking parked callers once.
  void UnlockStripes(const std::vector<size_t>& stripes);

  ParkingLot& parking() { return parking_; }

 private:
  std::unique_ptr<StripeLock[]> stripes_;
  size_t count_;
  ParkingLot parking_;
};

}  // namespace keel
