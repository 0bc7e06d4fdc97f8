// keel-server: parses the configuration (redis-server style) and runs the Server.
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "server/config.h"
#include "server/server.h"

int main(int argc, char** argv) {
  using keel::server::Config;
  using keel::server::Server;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(Config().HelpText().c_str(), stdout);
      return 0;
    }
    if (std::strcmp(argv[i], "--version") == 0 || std::strcmp(argv[i], "-v") == 0) {
      std::printf("Keel server v=%s (Redis %s compatible)\n",
                  std::string(keel::server::kKeelVersion).c_str(),
                  std::string(keel::server::kRedisCompatVersion).c_str());
      return 0;
    }
  }
  auto config = std::make_unique<Config>();
  keel::Status st = config->LoadArgs(argc, argv);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.detail().c_str());
    return 1;
  }
  if (config->GetBool("daemonize")) {
    if (daemon(/*nochdir=*/1, /*noclose=*/0) != 0) {
      std::perror("daemon");
      return 1;
    }
  }
  Server server(std::move(config));
  st = server.Start();
  if (!st.ok()) {
    std::fprintf(stderr, "Failed to start Keel: %s\n", st.detail().c_str());
    return 1;
  }
  server.Wait();
  return 0;
}
