// Clock: the one source of wall-clock time for the server and its storage (milliseconds
// since the Unix epoch). Production uses SystemClockMs; tests inject a fake (a replaying
// store set hours ahead, expiry driven by an advancing clock). A Clock is copied into each
// owner; it must be thread-safe to call.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace keel {

using Clock = std::function<uint64_t()>;

inline uint64_t SystemClockMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace keel
