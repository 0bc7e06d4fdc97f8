#include "cluster/slot.h"

#include <gtest/gtest.h>

namespace keel::cluster {
namespace {

TEST(SlotTest, Crc16MatchesTheRedisClusterReferenceVector) {
  // The reference value from the Redis Cluster specification.
  EXPECT_EQ(Crc16("123456789"), 0x31C3);
}

TEST(SlotTest, KeySlotMatchesRedisClusterKeyslot) {
  // Values as printed by `CLUSTER KEYSLOT` on Redis 7.
  EXPECT_EQ(KeySlot("foo"), 12182);
  EXPECT_EQ(KeySlot("bar"), 5061);
  EXPECT_EQ(KeySlot(""), 0);
}

TEST(SlotTest, HashTagSelectsTheBytesBetweenTheFirstBraces) {
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("user1000"));
  EXPECT_EQ(KeySlot("foo{bar}{zap}"), KeySlot("bar"));
}

TEST(SlotTest, EmptyOrUnclosedHashTagHashesTheWholeKey) {
  EXPECT_EQ(KeySlot("foo{}{bar}"), Crc16("foo{}{bar}") & 16383);
  EXPECT_EQ(KeySlot("foo{bar"), Crc16("foo{bar") & 16383);
  EXPECT_EQ(KeySlot("{{bar}}zap"), KeySlot("{bar"));
}

}  // namespace
}  // namespace keel::cluster
