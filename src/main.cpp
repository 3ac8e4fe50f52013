// holdfast: parses the configuration and runs the server (server/run.h).
#include <cstdio>
#include <string>
#include <vector>

#include "config/config.h"
#include "server/run.h"
#include "util/log.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  holdfast::config::Config config;
  auto loaded = holdfast::config::load(args, config);
  if (loaded.show_help) {
    fputs(holdfast::config::usage().c_str(), stdout);
    return 0;
  }
  if (loaded.show_version) {
    printf("holdfast %s\n", HOLDFAST_VERSION);
    return 0;
  }
  if (!loaded.ok) {
    for (const auto& e : loaded.errors)
      fprintf(stderr, "holdfast: %s\n", e.c_str());
    fprintf(stderr, "holdfast: %zu configuration error(s); see --help\n", loaded.errors.size());
    return 2;
  }
  holdfast::util::LogLevel level;
  if (holdfast::util::parseLogLevel(config.log_level, level))
    holdfast::util::setLogLevel(level);
  holdfast::util::configureLogOutput(config.log_format, config.log_journal);
  return holdfast::server::run(config, args);
}
