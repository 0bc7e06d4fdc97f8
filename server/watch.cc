#include "server/watch.h"

#include <algorithm>

namespace keel::server {

void WatchRegistry::Watch(int db, const std::string& key, const Flag& flag) {
  std::lock_guard<std::mutex> l(mu_);
  auto& flags = watchers_[{db, key}];
  if (std::find(flags.begin(), flags.end(), flag) != flags.end()) return;
  flags.push_back(flag);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void WatchRegistry::Unwatch(int db, const std::string& key, const Flag& flag) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = watchers_.find({db, key});
  if (it == watchers_.end()) return;
  auto& flags = it->second;
  auto f = std::find(flags.begin(), flags.end(), flag);
  if (f == flags.end()) return;
  flags.erase(f);
  count_.fetch_sub(1, std::memory_order_relaxed);
  if (flags.empty()) watchers_.erase(it);
}

void WatchRegistry::Touch(const std::vector<std::pair<int, std::string>>& keys) {
  if (empty()) return;
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& k : keys) {
    auto it = watchers_.find(k);
    if (it == watchers_.end()) continue;
    for (const auto& f : it->second) f->store(true, std::memory_order_release);
  }
}

void WatchRegistry::TouchKey(int db, const std::string& key) { Touch({{db, key}}); }

std::vector<std::string> WatchRegistry::KeysOf(int db) {
  std::vector<std::string> out;
  if (empty()) return out;
  std::lock_guard<std::mutex> l(mu_);
  for (auto it = watchers_.lower_bound({db, std::string()});
       it != watchers_.end() && it->first.first == db; ++it) {
    out.push_back(it->first.second);
  }
  return out;
}

}  // namespace keel::server
