// SessionTable: exactly-once application of client proposals, part of the replicated state
// machine.
//
// Paxos gives each log slot one value, but a client that times out and retries may get the
// same request into two slots. Each proposal therefore carries (client_id, client_seq)
// (Entry::client_id / client_seq); every replica runs every committed entry through the same
// SessionTable, in log order, and applies only the first occurrence. Because the table is a
// deterministic function of the committed log, all replicas agree on which occurrence took
// effect and on its result, and a retry is answered with the cached result.
//
// Client contract: sequence numbers start at 1 and increase by one; a client has at most one
// request outstanding and only moves to seq + 1 after seq was answered. (A host that wants
// several requests in flight per connection uses several client ids.)
//
// The table is part of the state machine: it must be included in snapshots (Encode/Decode)
// and restored with them. Idle sessions may be expired with ExpireIdle, which must be called
// at the same log positions on every replica (e.g. whenever the applied index crosses a
// multiple of N) so that it stays deterministic; a request from an expired client is refused
// with kExpired rather than applied twice.
//
// Not thread-safe; owned by the host's apply loop.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "replication/types.h"

namespace keel::replication {

class SessionTable {
 public:
  enum class Verdict : uint8_t {
    kApply = 1,      // first occurrence: apply it, then call Record
    kDuplicate = 2,  // already applied: answer with CachedResult, do not apply
    kStale = 3,      // older than the client's last request: the client no longer waits
    kExpired = 4,    // the client's session was expired; refuse (client must re-register)
  };

  // The verdict for a committed entry from `client_id` with sequence `seq`. client_id 0
  // (no session) is always kApply.
  Verdict Check(uint64_t client_id, uint64_t seq) const;

  // Records that (client_id, seq) was applied at log index `index` with `result`.
  void Record(uint64_t client_id, uint64_t seq, uint64_t index, std::string result);

  // The result recorded for the client's latest request if it is `seq`, else nullptr.
  const std::string* CachedResult(uint64_t client_id, uint64_t seq) const;

  // Removes sessions whose last request was applied at an index below `min_index`. Returns
  // how many were removed.
  size_t ExpireIdle(uint64_t min_index);

  size_t size() const { return sessions_.size(); }

  std::string Encode() const;
  static Status Decode(std::string_view in, SessionTable* out);

  bool operator==(const SessionTable&) const = default;

 private:
  struct Session {
    uint64_t seq = 0;
    uint64_t index = 0;
    std::string result;
    bool operator==(const Session&) const = default;
  };
  std::map<uint64_t, Session> sessions_;
};

}  // namespace keel::replication
