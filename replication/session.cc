#include "replication/session.h"

namespace keel::replication {
namespace {

void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool GetU64(std::string_view& in, uint64_t* v) {
  if (in.size() < 8) return false;
  *v = 0;
  for (int i = 0; i < 8; ++i) *v |= uint64_t{static_cast<uint8_t>(in[i])} << (8 * i);
  in.remove_prefix(8);
  return true;
}

}  // namespace

SessionTable::Verdict SessionTable::Check(uint64_t client_id, uint64_t seq) const {
  if (client_id == 0) return Verdict::kApply;
  auto it = sessions_.find(client_id);
  if (it == sessions_.end()) return seq <= 1 ? Verdict::kApply : Verdict::kExpired;
  if (seq > it->second.seq) return Verdict::kApply;
  if (seq == it->second.seq) return Verdict::kDuplicate;
  return Verdict::kStale;
}

void SessionTable::Record(uint64_t client_id, uint64_t seq, uint64_t index, std::string result) {
  if (client_id == 0) return;
  Session& s = sessions_[client_id];
  s.seq = seq;
  s.index = index;
  s.result = std::move(result);
}

const std::string* SessionTable::CachedResult(uint64_t client_id, uint64_t seq) const {
  auto it = sessions_.find(client_id);
  if (it == sessions_.end() || it->second.seq != seq) return nullptr;
  return &it->second.result;
}

size_t SessionTable::ExpireIdle(uint64_t min_index) {
  size_t removed = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second.index < min_index) {
      it = sessions_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

// Format: u8 version=1, u64 n, then n x (u64 client_id, u64 seq, u64 index, u64 len,
// result[len]), little-endian, sorted by client_id.
std::string SessionTable::Encode() const {
  std::string out;
  out.push_back(1);
  PutU64(out, sessions_.size());
  for (const auto& [id, s] : sessions_) {
    PutU64(out, id);
    PutU64(out, s.seq);
    PutU64(out, s.index);
    PutU64(out, s.result.size());
    out += s.result;
  }
  return out;
}

Status SessionTable::Decode(std::string_view in, SessionTable* out) {
  if (in.empty() || in[0] != 1) return Status::kCorrupt;
  in.remove_prefix(1);
  uint64_t n = 0;
  if (!GetU64(in, &n) || n > in.size() / 32) return Status::kCorrupt;
  SessionTable t;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id = 0, len = 0;
    Session s;
    if (!GetU64(in, &id) || !GetU64(in, &s.seq) || !GetU64(in, &s.index) || !GetU64(in, &len) ||
        len > in.size()) {
      return Status::kCorrupt;
    }
    s.result.assign(in.data(), len);
    in.remove_prefix(len);
    if (!t.sessions_.emplace(id, std::move(s)).second) return Status::kCorrupt;
  }
  if (!in.empty()) return Status::kCorrupt;
  *out = std::move(t);
  return Status::kOk;
}

}  // namespace keel::replication
