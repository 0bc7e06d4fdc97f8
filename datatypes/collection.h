// Helpers shared by the hash, set and sorted-set operations (datatypes/hash.h, set.h, zset.h):
// typed key loading, the compound metadata tail, a sub-key cursor over one key incarnation
// that sees the transaction's pending writes, varints, random sampling of large collections
// and the process-wide cursor table of HSCAN/SSCAN/ZSCAN.
//
// Part of the collections module (hash/set/zset). Functions taking a Txn follow
// datatypes/string.h: they never commit; writes need a kWrite Txn with the key's stripe
// locked. ElementCursors() is a process-wide singleton guarded by its own mutex; everything
// else is stateless or owned by one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "datatypes/keyspace.h"
#include "datatypes/status.h"
#include "datatypes/storage.h"

namespace keel::coll {

// Loads `key` and checks its type: kWrongType if it holds another type; rec->exists is false
// if the key is absent (or expired).
Status LoadTyped(Txn& txn, std::string_view key, ValueType type, KeyRecord* rec);

// The compound variant byte (the first byte of the metadata tail; see datatypes/encoding.h).
CompoundEncoding VariantOf(const KeyRecord& rec);

// Unsigned LEB128 varints (7 bits per byte, low groups first).
void PutVarint(std::string* out, uint64_t v);
// Decodes a varint at the front of *in and removes it; false if truncated.
bool GetVarint(std::string_view* in, uint64_t* v);

// Walks the sub-keys of one incarnation (db, key, version) in byte order, merged with the
// transaction's pending writes. Like any Txn iterator it is invalidated by writes to the
// transaction: collect, then write.
class SubCursor {
 public:
  SubCursor(Txn& txn, std::string_view key, uint64_t version);

  // Positions at the first sub-key >= `sub` (relative to the key's prefix).
  void Seek(std::string_view sub);
  // Positions at the first sub-key of the incarnation.
  void SeekToFirst() { Seek({}); }
  // Positions at the last sub-key < `sub`; with an empty `sub`, at the last sub-key.
  void SeekBefore(std::string_view sub);
  bool Valid() const;
  void Next() { it_->Next(); }
  void Prev() { it_->Prev(); }
  // The sub-key without the incarnation prefix, and its value; valid until the next move.
  std::string_view sub() const;
  std::string_view value() const;
  Status status() const;

 private:
  std::string prefix_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

// HSCAN/SSCAN/ZSCAN cursors: a cursor stands for "continue after this sub-key". Unknown or
// forgotten cursors restart from the beginning (elements may repeat, none is missed).
keys::ScanCursors& ElementCursors();

// How many elements a collection may have for random commands to load it whole and sample
// uniformly; larger ones are sampled by seeking to random points of their key range.
inline constexpr uint64_t kUniformSampleLimit = 1024;

// The most elements SRANDMEMBER/HRANDFIELD/ZRANDMEMBER return for a negative count (Redis
// has no limit and runs out of memory trying; Keel refuses larger counts with an error).
inline constexpr int64_t kMaxRandomReply = 100'000'000;

// A random byte string between `first` and `last` (inclusive range of sub-keys, first <=
// last): the common prefix, then a uniform byte within the first differing position's range,
// then random bytes. Seeking to it picks an element with a probability that depends on the
// key distribution (not uniform), in O(log N).
std::string RandomKeyBetween(std::string_view first, std::string_view last, std::mt19937_64& rng);

// Picks random elements among the sub-keys of an incarnation that start with `space`
// (seeks to RandomKeyBetween the first and last of them, wrapping to the first). For
// collections above kUniformSampleLimit; smaller ones are loaded and sampled exactly.
class RandomSeeker {
 public:
  RandomSeeker(Txn& txn, std::string_view key, uint64_t version, std::string_view space);
  // Reads the bounds; false if there is no element (or on a storage error: see status()).
  bool Init();
  // Positions cursor() on a random element (Init must have returned true).
  void Pick(std::mt19937_64& rng);
  // Positions cursor() on the element after the current one, wrapping to the first.
  void Advance();
  // The current element's sub-key without `space`.
  std::string_view element() const { return cursor_.sub().substr(space_.size()); }
  std::string_view value() const { return cursor_.value(); }
  Status status() const { return cursor_.status(); }

 private:
  bool InSpace() const;
  SubCursor cursor_;
  std::string space_;
  std::string first_, last_;
};

// Random elements for the "count" forms of SRANDMEMBER/HRANDFIELD/SPOP on large
// collections: `count` distinct elements (count < the collection's size), as
// (element, value) pairs. Seeks randomly at most 3 * count times, then completes the answer
// with the elements that follow a random one.
Status SampleDistinct(RandomSeeker& seeker, uint64_t count, std::mt19937_64& rng,
                      std::vector<std::pair<std::string, std::string>>* out);

// One page of an element scan over the sub-keys of an incarnation that start with `space`:
// examines about `count` of them after the position `cursor` stands for and calls
// fn(element without `space`, value) for each. Returns the next cursor (0 when done).
Result<uint64_t> ScanPage(Txn& txn, std::string_view key, uint64_t version, std::string_view space,
                          uint64_t cursor, size_t count,
                          const std::function<void(std::string_view, std::string_view)>& fn);

// ---- argument parsing shared by the three families (pure) ----

// A SCAN-family cursor, parsed as Redis does with strtoul: an optional sign ("-1" wraps),
// digits, nothing else. kInvalidCursor otherwise.
Status ParseScanCursor(std::string_view arg, uint64_t* cursor);

struct ScanOptions {
  std::optional<std::string> pattern;  // MATCH, unless it is "*"
  size_t count = 10;
};
// The MATCH/COUNT options of HSCAN/SSCAN/ZSCAN (`args` after the cursor).
Status ParseScanOptions(std::span<const std::string_view> args, ScanOptions* out);

// An integer argument within [min, max], as Redis's getRangeLongFromObjectOrReply: with a
// `range_error` (e.g. kCountNotPositive), any failure is that code; without, kNotInteger if it
// is not an integer and kValueNotBetween (detail "<min> <max>") if outside.
Status ParseRangedInt(std::string_view arg, int64_t min, int64_t max,
                      std::optional<Code> range_error, int64_t* out);

}  // namespace keel::coll
