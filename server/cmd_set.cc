// Set commands: the RESP shells of datatypes/set.h.
#include "server/command_table.h"

namespace keel::server {

void RegisterSetCommands(std::vector<CommandSpec>* /*out*/) {}

}  // namespace keel::server
