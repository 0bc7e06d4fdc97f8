// MonitorFeed: the registry of MONITOR clients and the formatting of the lines they receive.
//
// Every command that ran (not those refused before running, not admin or skip-monitor
// commands, not a blocked command's retries) is sent to every monitor as Redis formats it:
//   +1339518083.107412 [0 127.0.0.1:60866] "keys" "*"
// (Unix time with microseconds, the client's db after the command, its address, then each
// argument quoted and escaped like Redis's sdscatrepr; passwords shown as "(redacted)").
// Lines are delivered with Connection::Deliver, so a monitor that cannot keep up is subject
// to client-output-buffer-limit (Redis counts monitors in the "normal" class).
//
// Owned by the CommandObserver. Thread-safe: active() is one relaxed atomic load, so the
// dispatcher pays nothing while nobody monitors; the registry has its own mutex and entries
// are weak, so a monitor that disconnects is dropped at the next feed.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel::server {

class Connection;
struct Client;

class MonitorFeed {
 public:
  // MONITOR: false if the client already monitors.
  bool Add(uint64_t client_id, const std::shared_ptr<Connection>& conn);
  // RESET (or disconnect): false if the client was not monitoring.
  bool Remove(uint64_t client_id);
  bool Contains(uint64_t client_id) const;
  size_t size() const;
  bool active() const { return count_.load(std::memory_order_relaxed) > 0; }

  // Sends `argv` (as run by `client`, `redacted[i]` hiding argument i) to every monitor.
  void Feed(const Client& client, std::span<const std::string_view> argv,
            std::span<const uint8_t> redacted);

  // The line for one command, with its "+" and CRLF (exposed for tests).
  static std::string FormatLine(int64_t unix_usec, int db, std::string_view addr,
                                std::span<const std::string_view> argv,
                                std::span<const uint8_t> redacted);
  // Redis's sdscatrepr: "..." with \\ \" \n \r \t \a \b and \xNN for other unprintables.
  static void AppendRepr(std::string* out, std::string_view s);

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<uint64_t, std::weak_ptr<Connection>>> monitors_;
  std::atomic<size_t> count_{0};
};

}  // namespace keel::server
