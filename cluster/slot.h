// Redis Cluster hash slots: CRC16 (XMODEM) of the key, or of its {hashtag}, modulo 16384.
//
// Pure functions; no state, safe from any thread. Every key Keel stores is prefixed by
// its slot (see datatypes/README.md), so a slot range is one contiguous RocksDB range.
#pragma once

#include <cstdint>
#include <string_view>

namespace keel::cluster {

inline constexpr uint16_t kSlotCount = 16384;

// CRC16-CCITT (XMODEM: poly 0x1021, init 0), the checksum Redis Cluster uses.
uint16_t Crc16(std::string_view data);

// The slot of `key`: if the key contains '{' followed later by '}' with at least one byte
// between them, only the bytes between the first '{' and the next '}' are hashed.
uint16_t KeySlot(std::string_view key);

}  // namespace keel::cluster
