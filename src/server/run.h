// Running holdfast: the event loop, the signal events, the engine and the server, from a
// validated configuration to the exit status. main() parses the configuration and calls this;
// it includes no libevent header.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace holdfast::server {

// Opens the listeners, loads state_dir, serves until SIGTERM/SIGINT (SIGHUP reloads `args`),
// saves state_dir and returns the process exit status (0 clean, 1 on a start-up or save error).
int run(const config::Config& config, const std::vector<std::string>& args);

} // namespace holdfast::server
