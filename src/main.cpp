// holdfast: loads the configuration, opens both sockets and runs the event loop.
#include <event2/event.h>
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "server/server.h"
#include "store/state_file.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/random.h"

namespace {

using holdfast::server::Server;

void onSignal(evutil_socket_t sig, short, void* arg) {
  auto* server = static_cast<Server*>(arg);
  if (sig == SIGHUP)
    server->reload();
  else
    server->beginShutdown();
}

} // namespace

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
  signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<event_base, decltype(&event_base_free)> base(event_base_new(), &event_base_free);
  if (!base) {
    fprintf(stderr, "holdfast: cannot create the event loop\n");
    return 1;
  }
  holdfast::util::SystemClock clock;
  holdfast::util::SecureRandom random;
  Server server(base.get(), config, clock, random);
  server.setReloadArgs(args);
  std::vector<std::string> errors;
  if (!server.open(errors)) {
    for (const auto& e : errors)
      fprintf(stderr, "holdfast: %s\n", e.c_str());
    return 1;
  }
  if (!config.state_dir.empty()) {
    holdfast::store::LoadStats loaded_state;
    std::string error;
    if (!holdfast::store::loadState(server.hub(), config.state_dir, loaded_state, error))
      HF_ERROR("state not fully loaded; affected channels start a new epoch",
               holdfast::util::logField("error", error));
    HF_INFO("state loaded",
            holdfast::util::logField("channels", static_cast<long long>(loaded_state.channels)) +
                holdfast::util::logField("messages", static_cast<long long>(loaded_state.messages)));
  }
  std::vector<std::unique_ptr<event, decltype(&event_free)>> signals;
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
    signals.emplace_back(evsignal_new(base.get(), sig, &onSignal, &server), &event_free);
    event_add(signals.back().get(), nullptr);
  }
  server.start();
  HF_INFO("holdfast started", holdfast::util::logField("version", HOLDFAST_VERSION));
  event_base_dispatch(base.get());
  int status = 0;
  if (!config.state_dir.empty()) {
    std::string error;
    if (holdfast::store::saveState(server.hub(), config.state_dir, error)) {
      HF_INFO("state saved", holdfast::util::logField("dir", config.state_dir));
    } else {
      HF_ERROR("state not saved", holdfast::util::logField("error", error));
      status = 1;
    }
  }
  HF_INFO("holdfast stopped", {});
  return status;
}
