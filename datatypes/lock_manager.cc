#include "datatypes/lock_manager.h"

#include <algorithm>
#include <functional>

namespace keel {

LockManager::LockManager(size_t stripes)
    : stripes_(std::make_unique<StripeLock[]>(stripes)), count_(stripes) {}

size_t LockManager::StripeOf(uint8_t db, std::string_view key) const {
  size_t h = std::hash<std::string_view>{}(key);
  h ^= static_cast<size_t>(db) * 0x9e3779b97f4a7c15ULL;
  return h % count_;
}

LockManager::Guard LockManager::Lock(std::vector<size_t> stripes) {
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  for (size_t s : stripes) stripes_[s].lock();
  Guard g;
  g.owner_ = this;
  g.stripes_ = std::move(stripes);
  return g;
}

LockManager::Guard& LockManager::Guard::operator=(Guard&& other) noexcept {
  if (this != &other) {
    Release();
    owner_ = other.owner_;
    stripes_ = std::move(other.stripes_);
    other.owner_ = nullptr;
  }
  return *this;
}

void LockManager::Guard::Release() {
  if (owner_ == nullptr) return;
  owner_->UnlockStripes(stripes_);
  stripes_.clear();
  owner_ = nullptr;
}

void LockManager::UnlockStripes(const std::vector<size_t>& stripes) {
  if (stripes.empty()) return;
  for (auto it = stripes.rbegin(); it != stripes.rend(); ++it) stripes_[*it].unlock();
  parking_.Released();
}

void ParkingLot::Park(uint64_t seen_generation, std::function<void()> wake) {
  {
    std::lock_guard<std::mutex> l(mu_);
    parked_.fetch_add(1, std::memory_order_seq_cst);
    if (generation_.load(std::memory_order_seq_cst) == seen_generation) {
      waiting_.push_back(std::move(wake));
      return;
    }
    parked_.fetch_sub(1, std::memory_order_relaxed);
  }
  wake();  // released since the caller tried: try again now
}

void ParkingLot::WakeAll() {
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard<std::mutex> l(mu_);
    ready.swap(waiting_);
    parked_.fetch_sub(ready.size(), std::memory_order_relaxed);
  }
  for (auto& wake : ready) wake();
}

}  // namespace keel
