#include "replication/codec.h"

#include <cstring>

namespace keel::replication {
namespace {

constexpr uint8_t kFormatVersion = 1;

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void Bytes(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    out_.append(s.data(), s.size());
  }
  void BallotField(const Ballot& b) {
    U64(b.round);
    U64(b.replica);
  }
  void Ids(const std::vector<ReplicaId>& ids) {
    U32(static_cast<uint32_t>(ids.size()));
    for (ReplicaId id : ids) U64(id);
  }
  void MembershipField(const Membership& m) {
    Ids(m.voters);
    Ids(m.learners);
    Ids(m.removed);
  }
  void EntryBody(const Entry& e) {
    U8(kFormatVersion);
    U64(e.index);
    BallotField(e.ballot);
    U8(static_cast<uint8_t>(e.type));
    U64(e.client_id);
    U64(e.client_seq);
    Bytes(e.payload);
  }
  void MetaBody(const SnapshotMeta& meta) {
    U8(kFormatVersion);
    U64(meta.index);
    MembershipField(meta.membership);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool ok() const { return ok_; }
  bool AtEnd() const { return ok_ && pos_ == in_.size(); }

  uint8_t U8() {
    if (!Need(1)) return 0;
    return static_cast<uint8_t>(in_[pos_++]);
  }
  uint32_t U32() {
    if (!Need(4)) return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(in_[pos_ + i])} << (8 * i);
    pos_ += 4;
    return v;
  }
  uint64_t U64() {
    if (!Need(8)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(in_[pos_ + i])} << (8 * i);
    pos_ += 8;
    return v;
  }
  std::string Bytes() {
    uint32_t n = U32();
    if (!Need(n)) return {};
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  Ballot BallotField() {
    Ballot b;
    b.round = U64();
    b.replica = U64();
    return b;
  }
  std::vector<ReplicaId> Ids() {
    uint32_t n = U32();
    // Each id takes 8 bytes; refuse counts the input cannot hold before allocating.
    if (!Need(uint64_t{n} * 8)) return {};
    std::vector<ReplicaId> ids;
    ids.reserve(n);
    for (uint32_t i = 0; i < n; ++i) ids.push_back(U64());
    return ids;
  }
  Membership MembershipField() {
    Membership m;
    m.voters = Ids();
    m.learners = Ids();
    m.removed = Ids();
    if (!Sorted(m.voters) || !Sorted(m.learners) || !Sorted(m.removed)) ok_ = false;
    return m;
  }
  void Version() {
    if (U8() != kFormatVersion) ok_ = false;
  }
  Entry EntryBody() {
    Entry e;
    Version();
    e.index = U64();
    e.ballot = BallotField();
    uint8_t type = U8();
    if (type < 1 || type > 3) ok_ = false;
    e.type = static_cast<EntryType>(type);
    e.client_id = U64();
    e.client_seq = U64();
    e.payload = Bytes();
    return e;
  }
  SnapshotMeta MetaBody() {
    SnapshotMeta meta;
    Version();
    meta.index = U64();
    meta.membership = MembershipField();
    return meta;
  }
  void Fail() { ok_ = false; }

 private:
  static bool Sorted(const std::vector<ReplicaId>& v) {
    return std::adjacent_find(v.begin(), v.end(), std::greater_equal<ReplicaId>()) == v.end();
  }
  bool Need(uint64_t n) {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }

  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

template <typename T>
Status Finish(const Reader& r, T&& value, std::remove_reference_t<T>* out) {
  if (!r.AtEnd()) return Status::kCorrupt;
  *out = std::forward<T>(value);
  return Status::kOk;
}

}  // namespace

std::string EncodeHardState(const HardState& hs) {
  Writer w;
  w.U8(kFormatVersion);
  w.BallotField(hs.promised);
  w.U64(hs.commit);
  return w.Take();
}

Status DecodeHardState(std::string_view in, HardState* out) {
  Reader r(in);
  HardState hs;
  r.Version();
  hs.promised = r.BallotField();
  hs.commit = r.U64();
  return Finish(r, std::move(hs), out);
}

std::string EncodeEntry(const Entry& e) {
  Writer w;
  w.EntryBody(e);
  return w.Take();
}

Status DecodeEntry(std::string_view in, Entry* out) {
  Reader r(in);
  Entry e = r.EntryBody();
  return Finish(r, std::move(e), out);
}

std::string EncodeSnapshotMeta(const SnapshotMeta& meta) {
  Writer w;
  w.MetaBody(meta);
  return w.Take();
}

Status DecodeSnapshotMeta(std::string_view in, SnapshotMeta* out) {
  Reader r(in);
  SnapshotMeta meta = r.MetaBody();
  return Finish(r, std::move(meta), out);
}

std::string EncodeConfChange(const ConfChange& cc) {
  Writer w;
  w.U8(kFormatVersion);
  w.U8(static_cast<uint8_t>(cc.type));
  w.U64(cc.replica);
  w.Ids(cc.voters);
  return w.Take();
}

Status DecodeConfChange(std::string_view in, ConfChange* out) {
  Reader r(in);
  ConfChange cc;
  r.Version();
  uint8_t type = r.U8();
  if (type < 1 || type > 4) r.Fail();
  cc.type = static_cast<ConfChangeType>(type);
  cc.replica = r.U64();
  cc.voters = r.Ids();
  return Finish(r, std::move(cc), out);
}

std::string EncodeMessage(const Message& m) {
  Writer w;
  w.U8(kFormatVersion);
  w.U8(static_cast<uint8_t>(m.type));
  w.U64(m.from);
  w.U64(m.to);
  w.BallotField(m.ballot);
  w.U8(static_cast<uint8_t>(m.reject));
  w.U64(m.index);
  w.U64(m.commit);
  w.U64(m.hint);
  w.U64(m.round);
  w.U32(static_cast<uint32_t>(m.entries.size()));
  for (const Entry& e : m.entries) w.EntryBody(e);
  w.U8(m.snapshot.has_value() ? 1 : 0);
  if (m.snapshot) {
    w.MetaBody(m.snapshot->meta);
    w.Bytes(m.snapshot->data);
  }
  w.Bytes(m.context);
  return w.Take();
}

Status DecodeMessage(std::string_view in, Message* out) {
  Reader r(in);
  Message m;
  r.Version();
  uint8_t type = r.U8();
  if (type < 1 || type > 10) r.Fail();
  m.type = static_cast<MessageType>(type);
  m.from = r.U64();
  m.to = r.U64();
  m.ballot = r.BallotField();
  uint8_t reject = r.U8();
  if (reject > 4) r.Fail();
  m.reject = static_cast<Reject>(reject);
  m.index = r.U64();
  m.commit = r.U64();
  m.hint = r.U64();
  m.round = r.U64();
  uint32_t n = r.U32();
  // Every entry takes at least 46 bytes; refuse counts the input cannot hold.
  if (uint64_t{n} * 46 > in.size()) r.Fail();
  for (uint32_t i = 0; i < n && r.ok(); ++i) m.entries.push_back(r.EntryBody());
  uint8_t has_snapshot = r.U8();
  if (has_snapshot > 1) r.Fail();
  if (has_snapshot == 1 && r.ok()) {
    Snapshot s;
    s.meta = r.MetaBody();
    s.data = r.Bytes();
    m.snapshot = std::move(s);
  }
  m.context = r.Bytes();
  return Finish(r, std::move(m), out);
}

}  // namespace keel::replication
