#include "server/commands/command_table.h"

#include <algorithm>

#include "server/commands/errors.h"
#include "server/exec_batch.h"
#include "server/server.h"

namespace keel::server {

std::vector<std::string_view> FlagNames(uint32_t flags) {
  static const std::pair<uint32_t, std::string_view> kNames[] = {
      {kCmdWrite, "write"},
      {kCmdReadOnly, "readonly"},
      {kCmdDenyOom, "denyoom"},
      {kCmdAdmin, "admin"},
      {kCmdPubSub, "pubsub"},
      {kCmdNoScript, "noscript"},
      {kCmdBlocking, "blocking"},
      {kCmdLoading, "loading"},
      {kCmdStale, "stale"},
      {kCmdSkipMonitor, "skip_monitor"},
      {kCmdSkipSlowlog, "skip_slowlog"},
      {kCmdFast, "fast"},
      {kCmdNoAuth, "no_auth"},
      {kCmdMayReplicate, "may_replicate"},
      {kCmdNoMulti, "no_multi"},
      {kCmdAllowBusy, "allow_busy"},
  };
  std::vector<std::string_view> out;
  for (const auto& [bit, name] : kNames) {
    if (flags & bit) out.push_back(name);
  }
  return out;
}

std::vector<size_t> KeyPositions(const CommandSpec& spec, std::span<const std::string_view> argv) {
  if (spec.keys != nullptr) return spec.keys(argv);
  std::vector<size_t> out;
  if (spec.first_key <= 0) return out;
  int argc = static_cast<int>(argv.size());
  int last = spec.last_key >= 0 ? spec.last_key : argc + spec.last_key;
  int step = spec.step > 0 ? spec.step : 1;
  for (int i = spec.first_key; i <= last && i < argc; i += step)
    out.push_back(static_cast<size_t>(i));
  return out;
}

CommandSpec CommandRows::operator()(std::string_view name, int arity, uint32_t flags, int first_key,
                                    int last_key, int step, CommandHandler handler,
                                    std::string_view summary, std::string_view since,
                                    std::string_view complexity, std::string_view acl,
                                    KeysFn keys) const {
  CommandSpec s;
  s.name = name;
  s.arity = arity;
  s.flags = flags;
  s.first_key = first_key;
  s.last_key = last_key;
  s.step = step;
  s.handler = handler;
  s.group = group_;
  s.summary = summary;
  s.since = since;
  s.complexity = complexity;
  s.acl = acl;
  s.keys = keys;
  return s;
}

Storage& CommandContext::storage() { return server.storage(); }

void CommandContext::Error(const Status& status) {
  failed = true;
  std::string text = server::ErrorText(status, spec.name);
  reply.Error(text);
  server.observer().OnErrorReply(text);
}

void CommandContext::ErrorText(std::string_view text) {
  failed = true;
  reply.Error(text);
  server.observer().OnErrorReply(text);
}

void CommandContext::KeyModified(std::string_view key, int db) {
  client.batch->events().modified.emplace_back(db < 0 ? client.db : db, std::string(key));
}

void CommandContext::Notify(char type, std::string_view event, std::string_view key, int db) {
  size_t offset = client.batch->output_pos();
  if (events_after_reply) {
    offset = KeyEvent::kAfterReply;
    had_events_after_reply = true;
  }
  client.batch->events().notifications.push_back(
      KeyEvent{type, std::string(event), db < 0 ? client.db : db, std::string(key), offset});
}

void CommandContext::Block(BlockRequest request) {
  blocked = true;
  server.ParkBlocked(*this, std::move(request));
}

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

CommandTable::CommandTable() {
  RegisterConnectionCommands(&commands_);
  RegisterServerCommands(&commands_);
  RegisterStringCommands(&commands_);
  RegisterKeyCommands(&commands_);
  RegisterHashCommands(&commands_);
  RegisterSetCommands(&commands_);
  RegisterZSetCommands(&commands_);
  RegisterListCommands(&commands_);
  RegisterStreamCommands(&commands_);
  RegisterPubSubCommands(&commands_);
  RegisterTransactionCommands(&commands_);
  RegisterIntrospectionCommands(&commands_);
  RegisterClusterCommands(&commands_);
  std::sort(commands_.begin(), commands_.end(),
            [](const CommandSpec& a, const CommandSpec& b) { return a.name < b.name; });
  size_t id = 0;
  for (auto& c : commands_) {
    c.id = id++;
    all_.push_back(&c);
    for (auto& sub : c.subcommands) {
      sub.id = id++;
      all_.push_back(&sub);
    }
  }
  stats_ = std::make_unique<CommandStats[]>(id);
  for (const auto& c : commands_) by_name_[std::string(c.name)] = &c;
}

const CommandSpec* CommandTable::Find(std::string_view name) const {
  char buf[64];
  if (name.size() >= sizeof(buf)) return nullptr;
  for (size_t i = 0; i < name.size(); ++i) {
    buf[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
  }
  auto it = by_name_.find(std::string(buf, name.size()));
  return it == by_name_.end() ? nullptr : it->second;
}

const CommandSpec* CommandTable::FindSub(const CommandSpec& parent, std::string_view sub) {
  std::string full = std::string(parent.name) + "|" + Lower(sub);
  for (const auto& s : parent.subcommands) {
    if (s.name == full) return &s;
  }
  return nullptr;
}

}  // namespace keel::server
