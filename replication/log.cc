#include "replication/log.h"

#include "replication/codec.h"

namespace keel::replication {

Status PaxosLog::Reset(const SnapshotMeta& meta, std::vector<Entry> entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].index != meta.index + 1 + i) return Status::kInvalidArgument;
  }
  snapshot_index_ = meta.index;
  snapshot_membership_ = meta.membership;
  entries_.clear();
  conf_changes_.clear();
  for (Entry& e : entries) Put(std::move(e));
  RecomputeLatest();
  return Status::kOk;
}

const Entry* PaxosLog::At(uint64_t index) const {
  if (index <= snapshot_index_ || index > last_index()) return nullptr;
  return &entries_[index - snapshot_index_ - 1];
}

void PaxosLog::Put(Entry e) {
  const uint64_t index = e.index;
  bool conf_touched = conf_changes_.erase(index) > 0;
  if (e.type == EntryType::kConfChange) {
    ConfChange cc;
    if (DecodeConfChange(e.payload, &cc) == Status::kOk) {
      conf_changes_[index] = std::move(cc);
      conf_touched = true;
    }
  }
  if (index == last_index() + 1) {
    entries_.push_back(std::move(e));
  } else {
    entries_[index - snapshot_index_ - 1] = std::move(e);
  }
  if (conf_touched) RecomputeLatest();
}

std::vector<Entry> PaxosLog::Slice(uint64_t lo, uint64_t hi, size_t max_count,
                                   size_t max_bytes) const {
  std::vector<Entry> out;
  hi = std::min(hi, last_index());
  size_t bytes = 0;
  for (uint64_t i = std::max(lo, first_index()); i <= hi && out.size() < max_count; ++i) {
    const Entry& e = entries_[i - snapshot_index_ - 1];
    if (!out.empty() && bytes + e.payload.size() > max_bytes) break;
    bytes += e.payload.size();
    out.push_back(e);
  }
  return out;
}

void PaxosLog::CompactTo(uint64_t index) {
  if (index <= snapshot_index_) return;
  index = std::min(index, last_index());
  snapshot_membership_ = MembershipAt(index + 1);
  entries_.erase(entries_.begin(),
                 entries_.begin() + static_cast<ptrdiff_t>(index - snapshot_index_));
  conf_changes_.erase(conf_changes_.begin(), conf_changes_.upper_bound(index));
  snapshot_index_ = index;
}

void PaxosLog::InstallSnapshot(const SnapshotMeta& meta) {
  if (meta.index >= last_index()) {
    entries_.clear();
    conf_changes_.clear();
  } else if (meta.index > snapshot_index_) {
    entries_.erase(entries_.begin(),
                   entries_.begin() + static_cast<ptrdiff_t>(meta.index - snapshot_index_));
    conf_changes_.erase(conf_changes_.begin(), conf_changes_.upper_bound(meta.index));
  }
  snapshot_index_ = meta.index;
  snapshot_membership_ = meta.membership;
  RecomputeLatest();
}

Membership PaxosLog::MembershipAt(uint64_t slot) const {
  Membership m = snapshot_membership_;
  for (auto it = conf_changes_.begin(); it != conf_changes_.end() && it->first < slot; ++it) {
    m.Apply(it->second);
  }
  return m;
}

void PaxosLog::RecomputeLatest() { latest_membership_ = MembershipAt(last_index() + 1); }

}  // namespace keel::replication
