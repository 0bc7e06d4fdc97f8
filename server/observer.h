// CommandObserver: what the dispatcher tells the observability layer about every command
// (metrics, latency histograms, SLOWLOG, LATENCY, MONITOR). Implemented in server/observer.cc.
//
// Called on the io thread that ran the command, after it ran; must be cheap (per-thread or
// atomic counters, no locks on the common path). Owned by the Server; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace keel::server {

class Server;
struct Client;
struct CommandSpec;

class CommandObserver {
 public:
  explicit CommandObserver(Server& server) : server_(server) {}
  // `spec` is null for an unknown command. `usec` is the command's own run time.
  void OnCommand(const CommandSpec* spec, const Client& client,
                 std::span<const std::string_view> argv, uint64_t usec, bool failed,
                 bool rejected);

 private:
  Server& server_;
};

}  // namespace keel::server
