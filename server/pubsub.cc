#include "server/pubsub.h"

#include "datatypes/glob.h"
#include "server/net/connection.h"

namespace keel::server {
namespace {

void AppendBulk(std::string* out, std::string_view s) {
  *out += "$" + std::to_string(s.size()) + "\r\n";
  out->append(s);
  *out += "\r\n";
}

// The message as RESP2 (*n) and RESP3 (>n) pushes: kind, [pattern], channel, payload. The
// pattern is there whenever `pattern` is given, also when it is the empty pattern "".
std::shared_ptr<const Connection::Message> Encode(std::string_view kind,
                                                  const std::string_view* pattern,
                                                  std::string_view channel,
                                                  std::string_view payload) {
  std::string body;
  AppendBulk(&body, kind);
  if (pattern != nullptr) AppendBulk(&body, *pattern);
  AppendBulk(&body, channel);
  AppendBulk(&body, payload);
  std::string count = std::to_string(pattern == nullptr ? 3 : 4) + "\r\n";
  auto m = std::make_shared<Connection::Message>();
  m->resp2 = "*" + count + body;
  m->resp3 = ">" + count + body;
  return m;
}

}  // namespace

bool PubSub::Add(Kind kind, std::string_view name, const std::shared_ptr<Connection>& conn) {
  std::lock_guard<std::mutex> l(mu_);
  auto& subs = table(kind)[std::string(name)];
  for (const auto& s : subs) {
    if (s.id == conn.get()) return false;
  }
  subs.push_back(Subscriber{conn, conn.get()});
  total_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool PubSub::Remove(Kind kind, std::string_view name, const Connection* conn) {
  std::lock_guard<std::mutex> l(mu_);
  auto& t = table(kind);
  auto it = t.find(name);
  if (it == t.end()) return false;
  auto& subs = it->second;
  for (auto s = subs.begin(); s != subs.end(); ++s) {
    if (s->id != conn) continue;
    subs.erase(s);
    if (subs.empty()) t.erase(it);
    total_.fetch_sub(1, std::memory_order_relaxed);
    return true;
  }
  return false;
}

int64_t PubSub::Publish(std::string_view channel, std::string_view message) {
  std::vector<std::pair<std::shared_ptr<Connection>, std::shared_ptr<const Connection::Message>>>
      out;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto& channels = table(Kind::kChannel);
    auto it = channels.find(channel);
    if (it != channels.end()) {
      auto msg = Encode("message", nullptr, channel, message);
      for (const auto& s : it->second) {
        if (auto c = s.conn.lock()) out.emplace_back(std::move(c), msg);
      }
    }
    for (const auto& [pattern, subs] : table(Kind::kPattern)) {
      if (!GlobMatch(pattern, channel)) continue;
      std::string_view pat(pattern);
      auto msg = Encode("pmessage", &pat, channel, message);
      for (const auto& s : subs) {
        if (auto c = s.conn.lock()) out.emplace_back(std::move(c), msg);
      }
    }
  }
  for (auto& [conn, msg] : out) conn->Deliver(std::move(msg));
  return static_cast<int64_t>(out.size());
}

int64_t PubSub::SPublish(std::string_view channel, std::string_view message) {
  std::vector<std::shared_ptr<Connection>> out;
  std::shared_ptr<const Connection::Message> msg;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto& shards = table(Kind::kShard);
    auto it = shards.find(channel);
    if (it == shards.end()) return 0;
    msg = Encode("smessage", nullptr, channel, message);
    for (const auto& s : it->second) {
      if (auto c = s.conn.lock()) out.push_back(std::move(c));
    }
  }
  for (auto& conn : out) conn->Deliver(msg);
  return static_cast<int64_t>(out.size());
}

std::vector<std::string> PubSub::Channels(Kind kind, std::string_view pattern) {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::string> out;
  for (const auto& [name, subs] : table(kind)) {
    if (pattern.empty() || GlobMatch(pattern, name)) out.push_back(name);
  }
  return out;
}

int64_t PubSub::NumSubscribers(Kind kind, std::string_view channel) {
  std::lock_guard<std::mutex> l(mu_);
  auto& t = table(kind);
  auto it = t.find(channel);
  return it == t.end() ? 0 : static_cast<int64_t>(it->second.size());
}

int64_t PubSub::NumPatterns() {
  std::lock_guard<std::mutex> l(mu_);
  return static_cast<int64_t>(table(Kind::kPattern).size());
}

}  // namespace keel::server
