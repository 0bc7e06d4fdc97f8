// The one place that turns a Status into Redis's exact error text.
// Pure functions; thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "datatypes/status.h"

namespace keel::server {

// The error line without '-' and CRLF, e.g. "ERR value is not an integer or out of range".
// `command` is the lower-case command name used by errors that name it.
std::string ErrorText(const Status& status, std::string_view command);

// Dispatcher errors.
std::string UnknownCommandError(std::string_view name, std::span<const std::string_view> args);
std::string UnknownSubcommandError(std::string_view sub, std::string_view parent_upper);
std::string ArityError(std::string_view command);

}  // namespace keel::server
