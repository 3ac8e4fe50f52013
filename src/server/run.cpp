// The process's event loop and signals.
#include "server/run.h"

#include <signal.h>

#include <cstdio>
#include <cstdlib>

#include "engine/memory_engine.h"
#include "engine/redis_engine.h"
#include "redis/password.h"
#include "redis/url.h"
#include "server/event_handles.h"
#include "server/redis_link.h"
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
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
    signals.emplace_back(evsignal_new(base, sig, &onSignal, &server));
    event_add(signals.back().get(), nullptr);
  }
  server.start();
  HF_INFO("holdfast started", logField("version", HOLDFAST_VERSION));
  event_base_dispatch(base);
}

// Opens the listeners and serves until the loop exits; the state directory is the memory
// engine's (`memory` null for the Redis engine).
int serveWith(event_base* base, const config::Config& config, const std::vector<std::string>& args,
              const util::Clock& clock, util::Random& random, engine::Engine& engine,
              engine::MemoryEngine* memory) {
  Server server(base, config, clock, random, engine);
  server.setReloadArgs(args);
  std::vector<std::string> errors;
  if (!server.open(errors)) {
    for (const auto& e : errors)
      fprintf(stderr, "holdfast: %s\n", e.c_str());
    return 1;
  }
  bool persist = memory && !config.state_dir.empty();
  if (persist)
    loadState(*memory, config.state_dir);
  serve(base, server);
  bool saved = !persist || saveState(*memory, config.state_dir);
  HF_INFO("holdfast stopped", {});
  return saved ? 0 : 1;
}

// The Redis engine on two links (commands, pub/sub). The password comes from
// redis_password_file, HOLDFAST_REDIS_PASSWORD or the URL, in that order.
int runRedis(event_base* base, const config::Config& config, const std::vector<std::string>& args,
             const util::Clock& clock, util::Random& random) {
  std::string error;
  auto address = redis::parseUrl(config.redis, error); // validated at load
  auto password =
      redis::resolvePassword(address ? address->password : "", config.redis_password_file,
                             getenv("HOLDFAST_REDIS_PASSWORD"), error);
  if (!address || !password) {
    fprintf(stderr, "holdfast: %s\n", error.c_str());
    return 1;
  }
  if (!config.state_dir.empty())
    HF_WARN("state_dir is not used with redis (history lives in Redis)", {});
  RedisLink commands(base, *address, *password, "commands", clock);
  RedisLink pubsub(base, *address, *password, "pubsub", clock);
  engine::RedisEngine engine(commands, pubsub, engine::hubLimits(config), clock, random);
  engine.start();
  HF_INFO("redis engine", logField("redis", redis::describe(*address)));
  return serveWith(base, config, args, clock, random, engine, nullptr);
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
  if (!config.redis.empty())
    return runRedis(base.get(), config, args, clock, random);
  engine::MemoryEngine engine(engine::hubLimits(config), clock, random);
  return serveWith(base.get(), config, args, clock, random, engine, &engine);
}

} // namespace holdfast::server
