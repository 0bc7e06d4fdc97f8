#include "server/notify.h"

namespace keel::server {

int NotifyClassFlag(char type) {
  switch (type) {
    case 'g':
      return kNotifyGeneric;
    case '$':
      return kNotifyString;
    case 'l':
      return kNotifyList;
    case 's':
      return kNotifySet;
    case 'h':
      return kNotifyHash;
    case 'z':
      return kNotifyZSet;
    case 'x':
      return kNotifyExpired;
    case 'e':
      return kNotifyEvicted;
    case 't':
      return kNotifyStream;
    case 'm':
      return kNotifyKeyMiss;
    case 'd':
      return kNotifyModule;
    case 'n':
      return kNotifyNew;
    default:
      return 0;
  }
}

std::optional<int> ParseNotifyFlags(std::string_view text) {
  int flags = 0;
  for (char c : text) {
    if (c == 'A') {
      flags |= kNotifyAll;
    } else if (c == 'K') {
      flags |= kNotifyKeyspace;
    } else if (c == 'E') {
      flags |= kNotifyKeyevent;
    } else if (int f = NotifyClassFlag(c)) {
      flags |= f;
    } else {
      return std::nullopt;
    }
  }
  return flags;
}

std::string NotifyFlagsToString(int flags) {
  std::string out;
  if ((flags & kNotifyAll) == kNotifyAll) {
    // Like Redis 7.0, 'n' is not shown next to 'A' (CONFIG GET of "AKEn" is "AKE").
    out += "A";
  } else {
    for (char c : std::string_view("g$lshzxetdn")) {
      if (flags & NotifyClassFlag(c)) out.push_back(c);
    }
  }
  if (flags & kNotifyKeyspace) out += "K";
  if (flags & kNotifyKeyevent) out += "E";
  if (flags & kNotifyKeyMiss) out += "m";
  return out;
}

}  // namespace keel::server
