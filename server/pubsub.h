// PubSub: channel, pattern and shard-channel subscriptions and message fan-out.
//
// The registry maps each channel (and pattern) to its subscribers. PUBLISH encodes a message
// once per protocol and hands it to every receiver with Connection::Deliver, which never
// blocks the publisher and disconnects receivers past their pubsub output-buffer limit.
// Each client's own subscription sets live in its Client (io thread only); this registry is
// shared and guarded by a mutex. Thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace keel::server {

class Connection;

class PubSub {
 public:
  enum class Kind : uint8_t { kChannel = 0, kPattern = 1, kShard = 2 };

  // Adds/removes `conn` as a subscriber of `name`; returns true if that changed anything.
  bool Add(Kind kind, std::string_view name, const std::shared_ptr<Connection>& conn);
  bool Remove(Kind kind, std::string_view name, const Connection* conn);

  // PUBLISH / SPUBLISH: the number of clients that received the message.
  int64_t Publish(std::string_view channel, std::string_view message);
  int64_t SPublish(std::string_view channel, std::string_view message);

  // PUBSUB CHANNELS / SHARDCHANNELS [pattern], NUMSUB / SHARDNUMSUB, NUMPAT.
  std::vector<std::string> Channels(Kind kind, std::string_view pattern);
  int64_t NumSubscribers(Kind kind, std::string_view channel);
  int64_t NumPatterns();
  // Whether anyone subscribes to anything (cheap check before building notifications).
  bool empty() const { return total_.load(std::memory_order_relaxed) == 0; }

 private:
  struct Subscriber {
    std::weak_ptr<Connection> conn;
    const Connection* id;
  };
  using Table = std::map<std::string, std::vector<Subscriber>, std::less<>>;
  Table& table(Kind kind) { return tables_[static_cast<int>(kind)]; }

  std::mutex mu_;
  Table tables_[3];
  std::atomic<size_t> total_{0};
};

}  // namespace keel::server
