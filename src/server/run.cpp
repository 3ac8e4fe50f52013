// The process's event loop and signals.
#include "server/run.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include "engine/memory_engine.h"
#include "server/event_handles.h"
#include "server/handover.h"
#include "server/server.h"
#include "store/state_file.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/random.h"

namespace holdfast::server {
namespace {

using util::logField;

void onSignal(evutil_socket_t sig, short, void* arg) {
  auto* server = static_cast<Server*>(arg);
  if (sig == SIGHUP)
    server->reload();
  else if (sig == SIGUSR2)
    server->beginHandover();
  else
    server->beginShutdown();
}

void loadState(engine::MemoryEngine& engine, const std::string& dir) {
  store::LoadStats loaded;
  std::string error;
  if (!store::loadState(engine.hub(), dir, loaded, error))
    HF_ERROR("state not fully loaded; affected channels start a new epoch",
             logField("error", error));
  HF_INFO("state loaded", logField("channels", static_cast<long long>(loaded.channels)) +
                              logField("messages", static_cast<long long>(loaded.messages)));
}

bool saveState(const engine::MemoryEngine& engine, const std::string& dir) {
  std::string error;
  if (!store::saveState(engine.hub(), dir, error)) {
    HF_ERROR("state not saved", logField("error", error));
    return false;
  }
  HF_INFO("state saved", logField("dir", dir));
  return true;
}

// Serves on `base` until the loop exits.
void serve(event_base* base, Server& server) {
  std::vector<EventPtr> signals;
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR2}) {
    signals.emplace_back(evsignal_new(base, sig, &onSignal, &server));
    event_add(signals.back().get(), nullptr);
  }
  server.start();
  HF_INFO("holdfast started", logField("version", HOLDFAST_VERSION) +
                                  logField("pid", static_cast<long long>(getpid())));
  notifyReady();
  event_base_dispatch(base);
}

} // namespace

int run(const config::Config& config, const std::vector<std::string>& args) {
  signal(SIGPIPE, SIG_IGN);
  EventBasePtr base(event_base_new());
  if (!base) {
    fprintf(stderr, "holdfast: cannot create the event loop\n");
    return 1;
  }
  util::SystemClock clock;
  util::SecureRandom random;
  engine::MemoryEngine engine(engine::hubLimits(config), clock, random);
  Server server(base.get(), config, clock, random, engine);
  server.setReloadArgs(args);
  std::vector<std::string> errors;
  if (!server.open(errors)) {
    for (const auto& e : errors)
      fprintf(stderr, "holdfast: %s\n", e.c_str());
    return 1;
  }
  if (!config.state_dir.empty())
    loadState(engine, config.state_dir);
  server.setStateSaver(
      [&] { return config.state_dir.empty() || saveState(engine, config.state_dir); });
  serve(base.get(), server);
  // After a hand-over the successor owns the state: saving it again would overwrite newer data.
  bool saved = server.handedOver() || config.state_dir.empty() ||
               saveState(engine, config.state_dir);
  HF_INFO("holdfast stopped", {});
  return saved ? 0 : 1;
}

} // namespace holdfast::server
