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

namespace {

void PutCounts(std::string* out, const uint64_t (&counts)[16]) {
  for (uint64_t c : counts) coll::PutVarint(out, c);
}

bool GetCounts(std::string_view* in, uint64_t (&counts)[16]) {
  for (uint64_t& c : counts) {
    if (!coll::GetVarint(in, &c)) return false;
  }
  return true;
}

// The prefix extended by one byte.
std::string Child(std::string_view prefix, uint8_t b) {
  std::string c(prefix);
  c.push_back(static_cast<char>(b));
  return c;
}

}  // namespace

uint64_t ZSetIndex::Node::count() const {
  uint64_t n = (flags & kTerminal) ? 1 : 0;
  for (uint64_t g : groups) n += g;
  return n;
}

bool ZSetIndex::Group::empty() const {
  for (uint64_t c : children) {
    if (c != 0) return false;
  }
  return true;
}

ZSetIndex::ZSetIndex(Txn& txn, std::string_view key, uint64_t version, uint64_t size,
                     std::string_view root)
    : txn_(txn), key_(key), version_(version), size_(size) {
  if (!root.empty()) {
    root_.flags = static_cast<uint8_t>(root[0]);
    root.remove_prefix(1);
    if (!GetCounts(&root, root_.groups)) root_ = Node();  // unreadable: treat as unexpanded
  }
}

ZSetIndex::~ZSetIndex() { Flush(); }

void ZSetIndex::Flush() {
  for (auto& [sub, value] : counters_) {
    if (value) {
      txn_.PutSub(key_, version_, sub, *value);
    } else {
      txn_.DeleteSub(key_, version_, sub);
    }
  }
  counters_.clear();
}

Status ZSetIndex::CounterGet(const std::string& sub, std::string* value, bool* found) {
  auto it = counters_.find(sub);
  if (it == counters_.end()) return txn_.GetSub(key_, version_, sub, value, found);
  *found = it->second.has_value();
  if (*found) *value = *it->second;
  return Status::Ok();
}

void ZSetIndex::CounterPut(std::string sub, std::string value) {
  counters_[std::move(sub)] = std::move(value);
}

void ZSetIndex::CounterDelete(std::string sub) { counters_[std::move(sub)] = std::nullopt; }

std::string ZSetIndex::root() const {
  std::string out(1, static_cast<char>(root_.flags));
  if (root_.flags & kExpanded) PutCounts(&out, root_.groups);
  return out;
}

std::string ZSetIndex::NodeKey(std::string_view prefix) const {
  std::string out(1, kNodeSpace);
  PutFixed32BE(&out, static_cast<uint32_t>(prefix.size()));
  out.append(prefix);
  return out;
}

std::string ZSetIndex::GroupKey(std::string_view prefix, unsigned hi) const {
  std::string out(1, kGroupSpace);
  PutFixed32BE(&out, static_cast<uint32_t>(prefix.size()));
  out.append(prefix);
  out.push_back(static_cast<char>(hi));
  return out;
}

Status ZSetIndex::ReadNode(std::string_view prefix, Node* node, bool* found) {
  std::string v;
  *node = Node();
  Status st = CounterGet(NodeKey(prefix), &v, found);
  if (!st.ok() || !*found) return st;
  std::string_view in(v);
  if (in.empty()) return Corrupt();
  node->flags = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  if (!GetCounts(&in, node->groups)) return Corrupt();
  return Status::Ok();
}

void ZSetIndex::WriteNode(std::string_view prefix, const Node& node) {
  std::string v(1, static_cast<char>(node.flags));
  PutCounts(&v, node.groups);
  CounterPut(NodeKey(prefix), std::move(v));
}

Status ZSetIndex::ReadGroup(std::string_view prefix, unsigned hi, Group* group) {
  std::string v;
  bool found = false;
  *group = Group();
  Status st = CounterGet(GroupKey(prefix, hi), &v, &found);
  if (!st.ok() || !found) return st;
  std::string_view in(v);
  if (!GetCounts(&in, group->children)) return Corrupt();
  return Status::Ok();
}

void ZSetIndex::WriteGroup(std::string_view prefix, unsigned hi, const Group& group) {
  if (group.empty()) {
    CounterDelete(GroupKey(prefix, hi));
    return;
  }
  std::string v;
  PutCounts(&v, group.children);
  CounterPut(GroupKey(prefix, hi), std::move(v));
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

ZSetIndex::Node ZSetIndex::BuildNode(std::string_view prefix,
                                     const std::vector<std::string_view>& keys) {
  Node node;
  node.flags = kExpanded;
  Group groups[16];
  size_t i = 0;
  if (i < keys.size() && keys[i].size() == prefix.size()) {
    node.flags |= kTerminal;
    ++i;
  }
  const size_t d = prefix.size();
  while (i < keys.size()) {
    auto b = static_cast<uint8_t>(keys[i][d]);
    size_t j = i;
    while (j < keys.size() && static_cast<uint8_t>(keys[j][d]) == b) ++j;
    uint64_t n = j - i;
    groups[b >> 4].children[b & 15] = n;
    node.groups[b >> 4] += n;
    if (n > kExpandThreshold) {
      std::string child = Child(prefix, b);
      std::vector<std::string_view> sub(keys.begin() + static_cast<ptrdiff_t>(i),
                                        keys.begin() + static_cast<ptrdiff_t>(j));
      WriteNode(child, BuildNode(child, sub));
    }
    i = j;
  }
  for (unsigned h = 0; h < 16; ++h) {
    if (node.groups[h] != 0) WriteGroup(prefix, h, groups[h]);
  }
  return node;
}

Status ZSetIndex::InsertKey(std::string_view ikey) {
  ++size_;
  if (!expanded()) {
    if (size_ <= kExpandThreshold) return Status::Ok();
    std::vector<std::string> keys;
    Status st = CollectKeys("", &keys);
    if (!st.ok()) return st;
    std::vector<std::string_view> views(keys.begin(), keys.end());
    root_ = BuildNode("", views);
    return Status::Ok();
  }
  Node node = root_;
  std::string prefix;
  auto save = [&] {
    if (prefix.empty()) {
      root_ = node;
    } else {
      WriteNode(prefix, node);
    }
  };
  for (size_t d = 0;; ++d) {
    if (d == ikey.size()) {  // the entry equals this expanded node's prefix
      node.flags |= kTerminal;
      save();
      return Status::Ok();
    }
    auto b = static_cast<uint8_t>(ikey[d]);
    ++node.groups[b >> 4];
    save();
    Group group;
    Status st = ReadGroup(prefix, b >> 4, &group);
    if (!st.ok()) return st;
    uint64_t n = ++group.children[b & 15];
    WriteGroup(prefix, b >> 4, group);
    std::string child = Child(prefix, b);
    bool found = false;
    st = ReadNode(child, &node, &found);
    if (!st.ok()) return st;
    if (!found) {
      if (n <= kExpandThreshold) return Status::Ok();
      std::vector<std::string> keys;
      st = CollectKeys(child, &keys);
      if (!st.ok()) return st;
      std::vector<std::string_view> views(keys.begin(), keys.end());
      WriteNode(child, BuildNode(child, views));
      return Status::Ok();
    }
    prefix = std::move(child);
  }
}

Status ZSetIndex::EraseKey(std::string_view ikey) {
  --size_;
  if (!expanded()) return Status::Ok();
  Node node = root_;
  std::string prefix;
  auto save = [&] {
    if (prefix.empty()) {
      root_ = node;
    } else if (node.count() == 0) {
      CounterDelete(NodeKey(prefix));
    } else {
      WriteNode(prefix, node);
    }
  };
  for (size_t d = 0;; ++d) {
    if (d == ikey.size()) {
      node.flags &= static_cast<uint8_t>(~kTerminal);
      save();
      return Status::Ok();
    }
    auto b = static_cast<uint8_t>(ikey[d]);
    if (node.groups[b >> 4] == 0) return Corrupt();
    --node.groups[b >> 4];
    save();
    Group group;
    Status st = ReadGroup(prefix, b >> 4, &group);
    if (!st.ok()) return st;
    if (group.children[b & 15] == 0) return Corrupt();
    --group.children[b & 15];
    WriteGroup(prefix, b >> 4, group);
    std::string child = Child(prefix, b);
    bool found = false;
    st = ReadNode(child, &node, &found);
    if (!st.ok()) return st;
    if (!found) return Status::Ok();
    prefix = std::move(child);
  }
}

Result<uint64_t> ZSetIndex::Rank(std::string_view bound) {
  uint64_t rank = 0;
  std::string prefix;
  if (expanded()) {
    Node node = root_;
    for (size_t d = 0;; ++d) {
      if (d == bound.size()) return rank;
      if (node.flags & kTerminal) ++rank;
      auto b = static_cast<uint8_t>(bound[d]);
      unsigned hi = b >> 4, lo = b & 15;
      for (unsigned h = 0; h < hi; ++h) rank += node.groups[h];
      if (node.groups[hi] == 0) return rank;
      Group group;
      Status st = ReadGroup(prefix, hi, &group);
      if (!st.ok()) return st;
      for (unsigned l = 0; l < lo; ++l) rank += group.children[l];
      if (group.children[lo] == 0) return rank;
      prefix.push_back(static_cast<char>(b));
      bool found = false;
      st = ReadNode(prefix, &node, &found);
      if (!st.ok()) return st;
      if (!found) break;  // an unexpanded node: scan it
    }
  }
  std::string space = Space(kIndexSpace, prefix);
  coll::SubCursor it(txn_, key_, version_);
  for (it.Seek(space); it.Valid() && it.sub().starts_with(space); it.Next()) {
    if (it.sub().substr(1) >= bound) break;
    ++rank;
  }
  Status st = it.status();
  if (!st.ok()) return st;
  return rank;
}

Status ZSetIndex::Locate(uint64_t r, std::string* prefix, uint64_t* rest) {
  prefix->clear();
  if (!expanded()) {
    *rest = r;
    return Status::Ok();
  }
  Node node = root_;
  while (true) {
    if (node.flags & kTerminal) {
      if (r == 0) {
        *rest = 0;
        return Status::Ok();
      }
      --r;
    }
    unsigned hi = 0;
    while (hi < 16 && r >= node.groups[hi]) r -= node.groups[hi++];
    if (hi == 16) return Corrupt();
    Group group;
    Status st = ReadGroup(*prefix, hi, &group);
    if (!st.ok()) return st;
    unsigned lo = 0;
    while (lo < 16 && r >= group.children[lo]) r -= group.children[lo++];
    if (lo == 16) return Corrupt();
    prefix->push_back(static_cast<char>((hi << 4) | lo));
    bool found = false;
    st = ReadNode(*prefix, &node, &found);
    if (!st.ok()) return st;
    if (!found) {
      *rest = r;
      return Status::Ok();
    }
  }
}

Result<IndexEntry> ZSetIndex::Select(uint64_t r) {
  std::vector<IndexEntry> out;
  Status st = Range(r, 1, &out);
  if (!st.ok()) return st;
  if (out.empty()) return Corrupt();
  return std::move(out.front());
}

Status ZSetIndex::Range(uint64_t r, uint64_t n, std::vector<IndexEntry>* out) {
  if (n == 0 || r >= size_) return Status::Ok();
  std::string prefix;
  uint64_t skip = 0;
  Status st = Locate(r, &prefix, &skip);
  if (!st.ok()) return st;
  coll::SubCursor it(txn_, key_, version_);
  std::string index_space(1, kIndexSpace);
  it.Seek(Space(kIndexSpace, prefix));
  for (; it.Valid() && it.sub().starts_with(index_space) && skip > 0; it.Next()) --skip;
  for (; it.Valid() && it.sub().starts_with(index_space) && n > 0; it.Next(), --n) {
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
    root_ = BuildNode("", views);
  }
  return Status::Ok();
}

}  // namespace keel::zsets
