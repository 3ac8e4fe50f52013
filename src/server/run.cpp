// The process's event loop and signals.
#include "server/run.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include "engine/memory_engine.h"
#include "server/event_handles.h"
#include "server/handover.h"
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

// Once the loop has ended nothing handles the signals: a late one (a second SIGTERM, a reload
// or a hand-over asked for during a stop) would end the process by its default action while
// it writes the final snapshot. They are blocked while the events go (libevent then puts the
// default actions back), ignored, and unblocked, which drops any that arrived meanwhile.
void ignoreLateSignals(std::vector<EventPtr>& signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kSignals)
    sigaddset(&set, sig);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  signals.clear();
  for (int sig : kSignals)
    signal(sig, SIG_IGN);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
}

// Serves on `base` until the loop exits; from then on the signals are ignored.
void serve(event_base* base, Server& server) {
  std::vector<EventPtr> signals;
  for (int sig : kSignals) {
    signals.emplace_back(evsignal_new(base, sig, &onSignal, &server));
    event_add(signals.back().get(), nullptr);
  }
  server.start();
  HF_INFO("holdfast started", logField("version", HOLDFAST_VERSION) +
                                  logField("pid", static_cast<long long>(getpid())));
  notifyReady();
  event_base_dispatch(base);
  ignoreLateSignals(signals);
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
  if (!config.state_dir.empty() && !openHistory(engine, config, clock))
    return 1;
  Server server(base.get(), config, clock, random, engine);
  server.setReloadArgs(args);
  std::vector<std::string> errors;
  if (!server.open(errors)) {
    for (const auto& e : errors)
      fprintf(stderr, "holdfast: %s\n", e.c_str());
    return 1;
  }
  server.setStateHandover([&] { return closeHistory(engine, config.state_dir); },
                          [&] { reopenHistory(engine); });
  EventPtr journal_timer = journalTimer(base.get(), engine);
  serve(base.get(), server);
  journal_timer.reset();
  // After a hand-over the successor owns the state: saving it again would overwrite newer data.
  bool saved =
      server.handedOver() || !engine.journaling() || closeHistory(engine, config.state_dir);
  HF_INFO("holdfast stopped", {});
  return saved ? 0 : 1;
}

} // namespace holdfast::server
