// Glob-style pattern matching with the semantics of Redis 7.0's stringmatchlen, as used by
// KEYS, SCAN/HSCAN/SSCAN/ZSCAN MATCH, PSUBSCRIBE and CONFIG GET.
//
// A pure function over caller-owned bytes; no state, safe from any thread. It runs in
// O(pattern * string) time and constant memory with no recursion, so hostile patterns such
// as "a*a*a*a*a*a*b" cannot make it exponential or exhaust the stack.
#pragma once

#include <string_view>

namespace keel {

// True if `str` matches `pattern`:
//   *       any sequence of bytes, including none
//   ?       exactly one byte
//   [abc]   one byte from the set; [^abc] one byte not in it; [a-z] a range (bounds in
//           either order); \x inside brackets is a literal x
//   \x      the literal byte x
// Everything else matches itself; with `nocase`, ASCII letters match either case.
//
// Redis quirks reproduced on purpose:
//   - An empty string matches only the empty pattern (so "*" does not match "").
//   - An unterminated "[..." runs to the end of the pattern; "[a-]" is the range 'a'..']'.
//   - Range bounds compare as signed chars, so bytes >= 0x80 sort below 0x00.
//   - A trailing '\' matches a literal '\'.
//   - Like Redis's recursion limit, a pattern with more than 1000 '*' groups that are each
//     followed by something other than '*' matches nothing.
bool GlobMatch(std::string_view pattern, std::string_view str, bool nocase = false);

}  // namespace keel
