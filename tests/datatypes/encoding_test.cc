#include "datatypes/encoding.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "cluster/slot.h"

namespace keel {
namespace {

// RocksDB's bytewise order: unsigned bytes, shorter prefix first.
bool BytewiseLess(const std::string& a, const std::string& b) {
  int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  return c != 0 ? c < 0 : a.size() < b.size();
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

uint16_t SlotBytes(std::string_view raw) {
  return static_cast<uint16_t>((static_cast<unsigned char>(raw[0]) << 8) |
                               static_cast<unsigned char>(raw[1]));
}

// Keys that land in many different slots, including the first and last ones.
std::vector<std::string> ManyKeys() {
  std::vector<std::string> keys;
  for (int i = 0; i < 3000; ++i) keys.push_back("key:" + std::to_string(i));
  keys.push_back("");  // slot 0
  keys.push_back(std::string("bin\0\xff", 5));
  keys.push_back("{user1000}.following");
  keys.push_back("{user1000}.followers");
  // Find keys in slots 0 and 16383 so the range edges are exercised.
  bool have_first = false, have_last = false;
  for (int i = 0; !(have_first && have_last); ++i) {
    std::string k = "edge:" + std::to_string(i);
    uint16_t slot = cluster::KeySlot(k);
    if (slot == 0 && !have_first) {
      keys.push_back(k);
      have_first = true;
    }
    if (slot == 16383 && !have_last) {
      keys.push_back(k);
      have_last = true;
    }
  }
  return keys;
}

TEST(EncodingTest, MetaKeyIsBigEndianSlotThenDbThenUserKey) {
  // CLUSTER KEYSLOT foo = 12182 = 0x2f96.
  std::string k = MetaKey(5, "foo");
  ASSERT_EQ(k.size(), 6u);
  EXPECT_EQ(static_cast<unsigned char>(k[0]), 0x2f);
  EXPECT_EQ(static_cast<unsigned char>(k[1]), 0x96);
  EXPECT_EQ(static_cast<unsigned char>(k[2]), 5);
  EXPECT_EQ(k.substr(3), "foo");
  EXPECT_EQ(MetaKeyPrefix(12182, 5), k.substr(0, 3));
}

TEST(EncodingTest, MetaKeyPrefixIsTheSlotOfTheHashTag) {
  std::string k = MetaKey(0, "{user1000}.following");
  EXPECT_EQ(SlotBytes(k), cluster::KeySlot("user1000"));
  EXPECT_TRUE(StartsWith(k, MetaKeyPrefix(cluster::KeySlot("user1000"), 0)));
  EXPECT_EQ(MetaKey(0, "{user1000}.followers").substr(0, 3), k.substr(0, 3));
}

TEST(EncodingTest, MetaKeyRoundTripsThroughDecode) {
  for (const std::string& key : ManyKeys()) {
    for (uint8_t db : {uint8_t{0}, uint8_t{7}, uint8_t{255}}) {
      const std::string raw = MetaKey(db, key);  // the decoded views point into it
      auto d = DecodeMetaKey(raw);
      ASSERT_TRUE(d.has_value());
      EXPECT_EQ(d->slot, cluster::KeySlot(key));
      EXPECT_EQ(d->db, db);
      EXPECT_EQ(d->user_key, key);
    }
  }
}

TEST(EncodingTest, MetaKeysOfOneSlotAreContiguousAcrossUserKeys) {
  std::vector<std::string> encoded;
  for (const std::string& key : ManyKeys()) {
    for (uint8_t db : {uint8_t{0}, uint8_t{1}, uint8_t{254}, uint8_t{255}}) {
      encoded.push_back(MetaKey(db, key));
    }
  }
  std::sort(encoded.begin(), encoded.end(), BytewiseLess);
  // In sorted order the (slot, db) pairs never decrease, so each pair is one run.
  for (size_t i = 1; i < encoded.size(); ++i) {
    auto a = DecodeMetaKey(encoded[i - 1]);
    auto b = DecodeMetaKey(encoded[i]);
    ASSERT_TRUE(a && b);
    EXPECT_LE(std::make_pair(a->slot, a->db), std::make_pair(b->slot, b->db));
  }
  // And each run lies inside [MetaKeyPrefix(slot, db), the next prefix).
  for (const std::string& k : encoded) {
    auto d = DecodeMetaKey(k);
    std::string lo = MetaKeyPrefix(d->slot, d->db);
    std::string hi = d->db < 255 ? MetaKeyPrefix(d->slot, static_cast<uint8_t>(d->db + 1))
                                 : MetaKeyPrefix(static_cast<uint16_t>(d->slot + 1), 0);
    EXPECT_FALSE(BytewiseLess(k, lo));
    EXPECT_TRUE(BytewiseLess(k, hi));
  }
}

TEST(EncodingTest, AnySlotRangeIsOneContiguousByteRange) {
  std::vector<std::string> encoded;
  for (const std::string& key : ManyKeys()) {
    encoded.push_back(MetaKey(3, key));
    encoded.push_back(MetaKey(255, key));
    encoded.push_back(SubKey(3, key, 42, "field"));
    encoded.push_back(SubKey(255, key, ~uint64_t{0}, std::string("\xff\xff", 2)));
  }
  std::sort(encoded.begin(), encoded.end(), BytewiseLess);
  std::mt19937 rng(7);
  std::vector<std::pair<uint16_t, uint16_t>> ranges = {{0, 0}, {0, 16383}, {16383, 16383}};
  for (int i = 0; i < 50; ++i) {
    uint16_t a = static_cast<uint16_t>(rng() % 16384), b = static_cast<uint16_t>(rng() % 16384);
    ranges.emplace_back(std::min(a, b), std::max(a, b));
  }
  for (auto [lo_slot, hi_slot] : ranges) {
    std::string lo = MetaKeyPrefix(lo_slot, 0);
    // The end is the first key of slot hi+1 (for the last slot: the byte 0x40, above any slot).
    std::string hi = MetaKeyPrefix(static_cast<uint16_t>(hi_slot + 1), 0);
    for (const std::string& k : encoded) {
      uint16_t slot = SlotBytes(k);
      bool in_range = slot >= lo_slot && slot <= hi_slot;
      bool in_bytes = !BytewiseLess(k, lo) && BytewiseLess(k, hi);
      ASSERT_EQ(in_range, in_bytes) << "slot " << slot << " range " << lo_slot << ".." << hi_slot;
    }
  }
}

TEST(EncodingTest, SubKeyRoundTripsThroughDecode) {
  const std::string binary_key("a\0b{c}\xff", 7);
  const std::string binary_sub("\0\x01\xff", 3);
  for (const std::string& key : {std::string(), std::string("h"), binary_key}) {
    for (uint64_t version :
         {uint64_t{0}, uint64_t{1}, uint64_t{0x0102030405060708}, ~uint64_t{0}}) {
      for (const std::string& sub : {std::string(), std::string("field"), binary_sub}) {
        std::string raw = SubKey(9, key, version, sub);
        EXPECT_TRUE(StartsWith(raw, SubKeyPrefix(9, key, version)));
        EXPECT_TRUE(StartsWith(raw, MetaKeyPrefix(cluster::KeySlot(key), 9)));
        auto d = DecodeSubKey(raw);
        ASSERT_TRUE(d.has_value());
        EXPECT_EQ(d->slot, cluster::KeySlot(key));
        EXPECT_EQ(d->db, 9);
        EXPECT_EQ(d->user_key, key);
        EXPECT_EQ(d->version, version);
        EXPECT_EQ(d->sub_key, sub);
      }
    }
  }
}

TEST(EncodingTest, SubKeyPrefixOfOneKeyNeverCoversAnotherKeyWithTheSameStart) {
  // Same slot (hash tag), one user key a prefix of the other: the length field separates them.
  const std::string a = "{t}a", ab = "{t}ab";
  for (uint64_t v : {uint64_t{1}, uint64_t{0x6200000000000000}}) {
    EXPECT_FALSE(StartsWith(SubKey(0, ab, v, "x"), SubKeyPrefix(0, a, v)));
    EXPECT_FALSE(StartsWith(SubKey(0, a, v, "bx"), SubKeyPrefix(0, ab, v)));
  }
  // Nor does one version's prefix cover another version's elements.
  EXPECT_FALSE(StartsWith(SubKey(0, a, 2, "x"), SubKeyPrefix(0, a, 1)));
  // Sub-keys of one incarnation sort together, ordered by sub-key bytes.
  EXPECT_TRUE(BytewiseLess(SubKey(0, a, 1, "a"), SubKey(0, a, 1, "b")));
  EXPECT_TRUE(BytewiseLess(SubKey(0, a, 1, std::string(1, '\x7f')),
                           SubKey(0, a, 1, std::string(1, '\x80'))));
  EXPECT_TRUE(BytewiseLess(SubKey(0, a, 1, "zzz"), SubKey(0, a, 2, "")));
}

TEST(EncodingTest, ExpiryKeyRoundTripsThroughDecode) {
  const std::string binary_key("k\0\xff", 3);
  for (const std::string& key : {std::string(), std::string("session:1"), binary_key}) {
    for (uint64_t t : {uint64_t{1}, uint64_t{1700000000000}, ~uint64_t{0}}) {
      std::string raw = ExpiryKey(t, 200, key);
      auto d = DecodeExpiryKey(raw);
      ASSERT_TRUE(d.has_value());
      EXPECT_EQ(d->expire_at_ms, t);
      EXPECT_EQ(d->db, 200);
      EXPECT_EQ(d->user_key, key);
      // The slot follows the time, big-endian.
      EXPECT_EQ(SlotBytes(raw.substr(8)), cluster::KeySlot(key));
    }
  }
}

TEST(EncodingTest, ExpiryKeysSortByTimeFirst) {
  // Times that differ only in a low byte, across a byte carry and in the high bytes; keys and
  // dbs chosen so that the later key would sort first if time were not the leading field.
  std::vector<uint64_t> times = {0,
                                 1,
                                 255,
                                 256,
                                 257,
                                 65535,
                                 65536,
                                 1700000000000,
                                 1700000000001,
                                 uint64_t{1} << 40,
                                 (uint64_t{1} << 63) + 5};
  std::vector<std::string> keys = {"zzz", "a", std::string("\xff\xff", 2), "", "{x}y"};
  std::mt19937 rng(1);
  std::vector<std::pair<uint64_t, std::string>> entries;
  for (uint64_t t : times) {
    for (size_t i = 0; i < keys.size(); ++i) {
      entries.emplace_back(t, ExpiryKey(t, static_cast<uint8_t>(rng()), keys[i]));
    }
  }
  std::shuffle(entries.begin(), entries.end(), rng);
  std::sort(entries.begin(), entries.end(),
            [](const auto& x, const auto& y) { return BytewiseLess(x.second, y.second); });
  for (size_t i = 1; i < entries.size(); ++i) {
    EXPECT_LE(entries[i - 1].first, entries[i].first);
  }
}

TEST(EncodingTest, StringMetadataRoundTrips) {
  Metadata m;
  m.type = ValueType::kString;
  m.expire_at_ms = 1700000000123;
  const std::string value("hello\0world", 11);
  std::string raw = EncodeMetadata(m, value);
  EXPECT_EQ(raw.size(), kMetaHeaderSize + value.size());
  Metadata d;
  d.version = 99;  // must be reset for strings
  d.size = 99;
  std::string_view tail;
  ASSERT_TRUE(DecodeMetadata(raw, &d, &tail));
  EXPECT_EQ(d.type, ValueType::kString);
  EXPECT_EQ(d.expire_at_ms, 1700000000123u);
  EXPECT_EQ(d.version, 0u);
  EXPECT_EQ(d.size, 0u);
  EXPECT_FALSE(d.is_compound());
  EXPECT_EQ(tail, value);

  // An empty string is just the header; a null tail pointer is allowed.
  m.expire_at_ms = 0;
  raw = EncodeMetadata(m);
  EXPECT_EQ(raw.size(), kMetaHeaderSize);
  ASSERT_TRUE(DecodeMetadata(raw, &d, nullptr));
  EXPECT_EQ(d.expire_at_ms, 0u);
}

TEST(EncodingTest, CompoundMetadataRoundTripsForEveryCompoundType) {
  for (ValueType t : {ValueType::kHash, ValueType::kSet, ValueType::kZSet, ValueType::kList,
                      ValueType::kStream}) {
    Metadata m;
    m.type = t;
    m.expire_at_ms = ~uint64_t{0} - 1;
    m.version = 0x0102030405060708;
    m.size = 123456789012;
    std::string raw = EncodeMetadata(m, "tail");
    EXPECT_EQ(raw.size(), kCompoundHeaderSize + 4);
    EXPECT_EQ(static_cast<uint8_t>(raw[0]), static_cast<uint8_t>(t));
    Metadata d;
    std::string_view tail;
    ASSERT_TRUE(DecodeMetadata(raw, &d, &tail));
    EXPECT_EQ(d.type, t);
    EXPECT_TRUE(d.is_compound());
    EXPECT_EQ(d.expire_at_ms, m.expire_at_ms);
    EXPECT_EQ(d.version, m.version);
    EXPECT_EQ(d.size, m.size);
    EXPECT_EQ(tail, "tail");
  }
}

TEST(EncodingTest, StringEncodingRoundTripsInTheTypeByte) {
  for (StringEncoding e : {StringEncoding::kAuto, StringEncoding::kRaw, StringEncoding::kNoInt}) {
    Metadata m;
    m.encoding = e;
    m.expire_at_ms = 42;
    std::string raw = EncodeMetadata(m, "12");
    EXPECT_EQ(static_cast<uint8_t>(raw[0]) & 0x0f, 1);
    Metadata d;
    std::string_view tail;
    ASSERT_TRUE(DecodeMetadata(raw, &d, &tail));
    EXPECT_EQ(d.type, ValueType::kString);
    EXPECT_EQ(d.encoding, e);
    EXPECT_EQ(d.expire_at_ms, 42u);
    EXPECT_EQ(tail, "12");
  }
  // Encoding bits beyond the known values are corruption.
  std::string raw = EncodeMetadata(Metadata{});
  raw[0] = static_cast<char>(0x31);
  Metadata d;
  EXPECT_FALSE(DecodeMetadata(raw, &d, nullptr));
}

TEST(EncodingTest, ExpiryIsLittleEndianAfterTheTypeByte) {
  Metadata m;
  m.expire_at_ms = 0x0102030405060708;
  std::string raw = EncodeMetadata(m);
  EXPECT_EQ(static_cast<uint8_t>(raw[0]), 1);
  EXPECT_EQ(static_cast<uint8_t>(raw[1]), 0x08);
  EXPECT_EQ(static_cast<uint8_t>(raw[8]), 0x01);
}

TEST(EncodingTest, MetadataExpiredAtTreatsZeroAsNoExpiry) {
  Metadata m;
  EXPECT_FALSE(m.ExpiredAt(~uint64_t{0}));
  m.expire_at_ms = 1000;
  EXPECT_FALSE(m.ExpiredAt(999));
  EXPECT_TRUE(m.ExpiredAt(1000));
  EXPECT_TRUE(m.ExpiredAt(1001));
}

TEST(EncodingTest, CorruptOrShortMetadataIsRejected) {
  Metadata d;
  std::string_view tail;
  EXPECT_FALSE(DecodeMetadata("", &d, &tail));
  Metadata s;
  std::string str = EncodeMetadata(s);
  for (size_t n = 0; n < str.size(); ++n) {
    EXPECT_FALSE(DecodeMetadata(std::string_view(str).substr(0, n), &d, &tail)) << n;
  }
  Metadata h;
  h.type = ValueType::kHash;
  h.version = 5;
  std::string hash = EncodeMetadata(h);
  for (size_t n = 0; n < hash.size(); ++n) {
    EXPECT_FALSE(DecodeMetadata(std::string_view(hash).substr(0, n), &d, &tail)) << n;
  }
  EXPECT_TRUE(DecodeMetadata(hash, &d, &tail));
  // Unknown type bytes.
  for (int t : {0, 7, 8, 0x7f, 0x80, 0xff}) {
    std::string bad = str;
    bad[0] = static_cast<char>(t);
    EXPECT_FALSE(DecodeMetadata(bad, &d, &tail)) << t;
  }
}

TEST(EncodingTest, ShortOrCorruptKeysAreRejectedWithoutCrashing) {
  EXPECT_FALSE(DecodeMetaKey("").has_value());
  EXPECT_FALSE(DecodeMetaKey("ab").has_value());
  EXPECT_TRUE(DecodeMetaKey("abc").has_value());  // an empty user key

  std::string sub = SubKey(1, "key", 7, "f");
  std::string prefix = SubKeyPrefix(1, "key", 7);
  for (size_t n = 0; n < prefix.size(); ++n) {
    EXPECT_FALSE(DecodeSubKey(std::string_view(sub).substr(0, n)).has_value()) << n;
  }
  // A key length that points past the end (including one that would overflow 32 bits).
  for (uint32_t len : {uint32_t{4}, uint32_t{1000}, ~uint32_t{0}}) {
    std::string bad = prefix;
    bad[3] = static_cast<char>(len >> 24);
    bad[4] = static_cast<char>(len >> 16);
    bad[5] = static_cast<char>(len >> 8);
    bad[6] = static_cast<char>(len);
    EXPECT_FALSE(DecodeSubKey(bad).has_value()) << len;
  }

  std::string exp = ExpiryKey(5, 1, "k");
  for (size_t n = 0; n < 11; ++n) {
    EXPECT_FALSE(DecodeExpiryKey(std::string_view(exp).substr(0, n)).has_value()) << n;
  }

  // Random garbage never crashes any decoder.
  std::mt19937 rng(3);
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 40, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    Metadata m;
    std::string_view tail;
    (void)DecodeMetaKey(junk);
    (void)DecodeSubKey(junk);
    (void)DecodeExpiryKey(junk);
    if (DecodeMetadata(junk, &m, &tail)) {
      EXPECT_LE(tail.size(), junk.size());
    }
  }
}

TEST(EncodingTest, FixedWidthHelpersUseTheirByteOrders) {
  std::string le, be, be32;
  PutFixed64LE(&le, 0x0102030405060708);
  PutFixed64BE(&be, 0x0102030405060708);
  PutFixed32BE(&be32, 0x0a0b0c0d);
  EXPECT_EQ(le, std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
  EXPECT_EQ(be, std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(be32, std::string("\x0a\x0b\x0c\x0d", 4));
  for (uint64_t v : {uint64_t{0}, uint64_t{0x80}, uint64_t{0xff00ff00ff00ff00}, ~uint64_t{0}}) {
    std::string a, b;
    PutFixed64LE(&a, v);
    PutFixed64BE(&b, v);
    EXPECT_EQ(GetFixed64LE(a.data()), v);
    EXPECT_EQ(GetFixed64BE(b.data()), v);
  }
  std::string c;
  PutFixed32BE(&c, 0xfffffffe);
  EXPECT_EQ(GetFixed32BE(c.data()), 0xfffffffeu);
}

TEST(EncodingTest, TypeNamesRoundTripCaseInsensitively) {
  std::map<ValueType, std::string> names = {
      {ValueType::kString, "string"}, {ValueType::kHash, "hash"}, {ValueType::kSet, "set"},
      {ValueType::kZSet, "zset"},     {ValueType::kList, "list"}, {ValueType::kStream, "stream"}};
  for (const auto& [type, name] : names) {
    EXPECT_EQ(TypeName(type), name);
    EXPECT_EQ(TypeFromName(name), type);
    std::string upper = name;
    for (char& ch : upper) ch = static_cast<char>(ch - 'a' + 'A');
    EXPECT_EQ(TypeFromName(upper), type);
  }
  EXPECT_FALSE(TypeFromName("").has_value());
  EXPECT_FALSE(TypeFromName("none").has_value());
  EXPECT_FALSE(TypeFromName("strings").has_value());
  EXPECT_FALSE(TypeFromName("sets").has_value());
}

}  // namespace
}  // namespace keel
