// Connection commands: PING ECHO QUIT HELLO AUTH SELECT CLIENT RESET.
#include <chrono>
#include <optional>

#include "server/commands/cmd_util.h"
#include "server/commands/command_table.h"
#include "server/net/connection.h"
#include "server/server.h"

namespace keel::server {
namespace {

constexpr std::string_view kWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";

void Ping(CommandContext& c) {
  if (c.argv.size() > 2) return c.ErrorText("ERR wrong number of arguments for 'ping' command");
  if (c.client.protocol == 2 && c.client.in_pubsub()) {
    // A subscribed RESP2 client gets PING's answer in the shape of a message.
    c.reply.Array(2);
    c.reply.Bulk("pong");
    c.reply.Bulk(c.argv.size() == 2 ? c.argv[1] : std::string_view());
    return;
  }
  if (c.argv.size() == 2) return c.reply.Bulk(c.argv[1]);
  c.reply.SimpleString("PONG");
}

void Echo(CommandContext& c) { c.reply.Bulk(c.argv[1]); }

void Quit(CommandContext& c) {
  c.reply.Ok();
  c.client.close_after_reply = true;
}

// Checks AUTH credentials; replies with the error itself and returns false on failure.
bool Authenticate(CommandContext& c, std::string_view user, std::string_view pass) {
  bool ok = user == "default" && (!c.server.requirepass_set() || c.server.CheckPassword(pass));
  if (!ok) {
    c.ErrorText(kWrongPass);
    return false;
  }
  c.client.authenticated = true;
  return true;
}

void Auth(CommandContext& c) {
  if (c.argv.size() > 3) return c.Error(Code::kSyntax);
  if (c.argv.size() == 2 && !c.server.requirepass_set()) {
    return c.ErrorText(
        "ERR AUTH <password> called without any password configured for the default user. Are "
        "you sure your configuration is correct?");
  }
  std::string_view user = c.argv.size() == 3 ? c.argv[1] : std::string_view("default");
  if (Authenticate(c, user, c.argv.back())) c.reply.Ok();
}

bool ValidClientName(std::string_view name) {
  for (char ch : name) {
    if (ch < '!' || ch > '~') return false;
  }
  return true;
}

void Hello(CommandContext& c) {
  int proto = c.client.protocol;
  size_t i = 1;
  if (c.argv.size() >= 2) {
    auto v = ToInt64(c.argv[1]);
    if (!v) return c.ErrorText("ERR Protocol version is not an integer or out of range");
    if (*v < 2 || *v > 3) return c.ErrorText("NOPROTO unsupported protocol version");
    proto = static_cast<int>(*v);
    i = 2;
  }
  std::string_view setname;
  bool has_setname = false;
  bool auth_given = false;
  std::string_view user, pass;
  for (; i < c.argv.size(); ++i) {
    bool more = i + 1 < c.argv.size();
    if (EqualsIgnoreCase(c.argv[i], "AUTH") && i + 2 < c.argv.size()) {
      auth_given = true;
      user = c.argv[i + 1];
      pass = c.argv[i + 2];
      i += 2;
    } else if (EqualsIgnoreCase(c.argv[i], "SETNAME") && more) {
      has_setname = true;
      setname = c.argv[++i];
    } else {
      return c.ErrorText("ERR Syntax error in HELLO option '" + std::string(c.argv[i]) + "'");
    }
  }
  if (auth_given) {
    if (!Authenticate(c, user, pass)) return;
  } else if (!c.client.authenticated && c.server.requirepass_set()) {
    return c.ErrorText(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
        "AUTH <user> <pass> option can be used to authenticate the client and select "
        "the RESP protocol version at the same time");
  }
  if (has_setname) {
    if (!ValidClientName(setname)) {
      return c.ErrorText("ERR Client names cannot contain spaces, newlines or special characters.");
    }
    std::lock_guard<std::mutex> l(c.client.mu);
    c.client.name = setname;
  }
  c.client.protocol = proto;
  c.reply.set_protocol(proto);
  c.reply.Map(7);
  c.reply.Bulk("server");
  c.reply.Bulk("redis");
  c.reply.Bulk("version");
  c.reply.Bulk(kRedisCompatVersion);
  c.reply.Bulk("proto");
  c.reply.Integer(proto);
  c.reply.Bulk("id");
  c.reply.Integer(static_cast<int64_t>(c.client.id));
  c.reply.Bulk("mode");
  c.reply.Bulk("standalone");
  c.reply.Bulk("role");
  c.reply.Bulk("master");
  c.reply.Bulk("modules");
  c.reply.Array(0);
}

void Select(CommandContext& c) {
  auto v = ToInt64(c.argv[1]);
  if (!v) return c.Error(Code::kNotInteger);
  if (*v < 0 || *v >= c.server.storage().databases()) return c.Error(Code::kInvalidDbIndex);
  if (c.server.cluster() != nullptr && *v != 0) {
    return c.ErrorText("ERR SELECT is not allowed in cluster mode");
  }
  c.client.db = static_cast<int>(*v);
  c.client.db_shared.store(c.client.db, std::memory_order_relaxed);
  c.reply.Ok();
}

void Reset(CommandContext& c) {
  // Leave MULTI, forget WATCHes and subscriptions, as a new connection would be.
  c.client.in_multi = false;
  c.client.multi_error = false;
  c.client.queued.clear();
  c.server.OnClientClosed(c.client, c.client.connection);  // also SyncShared()
  c.server.observer().monitors().Remove(c.client.id);      // leave MONITOR mode
  if (c.client.connection != nullptr) {
    c.client.connection->set_limit_class(Connection::LimitClass::kNormal);
  }
  c.client.db = 0;
  c.client.db_shared.store(0);
  c.client.protocol = 2;
  c.reply.set_protocol(2);
  {
    std::lock_guard<std::mutex> l(c.client.mu);
    c.client.name.clear();
  }
  c.client.authenticated = !c.server.requirepass_set();
  c.reply.SimpleString("RESET");
}

std::string ClientLine(Server& server, Client& cl) {
  uint64_t now = server.NowMs();
  const CommandSpec* last = cl.last_command.load(std::memory_order_relaxed);
  std::string name;
  {
    std::lock_guard<std::mutex> l(cl.mu);
    name = cl.name;
  }
  uint64_t qbuf = cl.query_buffer_bytes.load(std::memory_order_relaxed);
  uint64_t omem = cl.output_buffer_bytes.load(std::memory_order_relaxed);
  std::string out;
  out += "id=" + std::to_string(cl.id);
  out += " addr=" + cl.addr;
  out += " laddr=" + cl.laddr;
  out += " fd=" + std::to_string(cl.fd);
  out += " name=" + name;
  out += " age=" + std::to_string((now - cl.created_ms) / 1000);
  out +=
      " idle=" + std::to_string((now - cl.last_active_ms.load(std::memory_order_relaxed)) / 1000);
  int64_t multi = cl.multi_count.load(std::memory_order_relaxed);
  // Redis's flag letters, in its order: O monitor, P subscribed, x in MULTI, b blocked,
  // d a watched key changed.
  std::string flags;
  if (server.observer().monitors().Contains(cl.id)) flags += 'O';
  if (cl.in_pubsub_shared()) flags += 'P';
  if (multi >= 0) flags += 'x';
  if (cl.blocked.load(std::memory_order_relaxed)) flags += 'b';
  if (cl.watch_dirty->load(std::memory_order_relaxed)) flags += 'd';
  out += " flags=" + (flags.empty() ? std::string("N") : flags);
  out += " db=" + std::to_string(cl.db_shared.load(std::memory_order_relaxed));
  out += " sub=" + std::to_string(cl.sub_count.load(std::memory_order_relaxed));
  out += " psub=" + std::to_string(cl.psub_count.load(std::memory_order_relaxed));
  out += " ssub=" + std::to_string(cl.ssub_count.load(std::memory_order_relaxed));
  out += " multi=" + std::to_string(multi);
  out += " qbuf=" + std::to_string(qbuf);
  out += " qbuf-free=0 argv-mem=0 multi-mem=0 rbs=" + std::to_string(Connection::kReadChunk);
  out += " rbp=0 obl=0 oll=0 omem=" + std::to_string(omem);
  out += " tot-mem=" + std::to_string(qbuf + omem + Connection::kReadChunk);
  out += " events=r cmd=" + (last != nullptr ? std::string(last->name) : std::string("NULL"));
  out += " user=default redir=-1 resp=" + std::to_string(cl.protocol);
  return out;
}

void ClientId(CommandContext& c) { c.reply.Integer(static_cast<int64_t>(c.client.id)); }

void ClientSetName(CommandContext& c) {
  if (!ValidClientName(c.argv[2])) {
    return c.ErrorText("ERR Client names cannot contain spaces, newlines or special characters.");
  }
  std::lock_guard<std::mutex> l(c.client.mu);
  c.client.name = c.argv[2];
  c.reply.Ok();
}

void ClientGetName(CommandContext& c) {
  std::lock_guard<std::mutex> l(c.client.mu);
  if (c.client.name.empty()) return c.reply.NullBulk();
  c.reply.Bulk(c.client.name);
}

// Redis's client types (getClientTypeByName); Keel has no master or replica clients.
enum class ClientType { kNormal, kReplica, kMaster, kPubSub };

std::optional<ClientType> ParseClientType(std::string_view t) {
  if (EqualsIgnoreCase(t, "normal")) return ClientType::kNormal;
  if (EqualsIgnoreCase(t, "replica") || EqualsIgnoreCase(t, "slave")) return ClientType::kReplica;
  if (EqualsIgnoreCase(t, "master")) return ClientType::kMaster;
  if (EqualsIgnoreCase(t, "pubsub")) return ClientType::kPubSub;
  return std::nullopt;
}

// As Redis's getClientType: a subscribed client is a pubsub client, a MONITOR a normal one.
ClientType TypeOf(const Client& cl) {
  return cl.in_pubsub_shared() ? ClientType::kPubSub : ClientType::kNormal;
}

void ClientList(CommandContext& c) {
  std::vector<uint64_t> ids;
  std::optional<ClientType> type;
  for (size_t i = 2; i < c.argv.size(); ++i) {
    // As Redis 7.0: TYPE only as the sole filter (CLIENT LIST TYPE <type>).
    if (EqualsIgnoreCase(c.argv[i], "TYPE") && c.argv.size() == 4) {
      std::string_view t = c.argv[++i];
      type = ParseClientType(t);
      if (!type) return c.ErrorText("ERR Unknown client type '" + std::string(t) + "'");
    } else if (EqualsIgnoreCase(c.argv[i], "ID") && i + 1 < c.argv.size()) {
      for (++i; i < c.argv.size(); ++i) {
        // As Redis: any integer is accepted (one that is no client's id matches nothing).
        auto id = ToInt64(c.argv[i]);
        if (!id) return c.ErrorText("ERR Invalid client ID");
        ids.push_back(static_cast<uint64_t>(*id));
      }
    } else {
      return c.Error(Code::kSyntax);
    }
  }
  std::string text;
  for (auto& conn : c.server.Clients()) {
    Client& cl = conn->client();
    if (!ids.empty() && std::find(ids.begin(), ids.end(), cl.id) == ids.end()) continue;
    if (type && TypeOf(cl) != *type) continue;
    text += ClientLine(c.server, cl) + "\n";
  }
  c.reply.Verbatim(text);
}

void ClientInfo(CommandContext& c) { c.reply.Verbatim(ClientLine(c.server, c.client) + "\n"); }

void ClientKill(CommandContext& c) {
  // Old form: CLIENT KILL addr:port -> OK or error.
  if (c.argv.size() == 3) {
    for (auto& conn : c.server.Clients()) {
      if (conn->client().addr == c.argv[2]) {
        if (&conn->client() == &c.client) {
          c.client.close_after_reply = true;
        } else {
          conn->Kill();
        }
        return c.reply.Ok();
      }
    }
    return c.ErrorText("ERR No such client");
  }
  if (c.argv.size() % 2 != 0) return c.Error(Code::kSyntax);
  std::optional<uint64_t> id;
  std::optional<std::string_view> addr, laddr, user;
  bool skipme = true;
  std::optional<ClientType> type;
  for (size_t i = 2; i + 1 < c.argv.size(); i += 2) {
    std::string_view opt = c.argv[i], val = c.argv[i + 1];
    if (EqualsIgnoreCase(opt, "ID")) {
      auto v = ToInt64(val);
      if (!v || *v <= 0) return c.ErrorText("ERR client-id should be greater than 0");
      id = static_cast<uint64_t>(*v);
    } else if (EqualsIgnoreCase(opt, "ADDR")) {
      addr = val;
    } else if (EqualsIgnoreCase(opt, "LADDR")) {
      laddr = val;
    } else if (EqualsIgnoreCase(opt, "USER")) {
      if (val != "default") return c.ErrorText("ERR No such user '" + std::string(val) + "'");
      user = val;
    } else if (EqualsIgnoreCase(opt, "TYPE")) {
      type = ParseClientType(val);
      if (!type) return c.ErrorText("ERR Unknown client type '" + std::string(val) + "'");
    } else if (EqualsIgnoreCase(opt, "SKIPME")) {
      if (EqualsIgnoreCase(val, "yes")) {
        skipme = true;
      } else if (EqualsIgnoreCase(val, "no")) {
        skipme = false;
      } else {
        return c.Error(Code::kSyntax);
      }
    } else if (EqualsIgnoreCase(opt, "MAXAGE")) {
      if (!ToInt64(val)) return c.Error(Code::kNotInteger);
    } else {
      return c.Error(Code::kSyntax);
    }
  }
  int64_t killed = 0;
  for (auto& conn : c.server.Clients()) {
    Client& cl = conn->client();
    if (type && TypeOf(cl) != *type) continue;
    if (id && cl.id != *id) continue;
    if (addr && cl.addr != *addr) continue;
    if (laddr && cl.laddr != *laddr) continue;
    if (user && *user != "default") continue;
    if (&cl == &c.client) {
      if (skipme) continue;
      c.client.close_after_reply = true;
    } else {
      conn->Kill();
    }
    ++killed;
  }
  c.reply.Integer(killed);
}

void ClientSetInfo(CommandContext& c) {
  std::string_view attr = c.argv[2], value = c.argv[3];
  for (char ch : value) {
    if (ch < '!' || ch > '~') {
      return c.ErrorText("ERR " + ToUpper(attr) +
                         " cannot contain spaces, newlines or special characters.");
    }
  }
  std::lock_guard<std::mutex> l(c.client.mu);
  if (EqualsIgnoreCase(attr, "lib-name")) {
    c.client.lib_name = value;
  } else if (EqualsIgnoreCase(attr, "lib-ver")) {
    c.client.lib_ver = value;
  } else {
    return c.ErrorText("ERR Unrecognized option '" + std::string(attr) + "'");
  }
  c.reply.Ok();
}

void ClientUnblock(CommandContext& c) {
  auto id = ToInt64(c.argv[2]);
  if (!id) return c.Error(Code::kNotInteger);
  bool with_error = false;
  if (c.argv.size() == 4) {
    if (EqualsIgnoreCase(c.argv[3], "ERROR")) {
      with_error = true;
    } else if (!EqualsIgnoreCase(c.argv[3], "TIMEOUT")) {
      return c.ErrorText("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
    }
  }
  bool ok = *id > 0 && c.server.UnblockClient(static_cast<uint64_t>(*id), with_error);
  c.reply.Integer(ok ? 1 : 0);
}

void ClientHelp(CommandContext& c) {
  static const char* kLines[] = {
      "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GETNAME",
      "    Return the name of the current connection.",
      "ID",
      "    Return the ID of the current connection.",
      "INFO",
      "    Return information about the current client connection.",
      "KILL <ip:port>",
      "    Kill connection made from <ip:port>.",
      "KILL <option> <value> [<option> <value> [...]]",
      "    Kill connections. Options are: ID, ADDR, LADDR, USER, TYPE, SKIPME, MAXAGE.",
      "LIST [options ...]",
      "    Return information about client connections. Options: TYPE, ID.",
      "SETNAME <name>",
      "    Assign the name <name> to the current connection.",
      "UNBLOCK <clientid> [TIMEOUT|ERROR]",
      "    Unblock the specified blocked client.",
      "SETINFO <LIB-NAME|LIB-VER> <value>",
      "    Set client meta attribute.",
      "HELP",
      "    Prints this help.",
  };
  c.reply.Array(std::size(kLines));
  for (const char* l : kLines) c.reply.SimpleString(l);
}

constexpr uint32_t kConn = kCmdNoStorage | kCmdNoScript | kCmdLoading | kCmdStale;

}  // namespace

void RegisterConnectionCommands(std::vector<CommandSpec>* out) {
  out->push_back({.name = "ping",
                  .arity = -1,
                  .flags = kCmdNoStorage | kCmdFast | kCmdPubSubContext,
                  .handler = Ping,
                  .group = "connection",
                  .summary = "Ping the server",
                  .since = "1.0.0",
                  .complexity = "O(1)",
                  .acl = "@fast @connection"});
  out->push_back({.name = "echo",
                  .arity = 2,
                  .flags = kCmdNoStorage | kCmdLoading | kCmdStale | kCmdFast,
                  .handler = Echo,
                  .group = "connection",
                  .summary = "Echo the given string",
                  .since = "1.0.0",
                  .complexity = "O(1)",
                  .acl = "@fast @connection"});
  out->push_back(
      {.name = "quit",
       .arity = -1,
       .flags = kConn | kCmdNoAuth | kCmdFast | kCmdAllowBusy | kCmdPubSubContext | kCmdTxnControl,
       .handler = Quit,
       .group = "connection",
       .summary = "Close the connection",
       .since = "1.0.0",
       .complexity = "O(1)",
       .acl = "@fast @connection"});
  out->push_back({.name = "hello",
                  .arity = -1,
                  .flags = kConn | kCmdNoAuth | kCmdFast | kCmdAllowBusy,
                  .handler = Hello,
                  .group = "connection",
                  .summary = "Handshake with Redis",
                  .since = "6.0.0",
                  .complexity = "O(1)",
                  .acl = "@fast @connection"});
  out->push_back({.name = "auth",
                  .arity = -2,
                  .flags = kConn | kCmdNoAuth | kCmdFast | kCmdAllowBusy,
                  .handler = Auth,
                  .group = "connection",
                  .summary = "Authenticate to the server",
                  .since = "1.0.0",
                  .complexity = "O(N) where N is the number of passwords",
                  .acl = "@fast @connection"});
  out->push_back({.name = "select",
                  .arity = 2,
                  .flags = kCmdNoStorage | kCmdLoading | kCmdStale | kCmdFast,
                  .handler = Select,
                  .group = "connection",
                  .summary = "Change the selected database",
                  .since = "1.0.0",
                  .complexity = "O(1)",
                  .acl = "@fast @connection"});
  out->push_back(
      {.name = "reset",
       .arity = 1,
       .flags = kConn | kCmdNoAuth | kCmdFast | kCmdAllowBusy | kCmdPubSubContext | kCmdTxnControl,
       .handler = Reset,
       .group = "connection",
       .summary = "Reset the connection",
       .since = "6.2.0",
       .complexity = "O(1)",
       .acl = "@fast @connection"});
  constexpr uint32_t kSub = kConn | kCmdNoAuth;
  out->push_back(
      {.name = "client",
       .arity = -2,
       .flags = kCmdNoStorage,
       .group = "connection",
       .summary = "A container for client connection commands",
       .since = "2.4.0",
       .complexity = "Depends on subcommand.",
       .acl = "@slow",
       .subcommands = {
           {.name = "client|id",
            .arity = 2,
            .flags = kConn,
            .handler = ClientId,
            .group = "connection",
            .summary = "Returns the client ID for the current connection",
            .since = "5.0.0",
            .complexity = "O(1)",
            .acl = "@slow @connection"},
           {.name = "client|setname",
            .arity = 3,
            .flags = kConn,
            .handler = ClientSetName,
            .group = "connection",
            .summary = "Set the current connection name",
            .since = "2.6.9",
            .complexity = "O(1)",
            .acl = "@slow @connection"},
           {.name = "client|getname",
            .arity = 2,
            .flags = kConn,
            .handler = ClientGetName,
            .group = "connection",
            .summary = "Get the current connection name",
            .since = "2.6.9",
            .complexity = "O(1)",
            .acl = "@slow @connection"},
           {.name = "client|list",
            .arity = -2,
            .flags = kConn | kCmdAdmin,
            .handler = ClientList,
            .group = "connection",
            .summary = "Get the list of client connections",
            .since = "2.4.0",
            .complexity = "O(N) where N is the number of client connections",
            .acl = "@admin @slow @dangerous @connection"},
           {.name = "client|info",
            .arity = 2,
            .flags = kConn,
            .handler = ClientInfo,
            .group = "connection",
            .summary = "Returns information about the current client connection.",
            .since = "6.2.0",
            .complexity = "O(1)",
            .acl = "@slow @connection"},
           {.name = "client|kill",
            .arity = -3,
            .flags = kConn | kCmdAdmin,
            .handler = ClientKill,
            .group = "connection",
            .summary = "Kill the connection of a client",
            .since = "2.4.0",
            .complexity = "O(N) where N is the number of client connections",
            .acl = "@admin @slow @dangerous @connection"},
           {.name = "client|setinfo",
            .arity = 4,
            .flags = kConn,
            .handler = ClientSetInfo,
            .group = "connection",
            .summary = "Set client or connection specific info",
            .since = "7.2.0",
            .complexity = "O(1)",
            .acl = "@slow @connection"},
           {.name = "client|unblock",
            .arity = -3,
            .flags = kConn | kCmdAdmin,
            .handler = ClientUnblock,
            .group = "connection",
            .summary = "Unblock a client blocked in a blocking command from a different connection",
            .since = "5.0.0",
            .complexity = "O(log N) where N is the number of client connections",
            .acl = "@admin @slow @dangerous @connection"},
           {.name = "client|help",
            .arity = 2,
            .flags = kCmdNoStorage | kCmdLoading | kCmdStale,
            .handler = ClientHelp,
            .group = "connection",
            .summary = "Show helpful text about the different subcommands",
            .since = "5.0.0",
            .complexity = "O(1)",
            .acl = "@slow @connection"},
       }});
  (void)kSub;
}

}  // namespace keel::server
