// Test helpers for the write door (datatypes/committer.h): a Committer that records every
// batch it applies (and can fail chosen mutations, or complete them later on a thread of its
// own), replay of the recorded batches into a second store, and a whole-store comparison.
//
// Ownership: a RecordingCommitter applies to the Storage it was given, which must outlive
// it; its worker thread (deferred mode) is joined by its destructor. Thread-safe.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <rocksdb/db.h>

#include "datatypes/committer.h"
#include "datatypes/storage.h"
#include "tests/datatypes/temp_dir.h"

namespace keel::test {

inline std::unique_ptr<Storage> OpenStore(const std::string& dir,
                                          std::shared_ptr<std::atomic<uint64_t>> clock,
                                          bool decide_expiry) {
  StorageOptions o;
  o.dir = dir;
  o.fsync = FsyncPolicy::kNo;
  o.block_cache_bytes = 8u << 20;
  o.write_buffer_bytes = 4u << 20;
  o.clock = [clock] { return clock->load(); };
  o.background = false;
  o.decide_expiry = decide_expiry;
  auto opened = Storage::Open(std::move(o));
  EXPECT_TRUE(opened.ok()) << opened.status().detail();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

class RecordingCommitter final : public Committer {
 public:
  explicit RecordingCommitter(Storage* storage) : storage_(storage) {}
  ~RecordingCommitter() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
  }

  void Submit(Mutation mutation, Done done) override {
    std::unique_lock<std::mutex> l(mu_);
    if (deferred_) {
      queue_.emplace_back(std::move(mutation), std::move(done));
      cv_.notify_all();
      return;
    }
    l.unlock();
    Run(std::move(mutation), std::move(done));
  }

  // The next `n` mutations fail without being applied.
  void FailNext(int n) {
    std::lock_guard<std::mutex> l(mu_);
    fail_next_ = n;
  }
  // Every mutation whose batch contains `marker` fails without being applied.
  void FailIfContains(std::string marker) {
    std::lock_guard<std::mutex> l(mu_);
    fail_marker_ = std::move(marker);
  }
  // From now on, Submit returns at once and a worker thread applies the mutations in order
  // and calls their done callbacks, after `delay` each.
  void Defer(std::chrono::milliseconds delay) {
    std::lock_guard<std::mutex> l(mu_);
    deferred_ = true;
    delay_ = delay;
    if (!worker_.joinable()) worker_ = std::thread([this] { Work(); });
  }

  // Deferred mode: while held, submitted mutations wait (nothing is applied) until Release.
  void Hold() {
    std::lock_guard<std::mutex> l(mu_);
    held_ = true;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> l(mu_);
      held_ = false;
    }
    cv_.notify_all();
  }
  size_t queued() {
    std::lock_guard<std::mutex> l(mu_);
    return queue_.size();
  }

  // Waits until every deferred mutation has been applied and its done has run.
  void Drain() {
    std::unique_lock<std::mutex> l(mu_);
    idle_cv_.wait(l, [this] { return queue_.empty() && !busy_; });
  }

  size_t count() {
    std::lock_guard<std::mutex> l(mu_);
    return records_.size();
  }
  size_t failed() {
    std::lock_guard<std::mutex> l(mu_);
    return failed_;
  }

  // Applies the batches recorded since the last call to `replica`, as a replica would: the
  // batch alone, in order (a db map change under the exclusive db guard).
  Status ReplayNew(Storage* replica) {
    std::vector<std::string> todo;
    {
      std::lock_guard<std::mutex> l(mu_);
      todo.assign(records_.begin() + static_cast<std::ptrdiff_t>(replayed_), records_.end());
      replayed_ = records_.size();
    }
    for (auto& data : todo) {
      Mutation m;
      m.batch = rocksdb::WriteBatch(std::move(data));
      std::unique_lock<SharedGate> g(replica->db_guard());
      Status st = replica->Apply(m);
      if (!st.ok()) return st;
    }
    return Status::Ok();
  }

 private:
  void Run(Mutation mutation, Done done) {
    Status st;
    {
      // Applied and recorded under one lock: the record order is the apply order.
      std::lock_guard<std::mutex> l(apply_mu_);
      bool fail = false;
      {
        std::lock_guard<std::mutex> l2(mu_);
        if (fail_next_ > 0) {
          --fail_next_;
          fail = true;
        } else if (!fail_marker_.empty() &&
                   mutation.batch.Data().find(fail_marker_) != std::string::npos) {
          fail = true;
        }
        if (fail) ++failed_;
      }
      if (fail) {
        st = Status(Code::kStorage, "injected commit failure");
      } else {
        st = storage_->Apply(mutation);
        if (st.ok()) {
          std::lock_guard<std::mutex> l2(mu_);
          records_.push_back(mutation.batch.Data());
        }
      }
    }
    done(std::move(st), std::move(mutation));
  }

  void Work() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [this] { return stopping_ || (!queue_.empty() && !held_); });
      if (queue_.empty()) return;  // stopping, nothing left
      auto [m, done] = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      auto delay = delay_;
      l.unlock();
      std::this_thread::sleep_for(delay);
      Run(std::move(m), std::move(done));
      l.lock();
      busy_ = false;
      if (queue_.empty()) idle_cv_.notify_all();
    }
  }

  Storage* storage_;
  std::mutex apply_mu_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  bool busy_ = false;
  std::vector<std::string> records_;
  size_t replayed_ = 0;
  int fail_next_ = 0;
  size_t failed_ = 0;
  std::string fail_marker_;
  bool deferred_ = false;
  bool held_ = false;
  bool stopping_ = false;
  std::chrono::milliseconds delay_{0};
  std::deque<std::pair<Mutation, Done>> queue_;
  std::thread worker_;
};

// Full compaction of every column family (dead elements dropped by the compaction filter).
inline void CompactAll(Storage* s) {
  rocksdb::CompactRangeOptions o;
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (auto* cf : {s->default_cf(), s->meta_cf(), s->sub_cf(), s->expiry_cf()}) {
    ASSERT_TRUE(s->db()->CompactRange(o, cf, nullptr, nullptr).ok());
  }
}

// Every (key, value) of one column family, in order.
inline std::vector<std::pair<std::string, std::string>> Contents(Storage* s,
                                                                 rocksdb::ColumnFamilyHandle* cf) {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(s->db()->NewIterator(rocksdb::ReadOptions(), cf));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.emplace_back(it->key().ToString(), it->value().ToString());
  }
  EXPECT_TRUE(it->status().ok());
  return out;
}

// Both stores hold the same bytes in every column family (after a full compaction of each,
// so that elements of dead key versions are gone from both) and report the same counts.
inline void ExpectSameStores(Storage* a, Storage* b) {
  CompactAll(a);
  CompactAll(b);
  const char* names[] = {"default", "metadata", "subkeys", "expiry"};
  rocksdb::ColumnFamilyHandle* acfs[] = {a->default_cf(), a->meta_cf(), a->sub_cf(),
                                         a->expiry_cf()};
  rocksdb::ColumnFamilyHandle* bcfs[] = {b->default_cf(), b->meta_cf(), b->sub_cf(),
                                         b->expiry_cf()};
  for (int i = 0; i < 4; ++i) {
    auto ca = Contents(a, acfs[i]);
    auto cb = Contents(b, bcfs[i]);
    EXPECT_EQ(ca.size(), cb.size()) << names[i];
    size_t n = std::min(ca.size(), cb.size());
    size_t diffs = 0;
    for (size_t j = 0; j < n && diffs < 5; ++j) {
      if (ca[j] != cb[j]) {
        ++diffs;
        ADD_FAILURE() << names[i] << " record " << j << " differs: key " << ca[j].first.size()
                      << " bytes vs " << cb[j].first.size();
      }
    }
  }
  for (int db = 0; db < a->databases(); ++db) {
    EXPECT_EQ(a->PhysicalDb(db), b->PhysicalDb(db)) << "db " << db;
    EXPECT_EQ(a->KeyCount(db), b->KeyCount(db)) << "DBSIZE of db " << db;
    EXPECT_EQ(a->ExpiresCount(db), b->ExpiresCount(db)) << "expires of db " << db;
  }
}

}  // namespace keel::test
