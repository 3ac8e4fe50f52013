// The process's event loop and signals.
#include "server/run.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "engine/memory_engine.h"
#include "engine/redis_engine.h"
#include "engine/redis_sessions.h"
#include "redis/password.h"
#include "redis/url.h"
#include "server/event_handles.h"
#include "server/handover.h"
#include "server/redis_link.h"
#include "server/server.h"
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

// Recovers state_dir before the listeners open: a server that refuses to start never accepts
// a connection.
bool openHistory(engine::MemoryEngine& engine, const config::Config& config,
                 const util::Clock& clock) {
  std::string error;
  if (engine.openHistory(config, clock, error))
    return true;
  fprintf(stderr,
          "holdfast: state_dir: %s\nholdfast: refusing to start so that no acknowledged "
          "message is dropped silently; to start with new epochs for every channel, move "
          "holdfast.state and holdfast.journal out of %s (docs/operations.md)\n",
          error.c_str(), config.state_dir.c_str());
  return false;
}

bool closeHistory(engine::MemoryEngine& engine, const std::string& dir) {
  std::string error;
  if (!engine.closeHistory(error)) {
    HF_ERROR("state not saved", logField("error", error));
    return false;
  }
  HF_INFO("state saved", logField("dir", dir));
  return true;
}

void reopenHistory(engine::MemoryEngine& engine) {
  std::string error;
  if (!engine.reopenHistory(error))
    HF_ERROR("journal could not be reopened: publishes are not crash-safe until restart",
             logField("error", error));
}

void onJournalTimer(evutil_socket_t, short, void* arg) {
  static_cast<engine::MemoryEngine*>(arg)->historyTick();
}

// The journal's periodic fsync and compaction (store/journal.h), while journaling.
EventPtr journalTimer(event_base* base, engine::MemoryEngine& engine) {
  if (!engine.journaling())
    return nullptr;
  EventPtr timer(event_new(base, -1, EV_PERSIST, &onJournalTimer, &engine));
  int64_t ms = engine.historyTickMs();
  timeval every{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
  event_add(timer.get(), &every);
  return timer;
}

constexpr int kSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR2};

// Blocks (or unblocks) the signals the loop handles. From the start of run() until their
// events are added they are blocked: a SIGTERM that arrives once the sockets listen but before
// the loop handles it (a service manager stopping a process that is still starting) then
// waits, and stops the process cleanly, instead of ending it by the default action.
void maskSignals(int how) {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kSignals)
    sigaddset(&set, sig);
  sigprocmask(how, &set, nullptr);
}

// Once the loop has ended nothing handles the signals: a late one (a second SIGTERM, a reload
// or a hand-over asked for during a stop) would end the process by its default action while
// it writes the final snapshot. They are blocked while the events go (libevent then puts the
// default actions back), ignored, and unblocked, which drops any that arrived meanwhile.
void ignoreLateSignals(std::vector<EventPtr>& signals) {
  maskSignals(SIG_BLOCK);
  signals.clear();
  for (int sig : kSignals)
    signal(sig, SIG_IGN);
  maskSignals(SIG_UNBLOCK);
}

// Serves on `base` until the loop exits; from then on the signals are ignored.
void serve(event_base* base, Server& server) {
  std::vector<EventPtr> signals;
  for (int sig : kSignals) {
    signals.emplace_back(evsignal_new(base, sig, &onSignal, &server));
    event_add(signals.back().get(), nullptr);
  }
  maskSignals(SIG_UNBLOCK); // one that came while starting is handled by the loop now
  server.start();
  HF_INFO("holdfast started", logField("version", HOLDFAST_VERSION) +
                                  logField("pid", static_cast<long long>(getpid())));
  notifyReady();
  event_base_dispatch(base);
  ignoreLateSignals(signals);
}

// Opens the listeners and serves until the loop exits; the state directory is the memory
// engine's (`memory` null for the Redis engine, whose state lives in Redis).
int serveWith(event_base* base, const config::Config& config, const std::vector<std::string>& args,
              const util::Clock& clock, util::Random& random, engine::Engine& engine,
              engine::MemoryEngine* memory, session::Directory* directory = nullptr) {
  Server server(base, config, clock, random, engine);
  if (directory)
    server.setSessionDirectory(*directory);
  server.setReloadArgs(args);
  std::vector<std::string> errors;
  if (!server.open(errors)) {
    for (const auto& e : errors)
      fprintf(stderr, "holdfast: %s\n", e.c_str());
    return 1;
  }
  bool persist = memory && memory->journaling();
  if (persist)
    server.setStateHandover([&] { return closeHistory(*memory, config.state_dir); },
                            [&] { reopenHistory(*memory); });
  EventPtr journal_timer = persist ? journalTimer(base, *memory) : nullptr;
  serve(base, server);
  journal_timer.reset();
  // After a hand-over the successor owns the state: saving it again would overwrite newer data.
  bool saved = !persist || server.handedOver() || !memory->journaling() ||
               closeHistory(*memory, config.state_dir);
  HF_INFO("holdfast stopped", {});
  return saved ? 0 : 1;
}

engine::SessionTimes sessionTimes(const config::Config& config) {
  uint64_t hold = std::max(config.poll_timeout, config.max_stream_age);
  return {static_cast<int64_t>(config.session_ttl) * 1000, static_cast<int64_t>(hold) * 1000};
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
  engine::RedisSessions sessions(commands, engine, random.token(9), sessionTimes(config),
                                 config.max_channels_per_request);
  engine.start();
  HF_INFO("redis engine",
          logField("redis", redis::describe(*address)) + logField("node", sessions.node()));
  return serveWith(base, config, args, clock, random, engine, nullptr, &sessions);
}

} // namespace

int run(const config::Config& config, const std::vector<std::string>& args) {
  signal(SIGPIPE, SIG_IGN);
  maskSignals(SIG_BLOCK); // until serve() handles them
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
  if (!config.state_dir.empty() && !openHistory(engine, config, clock))
    return 1;
  return serveWith(base.get(), config, args, clock, random, engine, &engine);
}

} // namespace holdfast::server
