// The server: listeners, connection table, timers, deferred teardown, shutdown and reload.
#include "server/server.h"

#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "app/control.h"
#include "engine/memory_engine.h"
#include "server/handover.h"
#include "util/log.h"

namespace holdfast::server {
namespace {
constexpr int kAcceptsPerWakeup = 256;

bool isTcp(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  return getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
         (addr.ss_family == AF_INET || addr.ss_family == AF_INET6);
}
// Descriptors kept free for the control socket (and for files such as the state file): the data
// listener is not watched while fewer than this are left.
constexpr uint64_t kControlFdReserve = 32;
// Below this many free descriptors data requests are answered 503 before the limit is hit.
constexpr uint64_t kDataOverloadMargin = 64;
constexpr int64_t kFdWarningIntervalMs = 10000;
constexpr int64_t kShutdownGraceMs = 3000;

const char* kindName(app::Socket kind) {
  return kind == app::Socket::kControl ? "control" : "data";
}

int64_t sessionTtlMs(const config::Config& c) {
  return static_cast<int64_t>(c.session_ttl) * 1000;
}

EventPtr newEvent(event_base* base, short what, event_callback_fn fn, void* arg) {
  return EventPtr(event_new(base, -1, what, fn, arg));
}
} // namespace

Server::Server(event_base* base, config::Config config, const util::Clock& clock,
               util::Random& random, engine::Engine& engine)
    : base_(base), config_(std::move(config)), clock_(clock), engine_(engine),
      sessions_(clock_, random, sessionTtlMs(config_)), ctx_{engine_, sessions_, config_, clock_,
                                                             random,  stats_,    frames_, *this},
      timer_ev_(newEvent(base_, 0, &Server::onTimer, this)),
      cleanup_ev_(newEvent(base_, 0, &Server::onCleanup, this)),
      flush_ev_(newEvent(base_, 0, &Server::onFlush, this)),
      accept_pause_ev_(newEvent(base_, 0, &Server::onAcceptPauseEnd, this)),
      sweep_ev_(newEvent(base_, EV_PERSIST, &Server::onSweep, this)),
      shutdown_ev_(newEvent(base_, EV_PERSIST, &Server::onShutdownTick, this)) {
  stats_.started_ms = clock_.nowMs();
  stats_.pid = static_cast<uint64_t>(getpid());
}

// Connections go first: their requests' held subscribers unsubscribe from the engine and
// detach from sessions, which are still alive here.
void Server::setSessionDirectory(session::Directory& directory) {
  sessions_.setDirectory(directory);
  directory.setHandler([this](const session::Command& c) { app::applyRemote(ctx_, c); });
}

Server::~Server() {
  sessions_.directory().setHandler({}); // the directory may outlive the server
  connections_.clear();
  closeListeners();
}

bool Server::openOne(app::Socket kind, std::vector<std::string>& errors) {
  const std::string& address = kind == app::Socket::kControl ? config_.control : config_.data;
  std::string error;
  ListenSocket socket;
  std::string shown = address;
  if (auto fd = systemdSocket(kindName(kind))) {
    shown = "systemd:" + std::string(kindName(kind));
    socket = openListener("fd:" + std::to_string(*fd), error);
  } else if (address.empty()) {
    error = "no address configured";
  } else {
    socket = openListener(address, error,
                          static_cast<unsigned>(std::stoul(config_.socket_mode, nullptr, 8)));
  }
  if (!socket) {
    errors.push_back(std::string(kindName(kind)) + " listener: " + error);
    return false;
  }
  HF_INFO("listening", util::logField("socket", kindName(kind)) + util::logField("address", shown));
  bool tcp = isTcp(socket.fd());
  listeners_.push_back(
      std::make_unique<Listener>(Listener{this, std::move(socket), kind, {}, tcp}));
  return true;
}

bool Server::open(std::vector<std::string>& errors) {
  bool ok = openOne(app::Socket::kControl, errors);
  ok = openOne(app::Socket::kData, errors) && ok;
  return ok;
}

// The descriptor budget: RLIMIT_NOFILE less what is open now. Data connections are answered 503
// past it minus kDataOverloadMargin, and not accepted past it minus kControlFdReserve.
void Server::measureDescriptors() {
  rlimit limit{};
  fd_limit_ = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
                  ? static_cast<uint64_t>(limit.rlim_cur)
                  : UINT64_MAX / 2;
  std::error_code ec;
  base_fds_ = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++base_fds_;
  uint64_t free = fd_limit_ > base_fds_ ? fd_limit_ - base_fds_ : 0;
  stats_.data_capacity = free > kDataOverloadMargin ? free - kDataOverloadMargin : 0;
}

bool Server::dataFull() const {
  return base_fds_ + connections_.size() + kControlFdReserve >= fd_limit_;
}

void Server::watchData(bool on) {
  if (data_paused_ == !on)
    return;
  data_paused_ = !on;
  if (!on)
    warnOutOfFds("file descriptors low: data listener paused, the control socket keeps its "
                 "reserve (raise LimitNOFILE / ulimit -n)");
  for (auto& l : listeners_) {
    if (l->kind == app::Socket::kData && l->ev && !accept_paused_)
      on ? event_add(l->ev.get(), nullptr) : event_del(l->ev.get());
  }
}

void Server::start() {
  measureDescriptors();
  for (auto& l : listeners_) {
    l->ev.reset(event_new(base_, l->socket.fd(), EV_READ | EV_PERSIST, &Server::onAccept, l.get()));
    event_add(l->ev.get(), nullptr);
  }
  timeval one_second{1, 0};
  event_add(sweep_ev_.get(), &one_second);
}

void Server::onAccept(int, short, void* arg) {
  auto* listener = static_cast<Listener*>(arg);
  listener->server->accept(*listener);
}

void Server::accept(Listener& listener) {
  for (int i = 0; i < kAcceptsPerWakeup; ++i) {
    if (listener.kind == app::Socket::kData && dataFull()) {
      watchData(false); // resumed from runCleanup once connections close
      return;
    }
    int fd = ::accept4(listener.socket.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        pauseAccepting();
        return;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        HF_WARN("accept failed", util::logField("error", strerror(errno)));
      return;
    }
    adopt(fd, listener.kind, listener.tcp);
  }
}

// A new FastCGI connection from the web server.
void Server::adopt(int fd, app::Socket kind, bool tcp) {
  // Push frames are small and latency-bound: no Nagle delay on tcp: listeners (skipped on
  // unix sockets, where it would be one failing system call per connection).
  int one = 1;
  if (tcp)
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  uint64_t id = ++last_conn_id_;
  auto conn = std::make_unique<Connection>(*this, id, fd, kind);
  if (!conn->start()) {
    HF_ERROR("cannot watch a new connection", {});
    return; // the destructor closes fd
  }
  ++stats_.accepted;
  ++stats_.connections[static_cast<size_t>(kind)];
  connections_.emplace(id, std::move(conn));
}

// Out of descriptors: the listen sockets stay readable, so a level-triggered accept would spin.
// Stop watching them for a moment; connections wait in the kernel backlog meanwhile.
void Server::pauseAccepting() {
  if (accept_paused_)
    return;
  accept_paused_ = true;
  warnOutOfFds("out of file descriptors: accepting paused for 100 ms (raise LimitNOFILE / "
               "ulimit -n)");
  for (auto& l : listeners_) {
    if (l->ev)
      event_del(l->ev.get());
  }
  timeval pause{0, 100 * 1000};
  evtimer_add(accept_pause_ev_.get(), &pause);
}

// At most one warning every 10 s, with the number of pauses it stands for.
void Server::warnOutOfFds(const char* what) {
  int64_t now = clock_.nowMs();
  if (last_fd_warning_ms_ != 0 && now - last_fd_warning_ms_ < kFdWarningIntervalMs) {
    ++fd_warnings_suppressed_;
    return;
  }
  HF_WARN(what, util::logField("connections", static_cast<long long>(connections_.size())) +
                    util::logField("pauses_since_last_warning",
                                   static_cast<long long>(fd_warnings_suppressed_)));
  last_fd_warning_ms_ = now;
  fd_warnings_suppressed_ = 0;
}

void Server::onAcceptPauseEnd(int, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  self->accept_paused_ = false;
  if (self->shutting_down_)
    return;
  for (auto& l : self->listeners_) {
    if (l->ev && !(l->kind == app::Socket::kData && self->data_paused_))
      event_add(l->ev.get(), nullptr);
  }
}

void Server::closeListeners() {
  for (auto& l : listeners_) {
    l->ev.reset();
    if (handing_over_ || handed_over_)
      l->socket.release(); // the successor serves the socket files now
    else
      l->socket.close();
  }
}

Connection* Server::connection(uint64_t id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.get();
}

app::Request* Server::find(app::RequestRef ref) {
  Connection* conn = connection(ref.conn_id);
  return conn ? conn->findBySerial(ref.serial) : nullptr;
}

// ---- deferred work ----

void Server::scheduleRelease(uint64_t conn_id, uint64_t serial) {
  pending_release_.emplace_back(conn_id, serial);
  event_active(cleanup_ev_.get(), EV_TIMEOUT, 0);
}

void Server::scheduleClose(uint64_t conn_id) {
  pending_close_.push_back(conn_id);
  event_active(cleanup_ev_.get(), EV_TIMEOUT, 0);
}

void Server::onCleanup(int, short, void* arg) {
  static_cast<Server*>(arg)->runCleanup();
}

void Server::scheduleFlush(uint64_t conn_id, bool first) {
  if (pending_flush_.empty() && pending_flush_first_.empty())
    event_active(flush_ev_.get(), EV_TIMEOUT, 0);
  (first ? pending_flush_first_ : pending_flush_).push_back(conn_id);
}

// End of a loop pass: every connection that queued output writes it once, control connections
// first. A connection that queues more while this runs (none should) is flushed next pass.
void Server::onFlush(int, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  self->flushAll(self->pending_flush_first_);
  self->flushAll(self->pending_flush_);
}

void Server::flushAll(std::vector<uint64_t>& pending) {
  std::vector<uint64_t> ids;
  ids.swap(pending);
  for (uint64_t id : ids) {
    if (Connection* c = connection(id))
      c->flush();
  }
  ids.clear();
  if (pending.empty())
    pending.swap(ids); // keep the capacity for the next pass
}

// Releases finished requests and tears down closed connections, outside of any connection's
// own callback and outside of any fan-out.
void Server::runCleanup() {
  while (!pending_release_.empty() || !pending_close_.empty()) {
    releaseAll();
    closeAll();
  }
  if (data_paused_ && !dataFull() && !shutting_down_)
    watchData(true);
}

void Server::releaseAll() {
  auto releases = std::move(pending_release_);
  pending_release_.clear();
  for (auto [conn_id, serial] : releases) {
    if (Connection* c = connection(conn_id))
      c->release(serial);
  }
}

void Server::closeAll() {
  auto closes = std::move(pending_close_);
  pending_close_.clear();
  for (uint64_t id : closes) {
    auto it = connections_.find(id);
    if (it == connections_.end())
      continue;
    it->second->teardown();
    --stats_.connections[static_cast<size_t>(it->second->kind())];
    connections_.erase(it);
  }
}

// ---- timers: one libevent timer for the earliest of a heap of (deadline, id) entries ----

void Server::addTimer(int64_t deadline_ms, app::RequestRef ref, app::TimerKind kind) {
  bool earliest = timers_.empty() || deadline_ms < timers_.top().deadline;
  timers_.push(Timer{deadline_ms, ref, kind});
  if (earliest)
    armTimer();
}

void Server::armTimer() {
  if (timers_.empty()) {
    evtimer_del(timer_ev_.get());
    return;
  }
  int64_t delay = std::max<int64_t>(0, timers_.top().deadline - clock_.nowMs());
  timeval tv{static_cast<time_t>(delay / 1000), static_cast<suseconds_t>((delay % 1000) * 1000)};
  evtimer_add(timer_ev_.get(), &tv);
}

void Server::onTimer(int, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  int64_t now = self->clock_.nowMs();
  while (!self->timers_.empty() && self->timers_.top().deadline <= now) {
    Timer t = self->timers_.top();
    self->timers_.pop();
    self->fireTimer(t);
  }
  self->armTimer();
}

// The held request `ref` names while it still waits for its answer, or nullptr.
app::Held* Server::liveHeld(app::RequestRef ref) {
  Connection* conn = connection(ref.conn_id);
  FcgiRequest* r = conn && !conn->isClosed() ? conn->findBySerial(ref.serial) : nullptr;
  return r && r->held && !r->held->done() ? &*r->held : nullptr;
}

void Server::addConnectionTimer(int64_t deadline_ms, uint64_t conn_id) {
  addTimer(deadline_ms, app::RequestRef{conn_id, 0}, app::TimerKind::kPollTimeout);
}

void Server::fireTimer(const Timer& timer) {
  if (timer.ref.serial == 0) {
    if (Connection* conn = connection(timer.ref.conn_id))
      conn->onRequestTimer(clock_.nowMs());
    return;
  }
  app::Held* held = liveHeld(timer.ref);
  if (!held)
    return; // a normal miss: the request ended before its timer
  switch (timer.kind) {
  case app::TimerKind::kPollTimeout:
    held->onPollTimeout();
    break;
  case app::TimerKind::kStream:
    held->onStreamTimer();
    break;
  }
}

void Server::onSweep(int, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  self->engine_.sweep();
  self->sessions_.expire();
  self->compactTimers();
}

// Answered requests leave their timer entries behind until the deadline; when most entries
// are such leftovers, drop them (bounded by request rate x poll_timeout otherwise).
void Server::compactTimers() {
  if (timers_.size() < 1024 || timers_.size() < 4 * stats_.heldTotal())
    return;
  std::vector<Timer> live;
  while (!timers_.empty()) {
    const Timer& t = timers_.top();
    if (t.ref.serial == 0 ? connection(t.ref.conn_id) != nullptr : liveHeld(t.ref) != nullptr)
      live.push_back(t);
    timers_.pop();
  }
  timers_ = decltype(timers_)(std::greater<Timer>(), std::move(live));
  armTimer();
}

// ---- shutdown and reload ----

void Server::beginShutdown() {
  if (shutting_down_)
    return;
  shutting_down_ = true;
  HF_INFO("shutting down", util::logField("held", static_cast<long long>(stats_.heldTotal())));
  closeListeners();
  for (auto& [id, conn] : connections_) {
    conn->forEachRequest([](FcgiRequest& r) {
      if (r.held && !r.held->done())
        r.held->reconnect("shutdown");
    });
  }
  shutdown_deadline_ = clock_.nowMs() + kShutdownGraceMs;
  timeval tick{0, 20 * 1000};
  event_add(shutdown_ev_.get(), &tick);
}

void Server::onShutdownTick(int, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  bool flushed = true;
  for (auto& [id, conn] : self->connections_)
    flushed = flushed && conn->pendingOutput() == 0;
  if (flushed || self->clock_.nowMs() >= self->shutdown_deadline_) {
    event_del(self->shutdown_ev_.get());
    event_base_loopexit(self->base_, nullptr);
  }
}

void Server::reload() {
  config::Config fresh;
  auto result = config::load(reload_args_, fresh);
  if (!result.ok) {
    for (const auto& e : result.errors)
      HF_ERROR("reload rejected", util::logField("error", e));
    return;
  }
  if (fresh.control != config_.control || fresh.data != config_.data ||
      fresh.control_mount != config_.control_mount || fresh.data_mount != config_.data_mount)
    HF_WARN("reload: listeners and mounts change only on restart", {});
  if (fresh.redis != config_.redis || fresh.redis_password_file != config_.redis_password_file)
    HF_WARN("reload: the redis settings change only on restart", {});
  fresh.redis = config_.redis;
  fresh.redis_password_file = config_.redis_password_file;
  fresh.control = config_.control;
  fresh.data = config_.data;
  fresh.control_mount = config_.control_mount;
  fresh.data_mount = config_.data_mount;
  config_ = std::move(fresh);
  engine_.setLimits(engine::hubLimits(config_));
  sessions_.setTtl(sessionTtlMs(config_));
  sessions_.directory().setTtl(sessionTtlMs(config_));
  util::LogLevel level;
  if (util::parseLogLevel(config_.log_level, level))
    util::setLogLevel(level);
  HF_INFO("configuration reloaded", {});
}

// ---- hand-over restart (SIGUSR2) ----

void Server::watchListeners(bool on) {
  for (auto& l : listeners_) {
    if (!l->ev || (on && l->kind == app::Socket::kData && data_paused_))
      continue;
    on ? event_add(l->ev.get(), nullptr) : event_del(l->ev.get());
  }
}

void Server::beginHandover() {
  if (shutting_down_ || handing_over_)
    return;
  handing_over_ = true;
  watchListeners(false); // new connections wait in the backlog for the successor
  if (!spawnSuccessor())
    endHandover(false);
}

// Saves the state for the successor and starts it; false (logged) when either fails.
bool Server::spawnSuccessor() {
  if (release_state_ && !release_state_()) {
    HF_ERROR("hand-over cancelled: the state could not be saved", {});
    return false;
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    HF_ERROR("hand-over cancelled", util::logField("error", strerror(errno)));
    return false;
  }
  int control = -1, data = -1;
  for (auto& l : listeners_)
    (l->kind == app::Socket::kControl ? control : data) = l->socket.fd();
  std::string error;
  successor_pid_ = server::spawnSuccessor(selfPath(), reload_args_, control, data, fds[1], error);
  ::close(fds[1]);
  if (successor_pid_ < 0) {
    ::close(fds[0]);
    HF_ERROR("hand-over cancelled", util::logField("error", error));
    return false;
  }
  ready_fd_ = fds[0];
  ready_ev_.reset(event_new(base_, ready_fd_, EV_READ, &Server::onSuccessorReady, this));
  event_add(ready_ev_.get(), nullptr);
  HF_INFO("hand-over: successor started", util::logField("pid", successor_pid_));
  return true;
}

// The successor wrote its ready byte (it serves), or closed the pipe without it (it died).
void Server::onSuccessorReady(int fd, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  char byte = 0;
  ssize_t n = ::read(fd, &byte, 1);
  self->endHandover(n == 1);
}

void Server::endHandover(bool successor_serves) {
  ready_ev_.reset();
  if (ready_fd_ >= 0)
    ::close(ready_fd_);
  ready_fd_ = -1;
  if (successor_serves) {
    HF_INFO("hand-over: the successor serves; draining", util::logField("pid", successor_pid_));
    handed_over_ = true;
    beginShutdown();
    return;
  }
  if (successor_pid_ > 0) {
    int status = 0;
    waitpid(successor_pid_, &status, 0);
    HF_ERROR("hand-over failed: the successor exited before serving; this process goes on",
             util::logField("status", status));
  }
  successor_pid_ = -1;
  if (reclaim_state_)
    reclaim_state_();
  handing_over_ = false;
  watchListeners(true);
}

} // namespace holdfast::server
