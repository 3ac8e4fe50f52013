// The server: the event layer around the handlers. One libevent loop runs the control and data
// listeners, the FastCGI connections, the timers of held requests and the deferred teardown;
// app::route does everything else.
//
// Ownership: Server owns the listeners, connections, sessions, counters and the handlers'
// Context; the engine is owned by the caller and outlives it. Deferred work (timers, releases,
// closes) refers to connections by 64-bit id and requests by serial, never by pointer; a miss
// is normal (the object is already gone).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "app/context.h"
#include "app/router.h"
#include "config/config.h"
#include "engine/engine.h"
#include "fcgi/shared_records.h"
#include "server/connection.h"
#include "server/event_handles.h"
#include "server/listener.h"

namespace holdfast::server {

class Server final : public app::Host {
public:
  Server(event_base* base, config::Config config, const util::Clock& clock, util::Random& random,
         engine::Engine& engine);
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Opens both listeners (systemd names first, then the configured addresses). Returns false
  // with every problem in `errors`.
  bool open(std::vector<std::string>& errors);
  // Starts accepting and the periodic sweep.
  void start();
  // SIGTERM/SIGINT: stop accepting, answer held requests with a reconnect, exit the loop once
  // output is flushed (or after a short grace period).
  void beginShutdown();
  // SIGUSR2: hands the state over (`release_state`: a clean snapshot, the state_dir lock let
  // go), starts the successor process with the listening sockets (handover.h) and, once it
  // serves, shuts down like beginShutdown() without closing the socket files. If the successor
  // dies first, `reclaim_state` takes the state back and this process goes on serving.
  void beginHandover();
  void setStateHandover(std::function<bool()> release_state, std::function<void()> reclaim_state) {
    release_state_ = std::move(release_state);
    reclaim_state_ = std::move(reclaim_state);
  }
  // True once a successor serves: the state belongs to it, this process must not save it.
  bool handedOver() const { return handed_over_; }
  // SIGHUP: re-reads the config file and applies limits, timeouts and the log level.
  void reload();
  // Shares the sessions through `directory` (the Redis engine's; it must outlive the server)
  // and applies the session commands other nodes send here. Call before start().
  void setSessionDirectory(session::Directory& directory);
  // The command-line arguments a reload re-reads (the config file and flags).
  void setReloadArgs(std::vector<std::string> args) { reload_args_ = std::move(args); }

  // app::Host
  void addTimer(int64_t deadline_ms, app::RequestRef ref, app::TimerKind kind) override;
  app::Request* find(app::RequestRef ref) override;
  bool shuttingDown() const override { return shutting_down_; }
  bool handingOver() const override { return handing_over_; }

  // ---- used by connections ----
  void dispatch(Connection& conn, FcgiRequest& request) { app::route(ctx_, request, conn.kind()); }
  void scheduleRelease(uint64_t conn_id, uint64_t serial);
  void scheduleClose(uint64_t conn_id);
  // Asks for conn_id's queued output to be written at the end of this loop pass.
  // `first`: flushed before the others of the pass (control answers: a publisher waits for its
  // 201 while the fan-out's frames go out, so its next request reaches us sooner).
  void scheduleFlush(uint64_t conn_id, bool first = false);
  uint64_t nextSerial() { return ++last_serial_; }
  // Calls conn_id's onRequestTimer at `deadline_ms` if the connection still exists.
  void addConnectionTimer(int64_t deadline_ms, uint64_t conn_id);
  // A connection's queued output grew (or shrank) by `delta` bytes.
  void noteOutput(int64_t delta) { stats_.output_bytes += static_cast<uint64_t>(delta); }
  int64_t nowMs() const { return clock_.nowMs(); }
  Connection* connection(uint64_t id);

  event_base* base() { return base_; }
  const config::Config& config() const { return config_; }
  metrics::Stats& stats() { return stats_; }
  // The FastCGI encoding of a fan-out's shared bytes, once per request id.
  fcgi::SharedRecords& sharedRecords() { return shared_records_; }

private:
  struct Timer {
    int64_t deadline;
    app::RequestRef ref; // serial 0: a connection's request_timeout entry
    app::TimerKind kind;
    bool operator>(const Timer& o) const { return deadline > o.deadline; }
  };
  struct Listener {
    Server* server;
    ListenSocket socket;
    app::Socket kind;
    EventPtr ev;
    bool tcp = false; // TCP_NODELAY for accepted sockets (pointless on unix sockets)
  };

  static void onAccept(int fd, short what, void* arg);
  static void onTimer(int fd, short what, void* arg);
  static void onCleanup(int fd, short what, void* arg);
  static void onFlush(int fd, short what, void* arg);
  void flushAll(std::vector<uint64_t>& pending);
  static void onAcceptPauseEnd(int fd, short what, void* arg);
  static void onSweep(int fd, short what, void* arg);
  static void onShutdownTick(int fd, short what, void* arg);
  static void onSuccessorReady(int fd, short what, void* arg);
  bool spawnSuccessor();
  void endHandover(bool successor_serves);
  void watchListeners(bool on);
  void accept(Listener& listener);
  void adopt(int fd, app::Socket kind, bool tcp = true);
  void pauseAccepting();
  void measureDescriptors();
  bool dataFull() const;
  void watchData(bool on);
  void warnOutOfFds(const char* what);
  void armTimer();
  void compactTimers();
  void fireTimer(const Timer& timer);
  app::Held* liveHeld(app::RequestRef ref);
  void runCleanup();
  void releaseAll();
  void closeAll();
  void closeListeners();
  bool openOne(app::Socket kind, std::vector<std::string>& errors);

  event_base* base_;
  config::Config config_;
  const util::Clock& clock_;
  engine::Engine& engine_;
  session::SessionTable sessions_;
  metrics::Stats stats_;
  app::FrameCache frames_;
  fcgi::SharedRecords shared_records_;
  app::Context ctx_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
  uint64_t last_conn_id_ = 0;
  uint64_t last_serial_ = 0;

  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  EventPtr timer_ev_;
  EventPtr cleanup_ev_;
  EventPtr flush_ev_;
  EventPtr accept_pause_ev_;
  EventPtr sweep_ev_;
  EventPtr shutdown_ev_;
  std::vector<std::pair<uint64_t, uint64_t>> pending_release_;
  std::vector<uint64_t> pending_close_;
  std::vector<uint64_t> pending_flush_;
  std::vector<uint64_t> pending_flush_first_;
  bool accept_paused_ = false;
  bool data_paused_ = false; // the data listener is not watched: fds reserved for control
  uint64_t fd_limit_ = 0;    // RLIMIT_NOFILE soft limit
  uint64_t base_fds_ = 0;    // descriptors open before any connection (listeners, loop)
  int64_t last_fd_warning_ms_ = 0;
  uint64_t fd_warnings_suppressed_ = 0;
  std::vector<std::string> reload_args_;
  bool shutting_down_ = false;
  bool handing_over_ = false;
  bool handed_over_ = false;
  std::function<bool()> release_state_;
  std::function<void()> reclaim_state_;
  int successor_pid_ = -1;
  int ready_fd_ = -1; // read end of the successor's ready pipe
  EventPtr ready_ev_;
  int64_t shutdown_deadline_ = 0;
};

} // namespace holdfast::server
