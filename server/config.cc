#include "server/config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "datatypes/glob.h"
#include "datatypes/number.h"
#include "server/notify.h"
#include "server/observability/observer.h"

namespace keel::server {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status Invalid(std::string text) { return Status(Code::kInvalidArgument, std::move(text)); }

}  // namespace

std::optional<int64_t> ParseMemory(std::string_view text) {
  std::string t = Lower(text);
  int64_t mul = 1;
  auto strip = [&](std::string_view suffix, int64_t m) {
    if (t.size() > suffix.size() && t.ends_with(suffix)) {
      t.resize(t.size() - suffix.size());
      mul = m;
      return true;
    }
    return false;
  };
  strip("kb", 1024) || strip("mb", 1024LL * 1024) || strip("gb", 1024LL * 1024 * 1024) ||
      strip("k", 1000) || strip("m", 1000LL * 1000) || strip("g", 1000LL * 1000 * 1000) ||
      strip("b", 1);
  int64_t v;
  if (!ParseInt64(t, &v) || v < 0) return std::nullopt;
  if (v > INT64_MAX / mul) return std::nullopt;
  return v * mul;
}

std::optional<std::vector<std::pair<int, OutputLimit>>> ParseOutputBufferLimits(
    std::string_view text) {
  auto args = SplitConfigLine(text);
  if (!args || args->empty() || args->size() % 4 != 0) return std::nullopt;
  std::vector<std::pair<int, OutputLimit>> out;
  for (size_t i = 0; i < args->size(); i += 4) {
    std::string cls = Lower((*args)[i]);
    int idx = cls == "normal"                        ? 0
              : (cls == "slave" || cls == "replica") ? 1
              : cls == "pubsub"                      ? 2
                                                     : -1;
    auto hard = ParseMemory((*args)[i + 1]);
    auto soft = ParseMemory((*args)[i + 2]);
    auto secs = ParseMemory((*args)[i + 3]);
    if (idx < 0 || !hard || !soft || !secs) return std::nullopt;
    out.emplace_back(idx, OutputLimit{static_cast<uint64_t>(*hard), static_cast<uint64_t>(*soft),
                                      static_cast<uint64_t>(*secs)});
  }
  return out;
}

std::optional<std::vector<std::string>> SplitConfigLine(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  while (true) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i >= line.size()) return out;
    std::string cur;
    bool in_dq = false, in_sq = false, done = false;
    while (!done) {
      if (in_dq) {
        if (i >= line.size()) return std::nullopt;
        if (line[i] == '\\' && i + 3 < line.size() && line[i + 1] == 'x' && hex(line[i + 2]) >= 0 &&
            hex(line[i + 3]) >= 0) {
          cur.push_back(static_cast<char>(hex(line[i + 2]) * 16 + hex(line[i + 3])));
          i += 3;
        } else if (line[i] == '\\' && i + 1 < line.size()) {
          ++i;
          char c = line[i];
          cur.push_back(c == 'n'   ? '\n'
                        : c == 'r' ? '\r'
                        : c == 't' ? '\t'
                        : c == 'b' ? '\b'
                        : c == 'a' ? '\a'
                                   : c);
        } else if (line[i] == '"') {
          if (i + 1 < line.size() && !std::isspace(static_cast<unsigned char>(line[i + 1]))) {
            return std::nullopt;
          }
          done = true;
        } else {
          cur.push_back(line[i]);
        }
      } else if (in_sq) {
        if (i >= line.size()) return std::nullopt;
        if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '\'') {
          ++i;
          cur.push_back('\'');
        } else if (line[i] == '\'') {
          if (i + 1 < line.size() && !std::isspace(static_cast<unsigned char>(line[i + 1]))) {
            return std::nullopt;
          }
          done = true;
        } else {
          cur.push_back(line[i]);
        }
      } else {
        if (i >= line.size() || std::isspace(static_cast<unsigned char>(line[i]))) {
          done = true;
          break;
        }
        if (line[i] == '"') {
          in_dq = true;
        } else if (line[i] == '\'') {
          in_sq = true;
        } else {
          cur.push_back(line[i]);
        }
      }
      if (i < line.size()) ++i;
    }
    out.push_back(std::move(cur));
  }
}

Config::Config() {
  const int64_t kMb = 1024 * 1024;
  specs_ = {
      {"bind", OptionType::kString, "127.0.0.1", false,
       "Addresses to listen on, space separated (default 127.0.0.1 only)."},
      {"port", OptionType::kInt, "6379", false, "TCP port for clients.", 0, 65535},
      {"dir", OptionType::kString, "./data", false, "Directory of the RocksDB data."},
      {"cluster-enabled", OptionType::kBool, "no", false,
       "Run as a member of a Paxos replica group (Redis Cluster protocol for clients)."},
      {"cluster-port", OptionType::kInt, "0", false,
       "Cluster bus port (0 = the client port + 10000).", 0, 65535},
      {"cluster-node-timeout", OptionType::kInt, "300", false,
       "Milliseconds without a leader before a replica starts an election.", 20, 600000},
      {"cluster-log-compact-bytes", OptionType::kMemory, "64mb", false,
       "Compact the replicated log once its entries exceed this size (0 = never); replicas "
       "that need compacted entries get a snapshot.",
       0},
      {"cluster-announce-ip", OptionType::kString, "", false,
       "Address announced to clients and peers (empty = the first bind address)."},
      {"requirepass", OptionType::kString, "", true,
       "Password clients must AUTH with (empty = no password)."},
      {"appendfsync",
       OptionType::kEnum,
       "everysec",
       true,
       "WAL fsync policy: always (fsync before each reply), everysec (acknowledged writes "
       "survive a server crash; an OS crash may lose ~1s), no (leave it to the OS).",
       0,
       0,
       {"always", "everysec", "no"}},
      {"appendonly", OptionType::kBool, "yes", false,
       "Always yes: every write is logged in RocksDB's WAL before it is acknowledged."},
      {"save", OptionType::kString, "", true,
       "Accepted for compatibility; Keel keeps no RDB snapshots (data lives in RocksDB)."},
      {"databases", OptionType::kInt, "16", false, "Number of databases (SELECT 0..N-1).", 1, 256},
      {"maxclients", OptionType::kInt, "10000", true, "Maximum simultaneous clients.", 1, 1000000},
      {"loglevel",
       OptionType::kEnum,
       "notice",
       true,
       "Log verbosity.",
       0,
       0,
       {"debug", "verbose", "notice", "warning"}},
      {"logfile", OptionType::kString, "", false, "Log file (empty = standard output)."},
      {"pidfile", OptionType::kString, "", false, "Write the process id to this file."},
      {"daemonize", OptionType::kBool, "no", false, "Run in the background."},
      {"proto-max-bulk-len", OptionType::kMemory, "512mb", true,
       "Largest bulk string a client may send (and largest string value).", 1 * kMb},
      {"client-query-buffer-limit", OptionType::kMemory, "1gb", true,
       "Largest unprocessed input a client may accumulate.", 1 * kMb},
      {"client-output-buffer-limit",
       OptionType::kString,
       "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
       true,
       "Per client class (normal, replica, pubsub): <hard> <soft> <soft-seconds>; a client past "
       "the hard limit, or past the soft one for that long, is disconnected.",
       0,
       INT64_MAX,
       {},
       [](std::string_view v) -> std::string {
         return ParseOutputBufferLimits(v)
                    ? ""
                    : "Wrong number of arguments in buffer limit configuration.";
       }},
      {"notify-keyspace-events",
       OptionType::kString,
       "",
       true,
       "Keyspace notification classes, as Redis: K E g $ l s h z x e t m d n A.",
       0,
       INT64_MAX,
       {},
       [](std::string_view v) -> std::string {
         return ParseNotifyFlags(v) ? "" : "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
       },
       [](std::string_view v) -> std::string {
         return NotifyFlagsToString(ParseNotifyFlags(v).value_or(0));
       }},
      {"io-threads", OptionType::kInt, "0", false,
       "I/O threads serving clients (0 = one per core).", 0, 128},
      {"tcp-keepalive", OptionType::kInt, "300", true, "TCP keepalive interval, seconds (0 = off).",
       0, INT32_MAX},
      {"tcp-backlog", OptionType::kInt, "511", false, "Listen backlog.", 1, 65535},
      {"rocksdb-block-cache-size", OptionType::kMemory, "256mb", false,
       "RocksDB block cache size."},
      {"rocksdb-write-buffer-size", OptionType::kMemory, "64mb", false,
       "RocksDB memtable size per column family.", 1 * kMb},
      // Observability (server/observability/observer.h, server/observability/metrics.h).
      {"metrics-port", OptionType::kInt, "9121", false,
       "Port of the Prometheus /metrics endpoint, served on the `bind` addresses (0 = off).", 0,
       65535},
      {"slowlog-log-slower-than", OptionType::kInt, "10000", true,
       "Log commands running at least this many microseconds in the SLOWLOG (-1 = never, "
       "0 = every command).",
       -1},
      {"slowlog-max-len", OptionType::kInt, "128", true, "Entries the SLOWLOG keeps.", 0},
      {"latency-monitor-threshold", OptionType::kInt, "0", true,
       "Record LATENCY events of at least this many milliseconds (0 = off).", 0},
      {"latency-tracking", OptionType::kBool, "yes", true,
       "Per-command latency histograms (INFO latencystats, LATENCY HISTOGRAM, "
       "keel_command_duration_seconds)."},
      {"latency-tracking-info-percentiles",
       OptionType::kString,
       "50 99 99.9",
       true,
       "Percentiles INFO latencystats reports.",
       0,
       INT64_MAX,
       {},
       CheckPercentiles,
       [](std::string_view v) -> std::string {
         std::string out;
         for (double p : ParsePercentiles(v).value_or(std::vector<double>{})) {
           if (!out.empty()) out += " ";
           out += ShortDouble(p);
         }
         return out;
       }},
      {"enable-debug-command",
       OptionType::kEnum,
       "no",
       false,
       "Allow the DEBUG command: no, yes, or local (from loopback connections only).",
       0,
       0,
       {"no", "yes", "local"}},
      {"log-format",
       OptionType::kEnum,
       "redis",
       true,
       "Log line format: redis (redis-server's) or json (one object per line).",
       0,
       0,
       {"redis", "json"}},
  };
  for (const auto& s : specs_) {
    std::string normalized;
    (void)Validate(s, s.default_value, &normalized);
    values_[s.name] = normalized;
  }
}

const OptionSpec* Config::Find(std::string_view name) const {
  std::string lower = Lower(name);
  for (const auto& s : specs_) {
    if (s.name == lower) return &s;
  }
  return nullptr;
}

Status Config::Validate(const OptionSpec& spec, std::string_view value,
                        std::string* normalized) const {
  switch (spec.type) {
    case OptionType::kString:
      if (spec.check != nullptr) {
        std::string error = spec.check(value);
        if (!error.empty()) return Invalid(error);
      }
      *normalized = spec.normalize != nullptr ? spec.normalize(value) : std::string(value);
      return Status::Ok();
    case OptionType::kBool: {
      std::string v = Lower(value);
      if (v != "yes" && v != "no") return Invalid("argument must be 'yes' or 'no'");
      *normalized = v;
      return Status::Ok();
    }
    case OptionType::kEnum: {
      std::string v = Lower(value);
      if (std::find(spec.choices.begin(), spec.choices.end(), v) == spec.choices.end()) {
        std::string list;
        for (const auto& c : spec.choices) list += (list.empty() ? "" : ", ") + c;
        return Invalid("argument(s) must be one of the following: " + list);
      }
      *normalized = v;
      return Status::Ok();
    }
    case OptionType::kInt: {
      int64_t v;
      if (!ParseInt64(value, &v)) return Invalid("argument couldn't be parsed into an integer");
      if (v < spec.min || v > spec.max) {
        return Invalid("argument must be between " + std::to_string(spec.min) + " and " +
                       std::to_string(spec.max) + " inclusive");
      }
      *normalized = std::to_string(v);
      return Status::Ok();
    }
    case OptionType::kMemory: {
      auto v = ParseMemory(value);
      if (!v) return Invalid("argument must be a memory value");
      if (*v < spec.min || *v > spec.max) {
        return Invalid("argument must be between " + std::to_string(spec.min) + " and " +
                       std::to_string(spec.max) + " inclusive");
      }
      *normalized = std::to_string(*v);
      return Status::Ok();
    }
  }
  return Status::Ok();
}

Status Config::Set(const std::vector<std::pair<std::string, std::string>>& pairs, bool startup) {
  std::vector<std::pair<const OptionSpec*, std::string>> staged;
  for (const auto& [name, value] : pairs) {
    const OptionSpec* spec = Find(name);
    if (spec == nullptr) {
      return Invalid("Unknown option or number of arguments for CONFIG SET - '" + name + "'");
    }
    for (const auto& [s, v] : staged) {
      if (s == spec) {
        return Invalid("CONFIG SET failed (possibly related to argument '" + name +
                       "') - duplicate parameter");
      }
    }
    if (!startup && !spec->runtime_mutable) {
      return Invalid("CONFIG SET failed (possibly related to argument '" + name +
                     "') - can't set immutable config");
    }
    std::string normalized;
    Status st = Validate(*spec, value, &normalized);
    if (!st.ok()) {
      return Invalid("CONFIG SET failed (possibly related to argument '" + name + "') - " +
                     st.detail());
    }
    staged.emplace_back(spec, std::move(normalized));
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [spec, value] : staged) values_[spec->name] = value;
  }
  // The hook runs without the lock: it may read the configuration (Server::ApplyConfig does),
  // which would otherwise deadlock on mu_.
  if (!startup && hook_) {
    for (auto& [spec, value] : staged) hook_(spec->name, value);
  }
  return Status::Ok();
}

std::vector<std::pair<std::string, std::string>> Config::Get(
    std::span<const std::string_view> patterns) {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& s : specs_) {
    for (std::string_view p : patterns) {
      if (GlobMatch(p, s.name, /*nocase=*/true)) {
        out.emplace_back(s.name, values_[s.name]);
        break;
      }
    }
  }
  return out;
}

std::string Config::GetString(std::string_view name) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = values_.find(name);
  return it == values_.end() ? std::string() : it->second;
}

int64_t Config::GetInt(std::string_view name) const {
  std::string v = GetString(name);
  if (v == "yes") return 1;
  if (v == "no") return 0;
  int64_t out = 0;
  (void)ParseInt64(v, &out);
  return out;
}

Status Config::LoadText(std::string_view text, const std::string& origin) {
  std::istringstream in{std::string(text)};
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    auto fail = [&](const std::string& why) {
      return Invalid("\n*** FATAL CONFIG FILE ERROR (Keel) ***\nReading the configuration file (" +
                     origin + "), at line " + std::to_string(lineno) + "\n>>> '" + line + "'\n" +
                     why);
    };
    std::string_view trimmed(line);
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) {
      trimmed.remove_prefix(1);
    }
    if (trimmed.empty() || trimmed.front() == '#') continue;
    auto args = SplitConfigLine(trimmed);
    if (!args) return fail("Unbalanced quotes in configuration line");
    if (args->empty()) continue;
    const OptionSpec* spec = Find((*args)[0]);
    if (spec == nullptr) return fail("Bad directive or wrong number of arguments");
    std::string value;
    for (size_t i = 1; i < args->size(); ++i) {
      if (i > 1) value += " ";
      value += (*args)[i];
    }
    if (args->size() < 2 && spec->type != OptionType::kString) {
      return fail("Bad directive or wrong number of arguments");
    }
    Status st = Set({{spec->name, value}}, /*startup=*/true);
    if (!st.ok()) return fail(st.detail());
  }
  return Status::Ok();
}

Status Config::LoadFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) return Invalid("Fatal error, can't open config file '" + path + "'");
  std::stringstream ss;
  ss << f.rdbuf();
  config_file_ = path;
  return LoadText(ss.str(), path);
}

Status Config::LoadArgs(int argc, char** argv) {
  int i = 1;
  if (i < argc && std::string_view(argv[i]).substr(0, 2) != "--") {
    Status st = LoadFile(argv[i]);
    if (!st.ok()) return st;
    ++i;
  }
  std::string text;
  for (; i < argc; ++i) {
    std::string_view a(argv[i]);
    if (a.starts_with("--") && a.size() > 2) {
      if (!text.empty()) text += "\n";
      text.append(a.substr(2));
    } else {
      // Quote each value so empty strings and spaces survive the line splitting.
      text += " \"";
      for (char c : a) {
        if (c == '"' || c == '\\') text.push_back('\\');
        if (c == '\n') {
          text += "\\n";
          continue;
        }
        text.push_back(c);
      }
      text += "\"";
    }
  }
  return LoadText(text, "command line");
}

std::string Config::HelpText() const {
  std::string out =
      "Usage: keel-server [/path/to/keel.conf] [--option value ...]\n"
      "       keel-server --help | --version\n\n"
      "Options (also accepted in the config file as `option value`, and by CONFIG GET/SET):\n";
  for (const auto& s : specs_) {
    std::string line = "  --" + s.name + " <value>";
    if (line.size() < 36) line.resize(36, ' ');
    out += line + s.help + " Default: '" + s.default_value + "'" +
           (s.runtime_mutable ? "" : " (start-up only)") + "\n";
  }
  out +=
      "\nExamples:\n  keel-server\n  keel-server keel.conf --port 6380 --dir data2 --bind "
      "127.0.0.1\n";
  return out;
}

}  // namespace keel::server
