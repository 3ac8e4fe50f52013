// The server: one libevent loop running the control and data listeners, the connections, the
// hub, timers and deferred teardown. Handlers (control_handler, data_handler) do the routing.
//
// Ownership: Server owns the hub, listeners and connections. Deferred work (timers, releases,
// closes) refers to connections by 64-bit id and requests by serial, never by pointer; a miss
// is normal (the object is already gone).
#pragma once

#include <cstdint>
#include <memory>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "hub/hub.h"
#include "server/connection.h"
#include "server/frame_cache.h"
#include "server/listener.h"
#include "server/stats.h"
#include "util/clock.h"
#include "util/random.h"

struct event;
struct event_base;

namespace holdfast::server {

class SessionTable;

enum class TimerKind : uint8_t {
  kPollTimeout,  // long-poll hold expired: answer with a heartbeat response
  kStream,       // streaming heartbeat due, or max_stream_age reached (reconnect and end)
};

class Server {
public:
  Server(event_base* base, config::Config config, const util::Clock& clock, util::Random& random);
  ~Server();
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
  bool shuttingDown() const { return shutting_down_; }
  // SIGHUP: re-reads the config file and applies limits, timeouts and the log level.
  void reload();
  // The command-line arguments a reload re-reads (the config file and flags).
  void setReloadArgs(std::vector<std::string> args) { reload_args_ = std::move(args); }

  // ---- used by connections and handlers ----
  void dispatch(Connection& conn, Request& request);
  void scheduleRelease(uint64_t conn_id, uint64_t serial);
  void scheduleClose(uint64_t conn_id);
  // Asks for conn_id's queued output to be written at the end of this loop pass.
  void scheduleFlush(uint64_t conn_id);
  void addTimer(int64_t deadline_ms, uint64_t conn_id, uint64_t serial, TimerKind kind);
  uint64_t nextSerial() { return ++last_serial_; }
  Connection* connection(uint64_t id);

  event_base* base() { return base_; }
  hub::Hub& hub() { return hub_; }
  const config::Config& config() const { return config_; }
  const util::Clock& clock() const { return clock_; }
  util::Random& random() { return random_; }
  Stats& stats() { return stats_; }
  FrameCache& frames() { return frames_; }
  SessionTable& sessions() { return *sessions_; }
  size_t connectionCount() const { return connections_.size(); }

private:
  struct Timer {
    int64_t deadline;
    uint64_t conn_id;
    uint64_t serial;
    TimerKind kind;
    bool operator>(const Timer& o) const { return deadline > o.deadline; }
  };
  struct Listener {
    Server* server;
    ListenSocket socket;
    ListenerKind kind;
    event* ev = nullptr;
  };

  static void onAccept(int fd, short what, void* arg);
  static void onTimer(int fd, short what, void* arg);
  static void onCleanup(int fd, short what, void* arg);
  static void onFlush(int fd, short what, void* arg);
  static void onAcceptPauseEnd(int fd, short what, void* arg);
  void pauseAccepting();
  static void onSweep(int fd, short what, void* arg);
  static void onShutdownTick(int fd, short what, void* arg);
  void accept(Listener& listener);
  void armTimer();
  void compactTimers();
  void fireTimer(const Timer& timer);
  void runCleanup();
  void wakeCleanup();
  void closeListeners();
  bool openOne(ListenerKind kind, std::vector<std::string>& errors);

  event_base* base_;
  config::Config config_;
  const util::Clock& clock_;
  util::Random& random_;
  hub::Hub hub_;
  Stats stats_;
  FrameCache frames_;
  std::unique_ptr<SessionTable> sessions_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
  uint64_t last_conn_id_ = 0;
  uint64_t last_serial_ = 0;

  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  event* timer_ev_ = nullptr;
  int64_t timer_armed_for_ = 0;
  event* cleanup_ev_ = nullptr;
  event* sweep_ev_ = nullptr;
  event* shutdown_ev_ = nullptr;
  std::vector<std::pair<uint64_t, uint64_t>> pending_release_;
  std::vector<uint64_t> pending_close_;
  std::vector<uint64_t> pending_flush_;
  event* flush_ev_ = nullptr;
  event* accept_pause_ev_ = nullptr;
  bool accept_paused_ = false;
  std::vector<std::string> reload_args_;
  bool shutting_down_ = false;
  int64_t shutdown_deadline_ = 0;
};

} // namespace holdfast::server
