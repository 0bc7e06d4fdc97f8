#include "replication/types.h"

namespace keel::replication {
namespace {

void InsertSorted(std::vector<ReplicaId>& v, ReplicaId id) {
  v.insert(std::lower_bound(v.begin(), v.end(), id), id);
}

void EraseSorted(std::vector<ReplicaId>& v, ReplicaId id) {
  auto it = std::lower_bound(v.begin(), v.end(), id);
  if (it != v.end() && *it == id) v.erase(it);
}

}  // namespace

const char* StatusName(Status status) {
  switch (status) {
    case Status::kOk:
      return "kOk";
    case Status::kNotLeader:
      return "kNotLeader";
    case Status::kForwarded:
      return "kForwarded";
    case Status::kLeaderNotReady:
      return "kLeaderNotReady";
    case Status::kConfChangePending:
      return "kConfChangePending";
    case Status::kInvalidConfChange:
      return "kInvalidConfChange";
    case Status::kReplicaIdReused:
      return "kReplicaIdReused";
    case Status::kInvalidArgument:
      return "kInvalidArgument";
    case Status::kCorrupt:
      return "kCorrupt";
    case Status::kUnavailable:
      return "kUnavailable";
  }
  return "?";
}

const char* RoleName(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "?";
}

bool Membership::Apply(const ConfChange& cc) {
  switch (cc.type) {
    case ConfChangeType::kBootstrap: {
      if (!voters.empty() || !learners.empty() || cc.voters.empty()) return false;
      std::vector<ReplicaId> v = cc.voters;
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
      if (v.front() == kNoReplica) return false;
      for (ReplicaId id : v) {
        if (IsRemoved(id)) return false;
      }
      voters = std::move(v);
      return true;
    }
    case ConfChangeType::kAddLearner:
      if (cc.replica == kNoReplica || IsMember(cc.replica) || IsRemoved(cc.replica)) return false;
      InsertSorted(learners, cc.replica);
      return true;
    case ConfChangeType::kPromoteLearner:
      if (!IsLearner(cc.replica)) return false;
      EraseSorted(learners, cc.replica);
      InsertSorted(voters, cc.replica);
      return true;
    case ConfChangeType::kRemove:
      if (IsVoter(cc.replica)) {
        if (voters.size() == 1) return false;
        EraseSorted(voters, cc.replica);
      } else if (IsLearner(cc.replica)) {
        EraseSorted(learners, cc.replica);
      } else {
        return false;
      }
      InsertSorted(removed, cc.replica);
      return true;
  }
  return false;
}

}  // namespace keel::replication
