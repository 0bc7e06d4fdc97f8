// CommandTable: every command Keel serves, one CommandSpec row each, built once at start-up.
//
// Families register their rows from server/commands/cmd_*.cc. Immutable after construction except
// the per-command statistics, which are atomics. Thread-safe for lookups.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/commands/command.h"

namespace keel::server {

// Builds the CommandSpec rows of one command group (the "group" of COMMAND DOCS): a family in
// server/commands/cmd_*.cc binds its group once, e.g. `const CommandRows Row("hash");`, and each
// call fills the fields every row has. Rows that need more (subcommands, extra locks) set those
// fields on the returned spec.
class CommandRows {
 public:
  explicit constexpr CommandRows(std::string_view group) : group_(group) {}

  CommandSpec operator()(std::string_view name, int arity, uint32_t flags, int first_key,
                         int last_key, int step, CommandHandler handler, std::string_view summary,
                         std::string_view since, std::string_view complexity, std::string_view acl,
                         KeysFn keys = nullptr) const;

 private:
  std::string_view group_;
};

// Each family appends its rows.
void RegisterConnectionCommands(std::vector<CommandSpec>* out);
void RegisterServerCommands(std::vector<CommandSpec>* out);
void RegisterStringCommands(std::vector<CommandSpec>* out);
void RegisterKeyCommands(std::vector<CommandSpec>* out);
void RegisterHashCommands(std::vector<CommandSpec>* out);         // server/commands/cmd_hash.cc
void RegisterSetCommands(std::vector<CommandSpec>* out);          // server/commands/cmd_set.cc
void RegisterZSetCommands(std::vector<CommandSpec>* out);         // server/commands/cmd_zset.cc
void RegisterListCommands(std::vector<CommandSpec>* out);         // server/commands/cmd_list.cc
void RegisterStreamCommands(std::vector<CommandSpec>* out);       // server/commands/cmd_stream.cc
void RegisterPubSubCommands(std::vector<CommandSpec>* out);       // server/commands/cmd_pubsub.cc
void RegisterTransactionCommands(std::vector<CommandSpec>* out);  // server/commands/cmd_multi.cc
void RegisterClusterCommands(std::vector<CommandSpec>* out);      // server/commands/cmd_cluster.cc
void RegisterIntrospectionCommands(
    std::vector<CommandSpec>* out);  // server/commands/cmd_introspection.cc

class CommandTable {
 public:
  CommandTable();

  // Case-insensitive lookup of a top-level command.
  const CommandSpec* Find(std::string_view name) const;
  // Case-insensitive lookup of `parent`'s subcommand.
  static const CommandSpec* FindSub(const CommandSpec& parent, std::string_view sub);

  const std::vector<CommandSpec>& commands() const { return commands_; }
  CommandStats& stats(const CommandSpec& spec) const { return stats_[spec.id]; }
  // Every spec including subcommands, in id order (INFO commandstats).
  const std::vector<const CommandSpec*>& all() const { return all_; }

 private:
  std::vector<CommandSpec> commands_;
  std::unordered_map<std::string, const CommandSpec*> by_name_;
  std::vector<const CommandSpec*> all_;
  std::unique_ptr<CommandStats[]> stats_;
};

}  // namespace keel::server
