// Stream commands: the RESP shells of datatypes/stream.h.
#include "server/command_table.h"

namespace keel::server {

void RegisterStreamCommands(std::vector<CommandSpec>* /*out*/) {}

}  // namespace keel::server
