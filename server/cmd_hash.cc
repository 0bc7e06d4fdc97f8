// Hash commands: the RESP shells of datatypes/hash.h.
#include "server/command_table.h"

namespace keel::server {

void RegisterHashCommands(std::vector<CommandSpec>* /*out*/) {}

}  // namespace keel::server
