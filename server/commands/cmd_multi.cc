// Transactions: MULTI EXEC DISCARD WATCH UNWATCH.
#include "server/commands/cmd_util.h"
#include "server/commands/command_table.h"
#include "server/server.h"

namespace keel::server {
namespace {

void Unwatch(Server& server, Client& client) {
  for (const auto& w : client.watched) server.watches().Unwatch(w.db, w.key, client.watch_dirty);
  client.watched.clear();
  client.watch_dirty->store(false);
}

void Multi(CommandContext& c) {
  if (c.client.in_multi) return c.ErrorText("ERR MULTI calls can not be nested");
  c.client.in_multi = true;
  c.client.multi_error = false;
  c.client.queued.clear();
  c.client.SyncShared();
  c.reply.Ok();
}

void Discard(CommandContext& c) {
  if (!c.client.in_multi) return c.ErrorText("ERR DISCARD without MULTI");
  c.client.in_multi = false;
  c.client.multi_error = false;
  c.client.queued.clear();
  c.client.SyncShared();
  Unwatch(c.server, c.client);
  c.reply.Ok();
}

void Exec(CommandContext& c) {
  if (c.client.exec_resume) return c.server.ExecTransaction(c.client, c.reply);  // goes on
  if (!c.client.in_multi) return c.ErrorText("ERR EXEC without MULTI");
  if (c.client.multi_error) {
    c.client.in_multi = false;
    c.client.multi_error = false;
    c.client.queued.clear();
    c.client.SyncShared();
    Unwatch(c.server, c.client);
    return c.ErrorText("EXECABORT Transaction discarded because of previous errors.");
  }
  c.server.ExecTransaction(c.client, c.reply);
}

void Watch(CommandContext& c) {
  if (c.client.in_multi) return c.ErrorText("ERR WATCH inside MULTI is not allowed");
  for (size_t i = 1; i < c.argv.size(); ++i) {
    std::string key(c.argv[i]);
    bool already = false;
    for (const auto& w : c.client.watched) already |= w.db == c.client.db && w.key == key;
    if (already) continue;
    // Register first, then read the expiry: a change after this point marks the flag.
    c.server.watches().Watch(c.client.db, key, c.client.watch_dirty);
    KeyRecord rec;
    Status st = c.txn->Load(key, &rec);
    if (!st.ok()) return c.Error(st);
    // A record that reads as missing but has an expiry is one that expired and waits for the
    // expiry machinery: deleting it will not be a change (as in Redis).
    if (!rec.exists && rec.meta.expire_at_ms != 0) {
      c.server.watches().MarkExpired(c.client.db, key, c.client.watch_dirty);
    }
    c.client.watched.push_back({c.client.db, key, rec.exists ? rec.meta.expire_at_ms : 0});
  }
  c.reply.Ok();
}

void UnwatchCmd(CommandContext& c) {
  Unwatch(c.server, c.client);
  c.reply.Ok();
}

constexpr uint32_t kTxn = kCmdNoScript | kCmdLoading | kCmdStale | kCmdFast | kCmdAllowBusy;

}  // namespace

void RegisterTransactionCommands(std::vector<CommandSpec>* out) {
  out->push_back({.name = "multi",
                  .arity = 1,
                  .flags = kTxn | kCmdNoStorage | kCmdTxnControl,
                  .handler = Multi,
                  .group = "transactions",
                  .summary = "Mark the start of a transaction block",
                  .since = "1.2.0",
                  .complexity = "O(1)",
                  .acl = "@fast @transaction"});
  out->push_back({.name = "exec",
                  .arity = 1,
                  .flags = kCmdNoScript | kCmdLoading | kCmdStale | kCmdSkipSlowlog |
                           kCmdNoStorage | kCmdTxnControl | kCmdCommitFirst,
                  .handler = Exec,
                  .group = "transactions",
                  .summary = "Execute all commands issued after MULTI",
                  .since = "1.2.0",
                  .complexity = "Depends on commands in the transaction",
                  .acl = "@slow @transaction"});
  out->push_back({.name = "discard",
                  .arity = 1,
                  .flags = kTxn | kCmdNoStorage | kCmdTxnControl,
                  .handler = Discard,
                  .group = "transactions",
                  .summary = "Discard all commands issued after MULTI",
                  .since = "2.0.0",
                  .complexity = "O(N), when N is the number of queued commands",
                  .acl = "@fast @transaction"});
  out->push_back({.name = "watch",
                  .arity = -2,
                  .flags = kTxn | kCmdTxnControl,
                  .first_key = 1,
                  .last_key = -1,
                  .step = 1,
                  .handler = Watch,
                  .group = "transactions",
                  .summary = "Watch the given keys to determine execution of the MULTI/EXEC block",
                  .since = "2.2.0",
                  .complexity = "O(1) for every key.",
                  .acl = "@fast @transaction"});
  out->push_back({.name = "unwatch",
                  .arity = 1,
                  .flags = kTxn | kCmdNoStorage,
                  .handler = UnwatchCmd,
                  .group = "transactions",
                  .summary = "Forget about all watched keys",
                  .since = "2.2.0",
                  .complexity = "O(1)",
                  .acl = "@fast @transaction"});
}

}  // namespace keel::server
