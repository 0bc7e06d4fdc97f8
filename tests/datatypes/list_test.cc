// Unit tests of datatypes/list.h: every operation against a std::deque model, the layout on
// disk (contiguous indices, nothing left behind), and visibility of pending writes.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "datatypes/list.h"
#include "datatypes/storage.h"
#include "tests/datatypes/temp_dir.h"

namespace keel::lists {
namespace {

using test::TempDir;

class ListTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void TearDown() override { storage_.reset(); }

  void Open() {
    StorageOptions o;
    o.dir = dir_.path();
    o.fsync = FsyncPolicy::kNo;
    o.background = false;
    o.block_cache_bytes = 8u << 20;
    o.write_buffer_bytes = 4u << 20;
    auto opened = Storage::Open(std::move(o));
    ASSERT_TRUE(opened.ok()) << opened.status().detail();
    storage_ = std::move(opened).value();
  }

  // Runs `fn` as one command in a fresh write transaction and commits it.
  template <typename Fn>
  auto Run(Fn fn) {
    Txn txn(storage_.get(), 0);
    auto result = fn(txn);
    EXPECT_TRUE(txn.Commit().ok());
    return result;
  }

  int64_t PushR(std::string_view key, std::vector<std::string_view> elems, End end = End::kRight) {
    auto r = Run([&](Txn& t) { return Push(t, key, elems, end, false); });
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : -1;
  }

  std::vector<std::string> All(std::string_view key) {
    Txn txn(storage_.get(), 0, TxnMode::kRead);
    auto r = Range(txn, key, 0, -1);
    EXPECT_TRUE(r.ok()) << r.status().detail();
    return r.ok() ? *r : std::vector<std::string>{};
  }

  // Element sub-keys of the key's current incarnation, as stored.
  size_t StoredElements(std::string_view key) {
    KeyRecord rec;
    EXPECT_TRUE(storage_->ReadKey(0, key, &rec).ok());
    if (!rec.exists) return 0;
    Txn txn(storage_.get(), 0, TxnMode::kRead);
    std::string prefix = SubKeyPrefix(txn.db(), key, rec.meta.version);
    auto it = txn.NewSubIterator();
    size_t n = 0;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) ++n;
    return n;
  }

  TempDir dir_;
  std::unique_ptr<Storage> storage_;
};

std::vector<std::string> V(std::initializer_list<const char*> l) {
  return std::vector<std::string>(l.begin(), l.end());
}

TEST_F(ListTest, PushAtBothEndsKeepsOrder) {
  EXPECT_EQ(PushR("l", {"b", "c"}), 2);
  EXPECT_EQ(PushR("l", {"a", "z"}, End::kLeft), 4);
  EXPECT_EQ(All("l"), V({"z", "a", "b", "c"}));
  EXPECT_EQ(StoredElements("l"), 4u);
}

TEST_F(ListTest, PushxOnAnAbsentKeyCreatesNothing) {
  auto r = Run([&](Txn& t) {
    std::vector<std::string_view> e{"x"};
    return Push(t, "l", e, End::kLeft, true);
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0);
  EXPECT_EQ(storage_->KeyCount(0), 0);
}

TEST_F(ListTest, PopingTheLastElementRemovesTheKey) {
  PushR("l", {"a", "b"});
  auto r = Run([&](Txn& t) { return Pop(t, "l", End::kRight, 5); });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->existed);
  EXPECT_TRUE(r->emptied);
  EXPECT_EQ(r->elements, V({"b", "a"}));
  EXPECT_EQ(storage_->KeyCount(0), 0);
}

TEST_F(ListTest, PopDeletesThePoppedElementsFromStorage) {
  PushR("l", {"a", "b", "c", "d"});
  auto r = Run([&](Txn& t) { return Pop(t, "l", End::kLeft, 2); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->elements, V({"a", "b"}));
  EXPECT_EQ(StoredElements("l"), 2u);
  EXPECT_EQ(All("l"), V({"c", "d"}));
}

TEST_F(ListTest, WrongTypeIsReported) {
  {
    Txn txn(storage_.get(), 0);
    KeyRecord rec;
    ASSERT_TRUE(txn.Load("h", &rec).ok());
    Metadata meta;
    meta.type = ValueType::kHash;
    meta.version = storage_->NextVersion();
    txn.Store("h", &rec, meta, "");
    ASSERT_TRUE(txn.Commit().ok());
  }
  auto r = Run([&](Txn& t) { return Len(t, "h"); });
  EXPECT_EQ(r.code(), Code::kWrongType);
  auto m = Run([&](Txn& t) { return Move(t, "nosuch", "h", End::kLeft, End::kLeft); });
  ASSERT_TRUE(m.ok());  // an absent source is checked first, as Redis does
  PushR("l", {"a"});
  m = Run([&](Txn& t) { return Move(t, "l", "h", End::kLeft, End::kLeft); });
  EXPECT_EQ(m.code(), Code::kWrongType);
  EXPECT_EQ(All("l"), V({"a"}));  // nothing moved
}

TEST_F(ListTest, InsertShiftsTheShorterSide) {
  PushR("l", {"a", "b", "c", "d", "e", "f"});
  auto r = Run([&](Txn& t) { return Insert(t, "l", true, "b", "X"); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 7);
  r = Run([&](Txn& t) { return Insert(t, "l", false, "e", "Y"); });
  EXPECT_EQ(*r, 8);
  EXPECT_EQ(All("l"), V({"a", "X", "b", "c", "d", "e", "Y", "f"}));
  r = Run([&](Txn& t) { return Insert(t, "l", true, "nope", "Z"); });
  EXPECT_EQ(*r, -1);
  r = Run([&](Txn& t) { return Insert(t, "absent", true, "a", "Z"); });
  EXPECT_EQ(*r, 0);
  EXPECT_EQ(StoredElements("l"), 8u);
}

TEST_F(ListTest, RemoveCompactsFromEitherSide) {
  PushR("l", {"x", "a", "x", "b", "c", "d", "e", "x"});
  auto r = Run([&](Txn& t) { return Remove(t, "l", 1, "x"); });
  EXPECT_EQ(r->removed, 1);
  EXPECT_EQ(All("l"), V({"a", "x", "b", "c", "d", "e", "x"}));
  r = Run([&](Txn& t) { return Remove(t, "l", -1, "x"); });
  EXPECT_EQ(All("l"), V({"a", "x", "b", "c", "d", "e"}));
  r = Run([&](Txn& t) { return Remove(t, "l", 0, "x"); });
  EXPECT_EQ(r->removed, 1);
  EXPECT_EQ(All("l"), V({"a", "b", "c", "d", "e"}));
  EXPECT_EQ(StoredElements("l"), 5u);
  r = Run([&](Txn& t) { return Remove(t, "l", INT64_MIN, "a"); });
  EXPECT_EQ(r->removed, 1);
}

TEST_F(ListTest, TrimKeepingFewElementsMovesThemToANewIncarnation) {
  std::vector<std::string> big;
  for (int i = 0; i < 100; ++i) big.push_back("e" + std::to_string(i));
  std::vector<std::string_view> views(big.begin(), big.end());
  PushR("l", views);
  KeyRecord before;
  ASSERT_TRUE(storage_->ReadKey(0, "l", &before).ok());
  auto r = Run([&](Txn& t) { return Trim(t, "l", 10, 12); });
  ASSERT_TRUE(r.ok());
  KeyRecord after;
  ASSERT_TRUE(storage_->ReadKey(0, "l", &after).ok());
  EXPECT_NE(before.meta.version, after.meta.version);
  EXPECT_EQ(All("l"), V({"e10", "e11", "e12"}));
  EXPECT_EQ(StoredElements("l"), 3u);
  // Keeping most elements deletes the trimmed ones in place.
  r = Run([&](Txn& t) { return Trim(t, "l", 1, -1); });
  EXPECT_EQ(All("l"), V({"e11", "e12"}));
  EXPECT_EQ(StoredElements("l"), 2u);
  r = Run([&](Txn& t) { return Trim(t, "l", 5, 1); });
  EXPECT_TRUE(r->emptied);
  EXPECT_EQ(storage_->KeyCount(0), 0);
}

TEST_F(ListTest, PosHonoursRankCountAndMaxlen) {
  PushR("l", {"a", "b", "a", "c", "a"});
  auto pos = [&](PosOptions o) {
    Txn txn(storage_.get(), 0, TxnMode::kRead);
    auto r = Pos(txn, "l", "a", o);
    EXPECT_TRUE(r.ok());
    return *r;
  };
  EXPECT_EQ(pos({}), std::vector<int64_t>({0}));
  EXPECT_EQ(pos({.rank = 2, .count = 0}), std::vector<int64_t>({2, 4}));
  EXPECT_EQ(pos({.rank = -1, .count = 0}), std::vector<int64_t>({4, 2, 0}));
  EXPECT_EQ(pos({.rank = INT64_MIN, .count = 0}), std::vector<int64_t>({4, 2, 0}));
  EXPECT_EQ(pos({.rank = 2, .count = 0, .maxlen = 3}), std::vector<int64_t>({2}));
  EXPECT_EQ(pos({.rank = -2, .count = 2, .maxlen = 2}), std::vector<int64_t>{});
}

TEST_F(ListTest, MoveWithinOneListRotates) {
  PushR("l", {"a", "b", "c"});
  auto r = Run([&](Txn& t) { return Move(t, "l", "l", End::kRight, End::kLeft); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->element, "c");
  EXPECT_FALSE(r->source_emptied);
  EXPECT_EQ(All("l"), V({"c", "a", "b"}));
  PushR("one", {"x"});
  r = Run([&](Txn& t) { return Move(t, "one", "one", End::kLeft, End::kRight); });
  EXPECT_EQ(All("one"), V({"x"}));
}

TEST_F(ListTest, CommandsInOneTransactionSeeEachOthersWrites) {
  Txn txn(storage_.get(), 0);
  std::vector<std::string_view> e{"a", "b", "c"};
  ASSERT_TRUE(Push(txn, "l", e, End::kRight, false).ok());
  auto range = Range(txn, "l", 0, -1);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*range, V({"a", "b", "c"}));
  ASSERT_TRUE(Insert(txn, "l", true, "c", "X").ok());
  auto rem = Remove(txn, "l", 0, "b");
  ASSERT_TRUE(rem.ok());
  EXPECT_EQ(rem->removed, 1);
  range = Range(txn, "l", 0, -1);
  EXPECT_EQ(*range, V({"a", "X", "c"}));
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(All("l"), V({"a", "X", "c"}));
}

TEST_F(ListTest, ListsSurviveAReopen) {
  PushR("l", {"a", "b"});
  PushR("l", {"z"}, End::kLeft);
  storage_.reset();
  Open();
  EXPECT_EQ(All("l"), V({"z", "a", "b"}));
  PushR("l", {"y"}, End::kLeft);
  EXPECT_EQ(All("l"), V({"y", "z", "a", "b"}));
}

TEST_F(ListTest, ATailWithoutHeadReadsAsHeadZero) {
  Txn txn(storage_.get(), 0);
  KeyRecord rec;
  ASSERT_TRUE(txn.Load("l", &rec).ok());
  Metadata meta;
  meta.type = ValueType::kList;
  meta.version = storage_->NextVersion();
  meta.size = 1;
  txn.Store("l", &rec, meta, "");
  txn.PutSub("l", meta.version, std::string(8, '\0'), "element");
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(All("l"), V({"element"}));
  PushR("l", {"more"});
  EXPECT_EQ(All("l"), V({"element", "more"}));
}

// Push and pop at both ends cost the same on a list of 10M elements as on a short one: each
// element is one write or delete next to the end plus the metadata record, and nothing in the
// middle is read. (Only the two end elements of this 10M-element list exist on disk: any read
// of the middle would fail with "list element missing".)
TEST_F(ListTest, PushAndPopTouchOnlyTheEndsOfATenMillionElementList) {
  constexpr uint64_t kSize = 10'000'000;
  {
    Txn txn(storage_.get(), 0);
    KeyRecord rec;
    ASSERT_TRUE(txn.Load("l", &rec).ok());
    Metadata meta;
    meta.type = ValueType::kList;
    meta.version = storage_->NextVersion();
    meta.size = kSize;
    txn.Store("l", &rec, meta, EncodeTail(kInitialHead));
    txn.PutSub("l", meta.version, ElementSubKey(kInitialHead), "first");
    txn.PutSub("l", meta.version, ElementSubKey(kInitialHead + kSize - 1), "last");
    ASSERT_TRUE(txn.Commit().ok());
  }
  // Runs one operation in its own transaction; returns its result and how many writes it made.
  auto op = [&](auto fn) {
    Txn txn(storage_.get(), 0);
    auto r = fn(txn);
    size_t writes = txn.pending_writes();
    EXPECT_TRUE(txn.Commit().ok());
    return std::make_pair(std::move(r), writes);
  };
  auto push = [&](std::string_view v, End end) {
    std::vector<std::string_view> one{v};
    return op([&](Txn& t) { return Push(t, "l", one, end, false); });
  };
  auto pop = [&](End end) { return op([&](Txn& t) { return Pop(t, "l", end, 1); }); };
  auto [left_len, w1] = push("a", End::kLeft);
  EXPECT_EQ(*left_len, static_cast<int64_t>(kSize + 1));
  EXPECT_EQ(w1, 2u);
  auto [right_len, w2] = push("z", End::kRight);
  EXPECT_EQ(*right_len, static_cast<int64_t>(kSize + 2));
  EXPECT_EQ(w2, 2u);
  for (auto [end, want] : {std::pair{End::kLeft, "a"}, std::pair{End::kRight, "z"},
                           std::pair{End::kLeft, "first"}, std::pair{End::kRight, "last"}}) {
    auto [popped, writes] = pop(end);
    ASSERT_TRUE(popped.ok()) << popped.status().detail();
    EXPECT_EQ(popped->elements, V({want}));
    EXPECT_EQ(writes, 2u);
  }
  auto len = Run([&](Txn& t) { return Len(t, "l"); });
  EXPECT_EQ(*len, static_cast<int64_t>(kSize - 2));
}

// Random operations against a std::deque model, half of them in a shared transaction.
TEST_F(ListTest, RandomOperationsMatchADequeModel) {
  std::mt19937_64 rng(42);
  std::deque<std::string> model;
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  auto value = [&] { return std::string(1, static_cast<char>('a' + pick(4))); };
  std::unique_ptr<Txn> txn;
  for (int step = 0; step < 3000; ++step) {
    if (!txn) txn = std::make_unique<Txn>(storage_.get(), 0);
    Txn& t = *txn;
    int op = pick(9);
    auto n = static_cast<int64_t>(model.size());
    if (op == 0 || op == 1) {
      std::string v = value();
      std::string_view sv = v;
      ASSERT_TRUE(Push(t, "l", std::span<const std::string_view>(&sv, 1),
                       op == 0 ? End::kLeft : End::kRight, false)
                      .ok());
      if (op == 0) {
        model.push_front(v);
      } else {
        model.push_back(v);
      }
    } else if (op == 2) {
      auto count = static_cast<uint64_t>(pick(3));
      bool left = pick(2) == 0;
      auto r = Pop(t, "l", left ? End::kLeft : End::kRight, count);
      ASSERT_TRUE(r.ok());
      for (uint64_t i = 0; i < count && !model.empty(); ++i) {
        ASSERT_LT(i, r->elements.size());
        EXPECT_EQ(r->elements[i], left ? model.front() : model.back());
        if (left) {
          model.pop_front();
        } else {
          model.pop_back();
        }
      }
    } else if (op == 3) {
      std::string pivot = value(), v = value();
      bool before = pick(2) == 0;
      auto r = Insert(t, "l", before, pivot, v);
      ASSERT_TRUE(r.ok());
      auto it = std::find(model.begin(), model.end(), pivot);
      if (model.empty()) {
        EXPECT_EQ(*r, 0);
      } else if (it == model.end()) {
        EXPECT_EQ(*r, -1);
      } else {
        model.insert(before ? it : it + 1, v);
        EXPECT_EQ(*r, static_cast<int64_t>(model.size()));
      }
    } else if (op == 4) {
      int64_t count = pick(5) - 2;
      std::string v = value();
      auto r = Remove(t, "l", count, v);
      ASSERT_TRUE(r.ok());
      int64_t removed = 0;
      int64_t limit = count == 0 ? INT64_MAX : (count < 0 ? -count : count);
      if (count >= 0) {
        for (auto it = model.begin(); it != model.end() && removed < limit;) {
          if (*it == v) {
            it = model.erase(it);
            ++removed;
          } else {
            ++it;
          }
        }
      } else {
        for (int64_t i = static_cast<int64_t>(model.size()) - 1; i >= 0 && removed < limit; --i) {
          if (model[static_cast<size_t>(i)] == v) {
            model.erase(model.begin() + i);
            ++removed;
          }
        }
      }
      EXPECT_EQ(r->removed, removed);
    } else if (op == 5 && n > 0) {
      int64_t index = pick(static_cast<int>(2 * n)) - n;
      std::string v = value();
      ASSERT_TRUE(Set(t, "l", index, v).ok());
      model[static_cast<size_t>(index < 0 ? n + index : index)] = v;
    } else if (op == 6 && pick(4) == 0) {
      int64_t start = pick(static_cast<int>(n + 3)) - 1, stop = pick(static_cast<int>(n + 3)) - 2;
      ASSERT_TRUE(Trim(t, "l", start, stop).ok());
      int64_t s = start < 0 ? std::max<int64_t>(0, n + start) : start;
      int64_t e = stop < 0 ? n + stop : std::min(stop, n - 1);
      std::deque<std::string> kept;
      for (int64_t i = s; i <= e && i < n; ++i) kept.push_back(model[static_cast<size_t>(i)]);
      model = kept;
    } else if (op == 7) {
      int64_t index = pick(static_cast<int>(2 * n + 3)) - n - 1;
      auto r = Index(t, "l", index);
      ASSERT_TRUE(r.ok());
      int64_t i = index < 0 ? n + index : index;
      if (i >= 0 && i < n) {
        EXPECT_EQ(*r, model[static_cast<size_t>(i)]);
      } else {
        EXPECT_EQ(*r, std::nullopt);
      }
    } else {
      auto r = Range(t, "l", 0, -1);
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(*r, std::vector<std::string>(model.begin(), model.end()));
    }
    auto len = Len(t, "l");
    ASSERT_TRUE(len.ok());
    ASSERT_EQ(*len, static_cast<int64_t>(model.size())) << "step " << step << " op " << op;
    if (pick(3) == 0) {
      ASSERT_TRUE(txn->Commit().ok());
      txn.reset();
      ASSERT_EQ(StoredElements("l"), model.size()) << "step " << step;
    }
  }
}

}  // namespace
}  // namespace keel::lists
