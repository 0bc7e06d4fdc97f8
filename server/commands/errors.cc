#include "server/commands/errors.h"

namespace keel::server {

std::string ErrorText(const Status& status, std::string_view command) {
  switch (status.code()) {
    case Code::kOk:
      return "ERR no error";
    case Code::kNotFound:
      return "ERR no such key";
    case Code::kWrongType:
      return "WRONGTYPE Operation against a key holding the wrong kind of value";
    case Code::kNotInteger:
      return "ERR value is not an integer or out of range";
    case Code::kNotFloat:
      return "ERR value is not a valid float";
    case Code::kOverflow:
      return "ERR increment or decrement would overflow";
    case Code::kNanOrInfinity:
      return "ERR increment would produce NaN or Infinity";
    case Code::kSyntax:
      return "ERR syntax error";
    case Code::kOutOfRange:
      return "ERR index out of range";
    case Code::kNoSuchKey:
      return "ERR no such key";
    case Code::kBitOffset:
      return "ERR bit offset is not an integer or out of range";
    case Code::kBitValue:
      return "ERR bit is not an integer or out of range";
    case Code::kStringTooLong:
      return "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
    case Code::kInvalidExpire:
      return "ERR invalid expire time in '" + std::string(command) + "' command";
    case Code::kBusyKey:
      return "BUSYKEY Target key name already exists.";
    case Code::kBadDumpPayload:
      return "ERR DUMP payload version or checksum are wrong";
    case Code::kBadDataFormat:
      return "ERR Bad data format";
    case Code::kInvalidDbIndex:
      return "ERR DB index is out of range";
    case Code::kSameObject:
      return "ERR source and destination objects are the same";
    case Code::kInvalidArgument:
      return "ERR " + status.detail();
    case Code::kStorage:
      return "ERR storage error: " + status.detail();
    case Code::kBitArgument:
      return "ERR The bit argument must be 1 or 0.";
    case Code::kBitopNotArity:
      return "ERR BITOP NOT must be called with a single source key.";
    case Code::kBitfieldOverflowType:
      return "ERR Invalid OVERFLOW type specified";
    case Code::kBitfieldType:
      return "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
             "supported but i64 is.";
    case Code::kBitfieldReadOnly:
      return "ERR BITFIELD_RO only supports the GET subcommand";
    case Code::kOffsetOutOfRange:
      return "ERR offset is out of range";
    case Code::kLcsWrongType:
      return "ERR The specified keys must contain string values";
    case Code::kLcsLenAndIdx:
      return "ERR If you want both the length and indexes, please just use IDX.";
    case Code::kLcsTooLong:
      return "ERR String too long for LCS";
    case Code::kLcsOverBudget:
      return "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
    case Code::kLcsAllocFailed:
      return "ERR Insufficient memory, failed allocating transient memory for LCS";
    case Code::kHashNotInteger:
      return "ERR hash value is not an integer";
    case Code::kHashNotFloat:
      return "ERR hash value is not a float";
    case Code::kScoreNaN:
      return "ERR resulting score is not a number (NaN)";
    case Code::kInvalidCursor:
      return "ERR invalid cursor";
    case Code::kValueNotBetween: {
      // detail: "<min> <max>"
      std::string_view bounds = status.detail();
      size_t space = bounds.find(' ');
      std::string_view min = bounds.substr(0, space);
      std::string_view max = space == std::string_view::npos ? "" : bounds.substr(space + 1);
      return "ERR value is out of range, value must between " + std::string(min) + " and " +
             std::string(max);
    }
    case Code::kValueNotPositive:
      return "ERR value is out of range, must be positive";
    case Code::kNumkeysNotPositive:
      return "ERR numkeys should be greater than 0";
    case Code::kCountNotPositive:
      return "ERR count should be greater than 0";
    case Code::kLimitNegative:
      return "ERR LIMIT can't be negative";
    case Code::kInvalidStreamId:
      return "ERR Invalid stream ID specified as stream command argument";
    case Code::kStreamIdTooSmall:
      return "ERR The ID specified in XADD is equal or smaller than the target stream top item";
    case Code::kStreamExhausted:
      return "ERR The stream has exhausted the last possible ID, unable to add more items";
    case Code::kSetIdTooSmall:
      return "ERR The ID specified in XSETID is smaller than the target stream top item";
    case Code::kSetIdEntriesTooSmall:
      return "ERR The entries_added specified in XSETID is smaller than the target stream length";
    case Code::kNotLeader:
      return "CLUSTERDOWN The cluster is down";
    case Code::kUnknownOutcome:
      return "TIMEOUT the write may or may not have been applied: leadership changed while it "
             "was replicated";
  }
  return "ERR unknown error";
}

namespace {
// Redis formats these with printf's "%.*s", which also stops at a NUL byte.
std::string_view CString(std::string_view s, size_t max) {
  return s.substr(0, std::min(max, s.find('\0')));
}
}  // namespace

std::string UnknownCommandError(std::string_view name, std::span<const std::string_view> args) {
  std::string list;
  for (std::string_view a : args) {
    if (list.size() >= 128) break;
    size_t room = 128 - list.size();
    list += "'";
    list.append(CString(a, room));
    list += "' ";
  }
  std::string out = "ERR unknown command '";
  out.append(CString(name, 128));
  out += "', with args beginning with: ";
  out += list;
  return out;
}

std::string UnknownSubcommandError(std::string_view sub, std::string_view parent_upper) {
  std::string out = "ERR unknown subcommand '";
  out.append(CString(sub, 128));
  out += "'. Try ";
  out.append(parent_upper);
  out += " HELP.";
  return out;
}

std::string ArityError(std::string_view command) {
  return "ERR wrong number of arguments for '" + std::string(command) + "' command";
}

}  // namespace keel::server
