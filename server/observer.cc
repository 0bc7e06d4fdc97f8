#include "server/observer.h"

namespace keel::server {

void CommandObserver::OnCommand(const CommandSpec* /*spec*/, const Client& /*client*/,
                                std::span<const std::string_view> /*argv*/, uint64_t /*usec*/,
                                bool /*failed*/, bool /*rejected*/) {}

}  // namespace keel::server
