// ZSet commands: the RESP shells of datatypes/zset.h.
#include "server/command_table.h"

namespace keel::server {

void RegisterZSetCommands(std::vector<CommandSpec>* /*out*/) {}

}  // namespace keel::server
