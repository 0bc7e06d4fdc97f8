// Config: keel-server's options, named and given as redis-server takes them.
//
// Sources, in order: built-in defaults, an optional redis.conf-style file (first argument),
// then `--name value...` command-line pairs; CONFIG GET / CONFIG SET see the same names.
// Each option has a type and validation; some can change at runtime (CONFIG SET), the rest
// only at start-up. Owned by the Server. Thread-safe: one mutex guards the values; the
// optional on-change hook runs after it is released (the hook may read the config).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "datatypes/status.h"

namespace keel::server {

enum class OptionType : uint8_t { kString, kInt, kBool, kEnum, kMemory };

// One class of client-output-buffer-limit; 0 = no limit.
struct OutputLimit {
  uint64_t hard = 0;
  uint64_t soft = 0;
  uint64_t soft_seconds = 0;
};
// Parses "<class> <hard> <soft> <seconds>..." (classes normal=0, replica/slave=1, pubsub=2).
std::optional<std::vector<std::pair<int, OutputLimit>>> ParseOutputBufferLimits(
    std::string_view text);

struct OptionSpec {
  std::string name;
  OptionType type;
  std::string default_value;
  bool runtime_mutable;
  std::string help;
  int64_t min = 0;  // kInt / kMemory
  int64_t max = INT64_MAX;
  std::vector<std::string> choices;  // kEnum
  // kString: extra validation; returns an error text, or empty when the value is good.
  std::string (*check)(std::string_view value) = nullptr;
  // kString: the canonical form stored and shown by CONFIG GET (after `check` passed).
  std::string (*normalize)(std::string_view value) = nullptr;
};

class Config {
 public:
  Config();

  // The option table (for --help and CONFIG GET *).
  const std::vector<OptionSpec>& specs() const { return specs_; }

  // Parses argv as redis-server does: [config-file] [--name value...]. On error returns the
  // message to print.
  Status LoadArgs(int argc, char** argv);
  Status LoadFile(const std::string& path);
  Status LoadText(std::string_view text, const std::string& origin);

  // CONFIG SET name value [name value ...]: all or nothing. `startup` allows immutable ones.
  Status Set(const std::vector<std::pair<std::string, std::string>>& pairs, bool startup);
  // CONFIG GET pattern...: (name, value) pairs in table order, each name once.
  std::vector<std::pair<std::string, std::string>> Get(std::span<const std::string_view> patterns);

  std::string GetString(std::string_view name) const;
  int64_t GetInt(std::string_view name) const;  // kInt, kMemory (bytes), kBool (0/1)
  bool GetBool(std::string_view name) const { return GetInt(name) != 0; }

  const std::string& config_file() const { return config_file_; }

  // Called after a successful runtime CONFIG SET of `name`, with the new value.
  using Hook = std::function<void(const std::string& name, const std::string& value)>;
  void set_hook(Hook hook) { hook_ = std::move(hook); }

  std::string HelpText() const;

 private:
  const OptionSpec* Find(std::string_view name) const;
  Status Validate(const OptionSpec& spec, std::string_view value, std::string* normalized) const;

  std::vector<OptionSpec> specs_;
  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> values_;
  std::string config_file_;
  Hook hook_;
};

// Parses "512mb", "1gb", "100", "10k" the way redis.conf does (k=1000, kb=1024...).
std::optional<int64_t> ParseMemory(std::string_view text);
// Splits a redis.conf line into arguments (quotes and escapes as redis-cli/sdssplitargs).
std::optional<std::vector<std::string>> SplitConfigLine(std::string_view line);

}  // namespace keel::server
