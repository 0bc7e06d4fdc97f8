// LockManager: striped per-key mutexes that make read-modify-write commands atomic per key.
//
// Keys hash (with their physical db) onto a fixed array of stripes. A command locks every
// stripe its keys map to, in ascending stripe order (so two multi-key commands cannot
// deadlock), holds them while it reads and writes, and releases them when the Guard dies.
// Two keys sharing a stripe merely serialize. Thread-safe; owned by Storage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

namespace keel {

class LockManager {
 public:
  explicit LockManager(size_t stripes = 4096);
  LockManager(const LockManager&) = delete;
  LockManager& operator=(const LockManager&) = delete;

  size_t StripeOf(uint8_t db, std::string_view key) const;

  // Holds a set of stripes; movable, unlocks on destruction.
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
  bool TryLockStripe(size_t stripe) { return mutexes_[stripe].try_lock(); }
  void LockStripe(size_t stripe) { mutexes_[stripe].lock(); }
  void UnlockStripe(size_t stripe) { mutexes_[stripe].unlock(); }

 private:
  std::unique_ptr<std::mutex[]> mutexes_;
  size_t count_;
};

}  // namespace keel
