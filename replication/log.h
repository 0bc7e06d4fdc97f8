// PaxosLog: the in-memory copy of one replica's log, owned by the core (paxos.h).
//
// Holds the entries after the last compaction point (the "snapshot index") together with the
// membership in force at that point, and derives the membership governing any later slot
// from the kConfChange entries it holds. It never drops an accepted entry except through
// compaction or a snapshot install, because a Paxos acceptor must not forget what it
// accepted (README.md, "Why no truncation").
//
// Not thread-safe; owned by the PaxosNode that owns it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "replication/types.h"

namespace keel::replication {

class PaxosLog {
 public:
  // Replaces the contents: compaction point `meta`, then `entries`, which must be contiguous
  // and start at meta.index + 1. Returns kInvalidArgument otherwise.
  Status Reset(const SnapshotMeta& meta, std::vector<Entry> entries);

  uint64_t snapshot_index() const { return snapshot_index_; }
  uint64_t first_index() const { return snapshot_index_ + 1; }
  uint64_t last_index() const { return snapshot_index_ + entries_.size(); }
  const Membership& snapshot_membership() const { return snapshot_membership_; }

  // The entry at `index`, or nullptr when it is compacted away or beyond the end.
  const Entry* At(uint64_t index) const;

  // Writes `e` at e.index, which must lie in [first_index(), last_index() + 1] (overwriting
  // or appending). A kConfChange entry whose payload does not decode counts as no change.
  void Put(Entry e);

  // Up to `max_count` entries from `lo` (>= first_index()) through `hi`, stopping early once
  // their payloads exceed `max_bytes` (at least one entry is returned when lo <= hi).
  std::vector<Entry> Slice(uint64_t lo, uint64_t hi, size_t max_count, size_t max_bytes) const;

  // Drops entries up to `index` (snapshot_index() <= index <= last_index()).
  void CompactTo(uint64_t index);

  // Drops entries up to meta.index (all of them if the log ends before it) and adopts the
  // snapshot's membership; later entries are kept.
  void InstallSnapshot(const SnapshotMeta& meta);

  // The membership governing slot `slot` (> snapshot_index()): the snapshot membership with
  // every conf change at an index below `slot` applied.
  Membership MembershipAt(uint64_t slot) const;
  // The membership after every conf change in the log.
  const Membership& latest_membership() const { return latest_membership_; }

  // Conf changes held in the log, by index.
  const std::map<uint64_t, ConfChange>& conf_changes() const { return conf_changes_; }
  // Whether a conf change is held at an index above `index`.
  bool HasConfChangeAfter(uint64_t index) const {
    return conf_changes_.upper_bound(index) != conf_changes_.end();
  }

 private:
  void RecomputeLatest();

  uint64_t snapshot_index_ = 0;
  Membership snapshot_membership_;
  std::deque<Entry> entries_;
  std::map<uint64_t, ConfChange> conf_changes_;
  Membership latest_membership_;
};

}  // namespace keel::replication
