// holdfast: loads the configuration, opens both sockets and runs the event loop.
#include <event2/event.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "server/server.h"
#include "store/journal.h"
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

// The state_dir journal's periodic work (store/journal.h): fsync under journal_sync=interval,
// compaction when it outgrew journal_max_bytes or refuses appends after an error.
struct JournalTimer {
  holdfast::store::Journal* journal;
  holdfast::hub::Hub* hub;
};

void onJournalTimer(evutil_socket_t, short, void* arg) {
  auto* t = static_cast<JournalTimer*>(arg);
  std::string error;
  if (t->journal->due() && !t->journal->sync(error))
    HF_ERROR("journal sync failed; publishes refused until compaction",
             holdfast::util::logField("error", error));
  if (t->journal->compactionDue()) {
    if (t->journal->compact(*t->hub, error))
      HF_INFO("journal compacted", holdfast::util::logField("file", t->journal->snapshotPath()));
    else
      HF_ERROR("journal compaction failed", holdfast::util::logField("error", error));
  }
}

// Loads state_dir (snapshot + journal) into the hub and starts this run's journal. False: the
// server must not start (the error names the file and offset).
bool openJournal(std::optional<holdfast::store::Journal>& journal,
                 const holdfast::config::Config& config, const holdfast::util::Clock& clock,
                 holdfast::hub::Hub& hub) {
  using holdfast::util::logField;
  holdfast::store::JournalOptions options;
  options.sync = *holdfast::store::parseSyncPolicy(config.journal_sync); // validated
  options.sync_interval_ms = static_cast<int64_t>(config.journal_sync_interval);
  options.max_bytes = config.journal_max_bytes;
  journal.emplace(config.state_dir, options, clock);
  holdfast::store::RecoverStats stats;
  std::string error;
  if (!journal->recover(hub, stats, error) || !journal->open(hub, error)) {
    fprintf(stderr,
            "holdfast: state_dir: %s\nholdfast: refusing to start so that no acknowledged "
            "message is dropped silently; to start with new epochs for every channel, move "
            "holdfast.state and holdfast.journal out of %s (docs/operations.md)\n",
            error.c_str(), config.state_dir.c_str());
    return false;
  }
  if (stats.torn)
    HF_WARN("journal: torn last record dropped", logField("notes", stats.notes));
  if (!stats.complete)
    HF_WARN("state not proven complete after an unclean stop; channels start new epochs",
            logField("channels", static_cast<long long>(stats.reset_channels)) +
                logField("notes", stats.notes));
  HF_INFO("state loaded",
          logField("channels", static_cast<long long>(stats.channels)) +
              logField("messages", static_cast<long long>(stats.messages)) +
              logField("journal_records", static_cast<long long>(stats.journal_records)) +
              logField("clean", stats.clean ? "true" : "false") + logField("notes", stats.notes));
  hub.setHistoryLog(&*journal);
  return true;
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
  signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<event_base, decltype(&event_base_free)> base(event_base_new(), &event_base_free);
  if (!base) {
    fprintf(stderr, "holdfast: cannot create the event loop\n");
    return 1;
  }
  holdfast::util::SystemClock clock;
  holdfast::util::SecureRandom random;
  std::optional<holdfast::store::Journal> journal; // outlives the server's hub, which points at it
  Server server(base.get(), config, clock, random);
  server.setReloadArgs(args);
  std::unique_ptr<event, decltype(&event_free)> journal_timer(nullptr, &event_free);
  JournalTimer journal_timer_arg{nullptr, &server.hub()};
  // Before the listeners open: a server that refuses to start never accepts a connection.
  if (!config.state_dir.empty()) {
    if (!openJournal(journal, config, clock, server.hub()))
      return 1;
    journal_timer_arg.journal = &*journal;
    journal_timer.reset(event_new(base.get(), -1, EV_PERSIST, &onJournalTimer, &journal_timer_arg));
    int64_t ms = std::min<int64_t>(static_cast<int64_t>(config.journal_sync_interval), 1000);
    timeval every{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
    event_add(journal_timer.get(), &every);
  }
  std::vector<std::string> errors;
  if (!server.open(errors)) {
    for (const auto& e : errors)
      fprintf(stderr, "holdfast: %s\n", e.c_str());
    return 1;
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
  if (journal) {
    std::string error;
    server.hub().setHistoryLog(nullptr);
    if (journal->close(server.hub(), error)) {
      HF_INFO("state saved", holdfast::util::logField("dir", config.state_dir));
    } else {
      HF_ERROR("state not saved", holdfast::util::logField("error", error));
      status = 1;
    }
  }
  HF_INFO("holdfast stopped", {});
  return status;
}
