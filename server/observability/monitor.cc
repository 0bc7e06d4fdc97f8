#include "server/observability/monitor.h"

#include <chrono>
#include <cstdio>

#include "server/net/client.h"
#include "server/net/connection.h"

namespace keel::server {

bool MonitorFeed::Add(uint64_t client_id, const std::shared_ptr<Connection>& conn) {
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [id, weak] : monitors_) {
    if (id == client_id) return false;
  }
  monitors_.emplace_back(client_id, conn);
  count_.store(monitors_.size(), std::memory_order_relaxed);
  return true;
}

bool MonitorFeed::Remove(uint64_t client_id) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto it = monitors_.begin(); it != monitors_.end(); ++it) {
    if (it->first == client_id) {
      monitors_.erase(it);
      count_.store(monitors_.size(), std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}

bool MonitorFeed::Contains(uint64_t client_id) const {
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [id, weak] : monitors_) {
    if (id == client_id) return !weak.expired();
  }
  return false;
}

size_t MonitorFeed::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return monitors_.size();
}

void MonitorFeed::AppendRepr(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\\':
      case '"':
        out->push_back('\\');
        out->push_back(ch);
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\a':
        out->append("\\a");
        break;
      case '\b':
        out->append("\\b");
        break;
      default:
        if (c >= 0x20 && c <= 0x7e) {
          out->push_back(ch);
        } else {
          char buf[5];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out->append(buf);
        }
    }
  }
  out->push_back('"');
}

std::string MonitorFeed::FormatLine(int64_t unix_usec, int db, std::string_view addr,
                                    std::span<const std::string_view> argv,
                                    std::span<const uint8_t> redacted) {
  std::string line;
  line.reserve(64 + addr.size() + argv.size() * 16);
  char head[48];
  std::snprintf(head, sizeof(head), "+%lld.%06lld [%d ",
                static_cast<long long>(unix_usec / 1000000),
                static_cast<long long>(unix_usec % 1000000), db);
  line.append(head);
  line.append(addr);
  line.push_back(']');
  for (size_t i = 0; i < argv.size(); ++i) {
    line.push_back(' ');
    if (i < redacted.size() && redacted[i]) {
      line.append("\"(redacted)\"");
    } else {
      AppendRepr(&line, argv[i]);
    }
  }
  line.append("\r\n");
  return line;
}

void MonitorFeed::Feed(const Client& client, std::span<const std::string_view> argv,
                       std::span<const uint8_t> redacted) {
  std::vector<std::shared_ptr<Connection>> targets;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = monitors_.begin(); it != monitors_.end();) {
      if (auto conn = it->second.lock()) {
        targets.push_back(std::move(conn));
        ++it;
      } else {
        it = monitors_.erase(it);
      }
    }
    count_.store(monitors_.size(), std::memory_order_relaxed);
  }
  if (targets.empty()) return;
  auto usec = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  std::string line = FormatLine(usec, client.db, client.addr, argv, redacted);
  auto message = std::make_shared<const Connection::Message>(Connection::Message{line, line});
  for (auto& conn : targets) conn->Deliver(message);
}

}  // namespace keel::server
