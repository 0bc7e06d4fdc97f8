// Pub/Sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE SSUBSCRIBE SUNSUBSCRIBE
// PUBLISH SPUBLISH PUBSUB (CHANNELS NUMSUB NUMPAT SHARDCHANNELS SHARDNUMSUB HELP).
#include <algorithm>
#include <string>
#include <vector>

#include "server/commands/cmd_util.h"
#include "server/commands/command_table.h"
#include "server/net/connection.h"
#include "server/server.h"

namespace keel::server {
namespace {

using Kind = PubSub::Kind;

std::set<std::string>& SetOf(Client& client, Kind kind) {
  switch (kind) {
    case Kind::kChannel:
      return client.channels;
    case Kind::kPattern:
      return client.patterns;
    case Kind::kShard:
      break;
  }
  return client.shard_channels;
}

size_t CountFor(Client& client, Kind kind) {
  return kind == Kind::kShard ? client.shard_channels.size() : client.subscriptions();
}

// After (un)subscribing: the output buffer limit class and CLIENT LIST's counts.
void UpdateLimitClass(CommandContext& c) {
  c.client.SyncShared();
  if (c.client.connection == nullptr) return;
  c.client.connection->set_limit_class(c.client.in_pubsub() ? Connection::LimitClass::kPubSub
                                                            : Connection::LimitClass::kNormal);
}

// Subscription confirmations are pushes in RESP3 and arrays in RESP2.
void ReplyConfirm(CommandContext& c, std::string_view what, const std::string* name, size_t count) {
  c.reply.Push(3);
  c.reply.Bulk(what);
  if (name != nullptr) {
    c.reply.Bulk(*name);
  } else {
    c.reply.NullBulk();
  }
  c.reply.Integer(static_cast<int64_t>(count));
}

void SubscribeGeneric(CommandContext& c, Kind kind, std::string_view what) {
  auto conn = c.client.connection->shared_from_this();
  for (size_t i = 1; i < c.argv.size(); ++i) {
    std::string name(c.argv[i]);
    if (SetOf(c.client, kind).insert(name).second) c.server.pubsub().Add(kind, name, conn);
    ReplyConfirm(c, what, &name, CountFor(c.client, kind));
  }
  UpdateLimitClass(c);
}

void UnsubscribeGeneric(CommandContext& c, Kind kind, std::string_view what) {
  auto& set = SetOf(c.client, kind);
  std::vector<std::string> names;
  if (c.argv.size() > 1) {
    names.assign(c.argv.begin() + 1, c.argv.end());
  } else {
    names.assign(set.begin(), set.end());
    if (names.empty()) {
      ReplyConfirm(c, what, nullptr, CountFor(c.client, kind));
      return;
    }
  }
  for (const auto& name : names) {
    if (set.erase(name) > 0) c.server.pubsub().Remove(kind, name, c.client.connection);
    ReplyConfirm(c, what, &name, CountFor(c.client, kind));
  }
  UpdateLimitClass(c);
}

void Subscribe(CommandContext& c) { SubscribeGeneric(c, Kind::kChannel, "subscribe"); }
void PSubscribe(CommandContext& c) { SubscribeGeneric(c, Kind::kPattern, "psubscribe"); }
void SSubscribe(CommandContext& c) { SubscribeGeneric(c, Kind::kShard, "ssubscribe"); }
void Unsubscribe(CommandContext& c) { UnsubscribeGeneric(c, Kind::kChannel, "unsubscribe"); }
void PUnsubscribe(CommandContext& c) { UnsubscribeGeneric(c, Kind::kPattern, "punsubscribe"); }
void SUnsubscribe(CommandContext& c) { UnsubscribeGeneric(c, Kind::kShard, "sunsubscribe"); }

void Publish(CommandContext& c) {
  // The count is of this node's receivers, as in Redis Cluster.
  c.reply.Integer(c.server.pubsub().Publish(c.argv[1], c.argv[2]));
  if (auto* node = c.server.cluster()) node->PublishToPeers(c.argv[1], c.argv[2]);
}
void SPublish(CommandContext& c) {
  c.reply.Integer(c.server.pubsub().SPublish(c.argv[1], c.argv[2]));
}

void ChannelsGeneric(CommandContext& c, Kind kind) {
  if (c.argv.size() > 3) {
    // Redis's addReplySubcommandSyntaxError: the subcommand as the client typed it.
    std::string_view sub = c.argv[1];
    std::string text = "ERR unknown subcommand or wrong number of arguments for '";
    text.append(sub.substr(0, std::min<size_t>(128, sub.find('\0'))));
    text += "'. Try PUBSUB HELP.";
    return c.ErrorText(text);
  }
  std::vector<std::string> names;
  if (c.argv.size() == 3 && c.argv[2].empty()) {
    // The empty pattern matches only the empty channel name (Channels() takes "" as "all").
    if (c.server.pubsub().NumSubscribers(kind, "") > 0) names.emplace_back();
  } else {
    names = c.server.pubsub().Channels(kind, c.argv.size() == 3 ? c.argv[2] : std::string_view());
  }
  c.reply.BulkArray(names);
}
void PubSubChannels(CommandContext& c) { ChannelsGeneric(c, Kind::kChannel); }
void PubSubShardChannels(CommandContext& c) { ChannelsGeneric(c, Kind::kShard); }

void NumSubGeneric(CommandContext& c, Kind kind) {
  c.reply.Array((c.argv.size() - 2) * 2);
  for (size_t i = 2; i < c.argv.size(); ++i) {
    c.reply.Bulk(c.argv[i]);
    c.reply.Integer(c.server.pubsub().NumSubscribers(kind, c.argv[i]));
  }
}
void PubSubNumSub(CommandContext& c) { NumSubGeneric(c, Kind::kChannel); }
void PubSubShardNumSub(CommandContext& c) { NumSubGeneric(c, Kind::kShard); }
void PubSubNumPat(CommandContext& c) { c.reply.Integer(c.server.pubsub().NumPatterns()); }

void PubSubHelp(CommandContext& c) {
  static const char* kLines[] = {
      "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CHANNELS [<pattern>]",
      "    Return the currently active channels matching a <pattern> (default: '*').",
      "NUMPAT",
      "    Return number of subscriptions to patterns.",
      "NUMSUB [<channel> ...]",
      "    Return the number of subscribers for the specified channels, excluding",
      "    pattern subscriptions(default: no channels).",
      "SHARDCHANNELS [<pattern>]",
      "    Return the currently active shard level channels matching a <pattern> (default: '*').",
      "SHARDNUMSUB [<shardchannel> ...]",
      "    Return the number of subscribers for the specified shard level channel(s)",
      "HELP",
      "    Prints this help.",
  };
  c.reply.Array(std::size(kLines));
  for (const char* l : kLines) c.reply.SimpleString(l);
}

constexpr uint32_t kSubFlags =
    kCmdPubSub | kCmdNoScript | kCmdLoading | kCmdStale | kCmdNoStorage | kCmdPubSubContext;
constexpr uint32_t kPub =
    kCmdPubSub | kCmdLoading | kCmdStale | kCmdFast | kCmdMayReplicate | kCmdNoStorage;
constexpr uint32_t kIntro = kCmdPubSub | kCmdLoading | kCmdStale | kCmdNoStorage;

}  // namespace

void RegisterPubSubCommands(std::vector<CommandSpec>* out) {
  const CommandRows Row("pubsub");
  auto& o = *out;
  o.push_back(Row("subscribe", -2, kSubFlags, 0, 0, 0, Subscribe,
                  "Listen for messages published to the given channels", "2.0.0",
                  "O(N) where N is the number of channels to subscribe to.", "@pubsub @slow"));
  o.push_back(Row("unsubscribe", -1, kSubFlags, 0, 0, 0, Unsubscribe,
                  "Stop listening for messages posted to the given channels", "2.0.0",
                  "O(N) where N is the number of clients already subscribed to a channel.",
                  "@pubsub @slow"));
  o.push_back(Row("psubscribe", -2, kSubFlags, 0, 0, 0, PSubscribe,
                  "Listen for messages published to channels matching the given patterns", "2.0.0",
                  "O(N) where N is the number of patterns the client is already subscribed to.",
                  "@pubsub @slow"));
  o.push_back(Row("punsubscribe", -1, kSubFlags, 0, 0, 0, PUnsubscribe,
                  "Stop listening for messages posted to channels matching the given patterns",
                  "2.0.0",
                  "O(N+M) where N is the number of patterns the client is already subscribed and M "
                  "is the number of total patterns subscribed in the system (by any client).",
                  "@pubsub @slow"));
  o.push_back(Row("ssubscribe", -2, kSubFlags, 1, -1, 1, SSubscribe,
                  "Listen for messages published to the given shard channels", "7.0.0",
                  "O(N) where N is the number of shard channels to subscribe to.",
                  "@pubsub @slow"));
  o.push_back(Row("sunsubscribe", -1, kSubFlags, 1, -1, 1, SUnsubscribe,
                  "Stop listening for messages posted to the given shard channels", "7.0.0",
                  "O(N) where N is the number of clients already subscribed to a shard channel.",
                  "@pubsub @slow"));
  o.push_back(Row("publish", 3, kPub, 0, 0, 0, Publish, "Post a message to a channel", "2.0.0",
                  "O(N+M) where N is the number of clients subscribed to the receiving channel and "
                  "M is the total number of subscribed patterns (by any client).",
                  "@pubsub @fast"));
  o.push_back(
      Row("spublish", 3, kPub, 1, 1, 1, SPublish, "Post a message to a shard channel", "7.0.0",
          "O(N) where N is the number of clients subscribed to the receiving shard channel.",
          "@pubsub @fast"));
  CommandSpec ps =
      Row("pubsub", -2, kCmdNoStorage, 0, 0, 0, nullptr, "A container for Pub/Sub commands",
          "2.8.0", "Depends on subcommand.", "@slow");
  ps.subcommands = {
      Row("pubsub|channels", -2, kIntro, 0, 0, 0, PubSubChannels, "List active channels", "2.8.0",
          "O(N) where N is the number of active channels, and assuming constant time pattern "
          "matching (relatively short channels and patterns)",
          "@pubsub @slow"),
      Row("pubsub|numsub", -2, kIntro, 0, 0, 0, PubSubNumSub,
          "Get the count of subscribers for channels", "2.8.0",
          "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
          "@pubsub @slow"),
      Row("pubsub|numpat", 2, kIntro, 0, 0, 0, PubSubNumPat,
          "Get the count of unique patterns pattern subscriptions", "2.8.0", "O(1)",
          "@pubsub @slow"),
      Row("pubsub|shardchannels", -2, kIntro, 0, 0, 0, PubSubShardChannels,
          "List active shard channels", "7.0.0",
          "O(N) where N is the number of active shard channels, and assuming constant time pattern "
          "matching (relatively short shard channels).",
          "@pubsub @slow"),
      Row("pubsub|shardnumsub", -2, kIntro, 0, 0, 0, PubSubShardNumSub,
          "Get the count of subscribers for shard channels", "7.0.0",
          "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
          "@pubsub @slow"),
      Row("pubsub|help", 2, kIntro, 0, 0, 0, PubSubHelp,
          "Show helpful text about the different subcommands", "6.2.0", "O(1)", "@slow"),
  };
  o.push_back(std::move(ps));
}

}  // namespace keel::server
