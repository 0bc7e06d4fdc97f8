// Keyspace notification classes (notify-keyspace-events), as Redis 7.0 spells them:
// K keyspace, E keyevent, g generic, $ string, l list, s set, h hash, z zset, x expired,
// e evicted, t stream, m key miss, d module, n new key, A = g$lshzxetd. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace keel::server {

enum NotifyFlag : int {
  kNotifyKeyspace = 1 << 0,  // K
  kNotifyKeyevent = 1 << 1,  // E
  kNotifyGeneric = 1 << 2,   // g
  kNotifyString = 1 << 3,    // $
  kNotifyList = 1 << 4,      // l
  kNotifySet = 1 << 5,       // s
  kNotifyHash = 1 << 6,      // h
  kNotifyZSet = 1 << 7,      // z
  kNotifyExpired = 1 << 8,   // x
  kNotifyEvicted = 1 << 9,   // e
  kNotifyStream = 1 << 10,   // t
  kNotifyKeyMiss = 1 << 11,  // m
  kNotifyModule = 1 << 12,   // d
  kNotifyNew = 1 << 13,      // n
  kNotifyAll = kNotifyGeneric | kNotifyString | kNotifyList | kNotifySet | kNotifyHash |
               kNotifyZSet | kNotifyExpired | kNotifyEvicted | kNotifyStream | kNotifyModule,
};

// Parses a notify-keyspace-events value; nullopt on an unknown character.
std::optional<int> ParseNotifyFlags(std::string_view text);
// The canonical form CONFIG GET shows.
std::string NotifyFlagsToString(int flags);
// The flag of an event class character ('g', '$', ...); 0 if unknown.
int NotifyClassFlag(char type);

}  // namespace keel::server
