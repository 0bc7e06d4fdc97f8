#include "datatypes/zset_index.h"

#include <bit>
#include <cmath>
#include <span>

#include "datatypes/collection.h"

namespace keel::zsets {
namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;

std::string EncodeBits(double score) {
  std::string out;
  PutFixed64BE(&out, std::bit_cast<uint64_t>(score));
  return out;
}

double DecodeBits(std::string_view v) {
  if (v.size() != 8) return 0;
  return std::bit_cast<double>(GetFixed64BE(v.data()));
}

std::string EncodeNode(uint64_t count, uint8_t flags) {
  std::string out;
  coll::PutVarint(&out, count);
  out.push_back(static_cast<char>(flags));
  return out;
}

bool DecodeNode(std::string_view v, uint64_t* count, uint8_t* flags) {
  if (!coll::GetVarint(&v, count) || v.size() != 1) return false;
  *flags = static_cast<uint8_t>(v[0]);
  return true;
}

// 'c' | depth | prefix for the children of `prefix` (depth = prefix length + 1).
std::string ChildSpace(std::string_view prefix) {
  std::string out(1, kCountSpace);
  PutFixed32BE(&out, static_cast<uint32_t>(prefix.size() + 1));
  out.append(prefix);
  return out;
}

std::string Space(char space, std::string_view rest) {
  std::string out(1, space);
  out.append(rest);
  return out;
}

Status Corrupt() { return Status(Code::kStorage, "sorted set rank index is inconsistent"); }

}  // namespace

std::string OrderedScore(double score) {
  if (score == 0) score = 0;  // -0.0 sorts as +0.0
  uint64_t bits = std::bit_cast<uint64_t>(score);
  bits = (bits & kSignBit) ? ~bits : (bits | kSignBit);
  std::string out;
  PutFixed64BE(&out, bits);
  return out;
}

double ScoreFromOrdered(std::string_view bytes) {
  uint64_t u = GetFixed64BE(bytes.data());
  uint64_t bits = (u & kSignBit) ? (u & ~kSignBit) : ~u;
  return std::bit_cast<double>(bits);
}

std::string NextOrdered(std::string_view ordered) {
  std::string out;
  PutFixed64BE(&out, GetFixed64BE(ordered.data()) + 1);
  return out;
}

ZSetIndex::ZSetIndex(Txn& txn, std::string_view key, uint64_t version, uint64_t size,
                     uint8_t root_flags)
    : txn_(txn), key_(key), version_(version), size_(size), root_flags_(root_flags) {}

std::string ZSetIndex::NodeKey(std::string_view prefix) const {
  std::string out(1, kCountSpace);
  PutFixed32BE(&out, static_cast<uint32_t>(prefix.size()));
  out.append(prefix);
  return out;
}

Status ZSetIndex::ReadNode(std::string_view prefix, Node* node, bool* found) {
  std::string v;
  Status st = txn_.GetSub(key_, version_, NodeKey(prefix), &v, found);
  if (!st.ok()) return st;
  if (!*found) {
    *node = Node();
    return Status::Ok();
  }
  if (!DecodeNode(v, &node->count, &node->flags)) return Corrupt();
  return Status::Ok();
}

void ZSetIndex::WriteNode(std::string_view prefix, const Node& node) {
  txn_.PutSub(key_, version_, NodeKey(prefix), EncodeNode(node.count, node.flags));
}

void ZSetIndex::DeleteNode(std::string_view prefix) {
  txn_.DeleteSub(key_, version_, NodeKey(prefix));
}

void ZSetIndex::PutEntry(std::string_view ikey, double score) {
  bool negative_zero = score == 0 && std::signbit(score);
  txn_.PutSub(key_, version_, Space(kIndexSpace, ikey), negative_zero ? "-" : "");
}

Result<std::optional<double>> ZSetIndex::Score(std::string_view member) {
  std::string v;
  bool found = false;
  Status st = txn_.GetSub(key_, version_, Space(kMemberSpace, member), &v, &found);
  if (!st.ok()) return st;
  if (!found) return std::optional<double>();
  return std::optional<double>(DecodeBits(v));
}

Status ZSetIndex::Insert(std::string_view member, double score) {
  txn_.PutSub(key_, version_, Space(kMemberSpace, member), EncodeBits(score));
  std::string ikey = OrderedScore(score);
  ikey.append(member);
  PutEntry(ikey, score);
  return InsertKey(ikey);
}

Status ZSetIndex::Update(std::string_view member, double old_score, double new_score) {
  std::string old_key = OrderedScore(old_score);
  std::string new_key = OrderedScore(new_score);
  txn_.PutSub(key_, version_, Space(kMemberSpace, member), EncodeBits(new_score));
  old_key.append(member);
  new_key.append(member);
  if (old_key == new_key) {  // -0.0 <-> +0.0: same place, new marker
    PutEntry(new_key, new_score);
    return Status::Ok();
  }
  txn_.DeleteSub(key_, version_, Space(kIndexSpace, old_key));
  Status st = EraseKey(old_key);
  if (!st.ok()) return st;
  PutEntry(new_key, new_score);
  return InsertKey(new_key);
}

Status ZSetIndex::Erase(std::string_view member, double score) {
  txn_.DeleteSub(key_, version_, Space(kMemberSpace, member));
  std::string ikey = OrderedScore(score);
  ikey.append(member);
  txn_.DeleteSub(key_, version_, Space(kIndexSpace, ikey));
  return EraseKey(ikey);
}

Status ZSetIndex::CollectKeys(std::string_view prefix, std::vector<std::string>* out) {
  out->clear();
  std::string space = Space(kIndexSpace, prefix);
  coll::SubCursor it(txn_, key_, version_);
  for (it.Seek(space); it.Valid() && it.sub().starts_with(space); it.Next()) {
    out->emplace_back(it.sub().substr(1));
  }
  return it.status();
}

uint8_t ZSetIndex::BuildChildren(std::string_view prefix,
                                 const std::vector<std::string_view>& keys) {
  uint8_t flags = kExpanded;
  size_t i = 0;
  if (i < keys.size() && keys[i].size() == prefix.size()) {
    flags |= kTerminal;
    ++i;
  }
  const size_t d = prefix.size();
  while (i < keys.size()) {
    char b = keys[i][d];
    size_t j = i;
    while (j < keys.size() && keys[j][d] == b) ++j;
    std::string child(prefix);
    child.push_back(b);
    Node node;
    node.count = j - i;
    if (node.count > kExpandThreshold) {
      std::vector<std::string_view> sub(keys.begin() + static_cast<ptrdiff_t>(i),
                                        keys.begin() + static_cast<ptrdiff_t>(j));
      node.flags = BuildChildren(child, sub);
    } else if (keys[i].size() == child.size()) {
      node.flags = kTerminal;
    }
    WriteNode(child, node);
    i = j;
  }
  return flags;
}

Status ZSetIndex::InsertKey(std::string_view ikey) {
  ++size_;
  if (!(root_flags_ & kExpanded)) {
    if (size_ <= kExpandThreshold) return Status::Ok();
    std::vector<std::string> keys;
    Status st = CollectKeys("", &keys);
    if (!st.ok()) return st;
    std::vector<std::string_view> views(keys.begin(), keys.end());
    root_flags_ = BuildChildren("", views) & kExpanded;
    return Status::Ok();
  }
  for (size_t d = 1; d <= ikey.size(); ++d) {
    std::string_view prefix = ikey.substr(0, d);
    Node node;
    bool found = false;
    Status st = ReadNode(prefix, &node, &found);
    if (!st.ok()) return st;
    ++node.count;
    if (d == ikey.size()) node.flags |= kTerminal;
    if (!(node.flags & kExpanded) && node.count > kExpandThreshold) {
      std::vector<std::string> keys;
      st = CollectKeys(prefix, &keys);
      if (!st.ok()) return st;
      std::vector<std::string_view> views(keys.begin(), keys.end());
      node.count = keys.size();
      node.flags = BuildChildren(prefix, views);
      WriteNode(prefix, node);
      return Status::Ok();
    }
    WriteNode(prefix, node);
    if (!(node.flags & kExpanded)) return Status::Ok();
  }
  return Status::Ok();
}

Status ZSetIndex::EraseKey(std::string_view ikey) {
  --size_;
  if (!(root_flags_ & kExpanded)) return Status::Ok();
  for (size_t d = 1; d <= ikey.size(); ++d) {
    std::string_view prefix = ikey.substr(0, d);
    Node node;
    bool found = false;
    Status st = ReadNode(prefix, &node, &found);
    if (!st.ok()) return st;
    if (!found || node.count == 0) return Corrupt();
    --node.count;
    if (d == ikey.size()) node.flags &= static_cast<uint8_t>(~kTerminal);
    if (node.count == 0) {
      DeleteNode(prefix);
    } else {
      WriteNode(prefix, node);
    }
    if (!(node.flags & kExpanded)) return Status::Ok();
  }
  return Status::Ok();
}

Result<uint64_t> ZSetIndex::Rank(std::string_view bound) {
  coll::SubCursor it(txn_, key_, version_);
  uint64_t rank = 0;
  size_t d = 0;
  bool expanded = root_flags_ & kExpanded;
  bool terminal = false;
  while (expanded) {
    if (d == bound.size()) return rank;
    if (terminal) ++rank;
    std::string_view prefix = bound.substr(0, d);
    std::string space = ChildSpace(prefix);
    auto b = static_cast<uint8_t>(bound[d]);
    bool found = false;
    Node child;
    for (it.Seek(space); it.Valid() && it.sub().starts_with(space); it.Next()) {
      std::string_view sub = it.sub();
      if (sub.size() != space.size() + 1) return Corrupt();
      auto x = static_cast<uint8_t>(sub.back());
      Node node;
      if (!DecodeNode(it.value(), &node.count, &node.flags)) return Corrupt();
      if (x < b) {
        rank += node.count;
      } else {
        if (x == b) {
          found = true;
          child = node;
        }
        break;
      }
    }
    Status st = it.status();
    if (!st.ok()) return st;
    if (!found) return rank;
    ++d;
    expanded = child.flags & kExpanded;
    terminal = child.flags & kTerminal;
  }
  // An unexpanded node: count its entries before `bound`.
  std::string space = Space(kIndexSpace, bound.substr(0, d));
  for (it.Seek(space); it.Valid() && it.sub().starts_with(space); it.Next()) {
    if (it.sub().substr(1) >= bound) break;
    ++rank;
  }
  Status st = it.status();
  if (!st.ok()) return st;
  return rank;
}

Result<IndexEntry> ZSetIndex::Select(uint64_t r) {
  if (r >= size_) return Corrupt();
  coll::SubCursor it(txn_, key_, version_);
  std::string prefix;
  bool expanded = root_flags_ & kExpanded;
  bool terminal = false;
  while (expanded) {
    if (terminal) {
      if (r == 0) break;  // the entry equal to `prefix`
      --r;
    }
    std::string space = ChildSpace(prefix);
    bool found = false;
    Node child;
    for (it.Seek(space); it.Valid() && it.sub().starts_with(space); it.Next()) {
      Node node;
      if (!DecodeNode(it.value(), &node.count, &node.flags)) return Corrupt();
      if (r < node.count) {
        prefix.push_back(it.sub().back());
        child = node;
        found = true;
        break;
      }
      r -= node.count;
    }
    Status st = it.status();
    if (!st.ok()) return st;
    if (!found) return Corrupt();
    expanded = child.flags & kExpanded;
    terminal = child.flags & kTerminal;
  }
  std::string space = Space(kIndexSpace, prefix);
  it.Seek(space);
  for (; it.Valid() && it.sub().starts_with(space) && r > 0; it.Next()) --r;
  Status st = it.status();
  if (!st.ok()) return st;
  if (!it.Valid() || !it.sub().starts_with(space)) return Corrupt();
  IndexEntry e;
  e.key = std::string(it.sub().substr(1));
  if (e.key.size() < 8) return Corrupt();
  e.score = it.value() == "-" ? -0.0 : ScoreFromOrdered(e.key);
  return e;
}

Status ZSetIndex::Range(uint64_t r, uint64_t n, std::vector<IndexEntry>* out) {
  if (n == 0 || r >= size_) return Status::Ok();
  auto first = Select(r);
  if (!first.ok()) return first.status();
  coll::SubCursor it(txn_, key_, version_);
  std::string space(1, kIndexSpace);
  it.Seek(Space(kIndexSpace, first->key));
  for (; it.Valid() && it.sub().starts_with(space) && n > 0; it.Next(), --n) {
    IndexEntry e;
    e.key = std::string(it.sub().substr(1));
    if (e.key.size() < 8) return Corrupt();
    e.score = it.value() == "-" ? -0.0 : ScoreFromOrdered(e.key);
    out->push_back(std::move(e));
  }
  return it.status();
}

Status ZSetIndex::BulkLoad(const std::vector<std::pair<std::string, double>>& sorted_members) {
  if (size_ != 0) return Corrupt();
  std::vector<std::string> keys;
  keys.reserve(sorted_members.size());
  for (const auto& [member, score] : sorted_members) {
    txn_.PutSub(key_, version_, Space(kMemberSpace, member), EncodeBits(score));
    std::string ikey = OrderedScore(score);
    ikey.append(member);
    PutEntry(ikey, score);
    keys.push_back(std::move(ikey));
  }
  size_ = keys.size();
  if (size_ > kExpandThreshold) {
    std::vector<std::string_view> views(keys.begin(), keys.end());
    root_flags_ = BuildChildren("", views) & kExpanded;
  }
  return Status::Ok();
}

}  // namespace keel::zsets
