#include "server/watch.h"

#include <algorithm>

namespace keel::server {
namespace {

template <typename Watchers, typename Flag>
auto FindFlag(Watchers& watchers, const Flag& flag) {
  return std::find_if(watchers.begin(), watchers.end(),
                      [&](const auto& w) { return w.flag == flag; });
}

}  // namespace

void WatchRegistry::Watch(int db, const std::string& key, const Flag& flag) {
  std::lock_guard<std::mutex> l(mu_);
  auto& watchers = watchers_[{db, key}];
  if (FindFlag(watchers, flag) != watchers.end()) return;
  watchers.push_back(Watcher{flag, false});
  count_.fetch_add(1, std::memory_order_relaxed);
}

void WatchRegistry::Unwatch(int db, const std::string& key, const Flag& flag) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = watchers_.find({db, key});
  if (it == watchers_.end()) return;
  auto& watchers = it->second;
  auto w = FindFlag(watchers, flag);
  if (w == watchers.end()) return;
  watchers.erase(w);
  count_.fetch_sub(1, std::memory_order_relaxed);
  if (watchers.empty()) watchers_.erase(it);
}

void WatchRegistry::MarkExpired(int db, const std::string& key, const Flag& flag) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = watchers_.find({db, key});
  if (it == watchers_.end()) return;
  auto w = FindFlag(it->second, flag);
  if (w != it->second.end()) w->expired = true;
}

void WatchRegistry::Touch(const std::vector<std::pair<int, std::string>>& keys) {
  if (empty()) return;
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& k : keys) {
    auto it = watchers_.find(k);
    if (it == watchers_.end()) continue;
    for (auto& w : it->second) {
      w.expired = false;
      w.flag->store(true, std::memory_order_release);
    }
  }
}

void WatchRegistry::TouchKey(int db, const std::string& key) { Touch({{db, key}}); }

void WatchRegistry::TouchExpired(int db, const std::string& key) {
  if (empty()) return;
  std::lock_guard<std::mutex> l(mu_);
  auto it = watchers_.find({db, key});
  if (it == watchers_.end()) return;
  for (auto& w : it->second) {
    if (w.expired) {
      w.expired = false;  // deleted now: any later change is a real one
    } else {
      w.flag->store(true, std::memory_order_release);
    }
  }
}

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
