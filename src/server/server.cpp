// The server: listeners, connection table, timers, deferred teardown, shutdown and reload.
#include "server/server.h"

#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "http/query.h"
#include "server/handlers.h"
#include "server/held.h"
#include "server/respond.h"
#include "server/sessions.h"
#include "util/log.h"

namespace holdfast::server {
namespace {
constexpr int kAcceptsPerWakeup = 256;
constexpr int64_t kShutdownGraceMs = 3000;

hub::Limits hubLimits(const config::Config& c) {
  hub::Limits l;
  l.max_messages = c.buffer_messages;
  l.max_age_ms = static_cast<int64_t>(c.buffer_age) * 1000;
  l.max_bytes = c.buffer_bytes;
  l.memory_limit = c.memory_limit;
  l.batch_max = c.batch_max;
  return l;
}

const char* kindName(ListenerKind kind) { return kind == ListenerKind::kControl ? "control" : "data"; }
} // namespace

Server::Server(event_base* base, config::Config config, const util::Clock& clock,
               util::Random& random)
    : base_(base), config_(std::move(config)), clock_(clock), random_(random),
      hub_(hubLimits(config_), clock_, random_),
      sessions_(std::make_unique<SessionTable>(clock_, random_,
                                               static_cast<int64_t>(config_.session_ttl) * 1000)) {
  stats_.started_ms = clock_.nowMs();
  timer_ev_ = evtimer_new(base_, &Server::onTimer, this);
  cleanup_ev_ = event_new(base_, -1, 0, &Server::onCleanup, this);
  flush_ev_ = event_new(base_, -1, 0, &Server::onFlush, this);
  accept_pause_ev_ = evtimer_new(base_, &Server::onAcceptPauseEnd, this);
  sweep_ev_ = event_new(base_, -1, EV_PERSIST, &Server::onSweep, this);
  shutdown_ev_ = event_new(base_, -1, EV_PERSIST, &Server::onShutdownTick, this);
}

Server::~Server() {
  connections_.clear();
  closeListeners();
  for (event* ev : {timer_ev_, cleanup_ev_, flush_ev_, accept_pause_ev_, sweep_ev_, shutdown_ev_}) {
    if (ev)
      event_free(ev);
  }
}

bool Server::openOne(ListenerKind kind, std::vector<std::string>& errors) {
  const std::string& address = kind == ListenerKind::kControl ? config_.control : config_.data;
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
  listeners_.push_back(std::make_unique<Listener>(Listener{this, std::move(socket), kind}));
  return true;
}

bool Server::open(std::vector<std::string>& errors) {
  bool ok = openOne(ListenerKind::kControl, errors);
  ok = openOne(ListenerKind::kData, errors) && ok;
  return ok;
}

void Server::start() {
  for (auto& l : listeners_) {
    l->ev = event_new(base_, l->socket.fd(), EV_READ | EV_PERSIST, &Server::onAccept, l.get());
    event_add(l->ev, nullptr);
  }
  timeval one_second{1, 0};
  event_add(sweep_ev_, &one_second);
}

void Server::onAccept(int, short, void* arg) {
  auto* listener = static_cast<Listener*>(arg);
  listener->server->accept(*listener);
}

void Server::accept(Listener& listener) {
  for (int i = 0; i < kAcceptsPerWakeup; ++i) {
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
    // Push frames are small and latency-bound: no Nagle delay on tcp: listeners (on unix
    // sockets the call fails harmlessly).
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    uint64_t id = ++last_conn_id_;
    auto conn = std::make_unique<Connection>(*this, id, fd, listener.kind);
    if (!conn->start()) {
      HF_ERROR("cannot watch a new connection", {});
      continue;  // the destructor closes fd
    }
    ++stats_.accepted;
    ++stats_.connections[static_cast<size_t>(listener.kind)];
    connections_.emplace(id, std::move(conn));
  }
}

// Out of descriptors: the listen sockets stay readable, so a level-triggered accept would spin.
// Stop watching them for a moment; connections wait in the kernel backlog meanwhile.
void Server::pauseAccepting() {
  if (accept_paused_)
    return;
  accept_paused_ = true;
  HF_WARN("out of file descriptors: accepting paused for 100 ms (raise LimitNOFILE / ulimit -n)",
          util::logField("connections", static_cast<long long>(connections_.size())));
  for (auto& l : listeners_) {
    if (l->ev)
      event_del(l->ev);
  }
  timeval pause{0, 100 * 1000};
  evtimer_add(accept_pause_ev_, &pause);
}

void Server::onAcceptPauseEnd(int, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  self->accept_paused_ = false;
  if (self->shutting_down_)
    return;
  for (auto& l : self->listeners_) {
    if (l->ev)
      event_add(l->ev, nullptr);
  }
}

void Server::closeListeners() {
  for (auto& l : listeners_) {
    if (l->ev) {
      event_free(l->ev);
      l->ev = nullptr;
    }
    l->socket.close();
  }
}

Connection* Server::connection(uint64_t id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.get();
}

void Server::dispatch(Connection& conn, Request& request) {
  auto target = http::splitTarget(request.in->request_uri);
  if (!target) {
    respondError(*this, conn, request, 400, "bad_request", "REQUEST_URI is not a valid path");
    return;
  }
  if (shutting_down_) {
    respondError(*this, conn, request, 503, "shutting_down", "server is shutting down",
                 "Retry-After: 2\r\n");
    return;
  }
  if (request.body_too_large) {
    respondError(*this, conn, request, 413, "body_too_large",
                 "request body exceeds max_body (" + std::to_string(config_.max_body) + " bytes)");
    return;
  }
  if (conn.kind() == ListenerKind::kData &&
      stats_.connections[static_cast<size_t>(ListenerKind::kData)] > config_.max_connections) {
    respondError(*this, conn, request, 503, "overloaded",
                 "too many subscriber connections (max_connections)", "Retry-After: 5\r\n");
    return;
  }
  if (request.in->method == "OPTIONS") {
    respondPreflight(*this, conn, request);
    return;
  }
  if (conn.kind() == ListenerKind::kControl)
    handleControl(*this, conn, request, *target);
  else
    handleData(*this, conn, request, *target);
}

// ---- deferred work ----

void Server::wakeCleanup() { event_active(cleanup_ev_, EV_TIMEOUT, 0); }

void Server::scheduleRelease(uint64_t conn_id, uint64_t serial) {
  pending_release_.emplace_back(conn_id, serial);
  wakeCleanup();
}

void Server::scheduleClose(uint64_t conn_id) {
  pending_close_.push_back(conn_id);
  wakeCleanup();
}

void Server::onCleanup(int, short, void* arg) { static_cast<Server*>(arg)->runCleanup(); }

void Server::scheduleFlush(uint64_t conn_id) {
  if (pending_flush_.empty())
    event_active(flush_ev_, EV_TIMEOUT, 0);
  pending_flush_.push_back(conn_id);
}

// End of a loop pass: every connection that queued output writes it once. A connection that
// queues more while this runs (none should) is flushed on the next pass.
void Server::onFlush(int, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  std::vector<uint64_t> ids;
  ids.swap(self->pending_flush_);
  for (uint64_t id : ids) {
    if (Connection* c = self->connection(id))
      c->flush();
  }
  ids.clear();
  if (self->pending_flush_.empty())
    self->pending_flush_.swap(ids);  // keep the capacity for the next pass
}

// Releases finished requests and tears down closed connections, outside of any connection's
// own callback and outside of any fan-out.
void Server::runCleanup() {
  while (!pending_release_.empty() || !pending_close_.empty()) {
    auto releases = std::move(pending_release_);
    pending_release_.clear();
    for (auto [conn_id, serial] : releases) {
      if (Connection* c = connection(conn_id))
        c->release(serial);
    }
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
}

// ---- timers: one libevent timer for the earliest of a heap of (deadline, id) entries ----

void Server::addTimer(int64_t deadline_ms, uint64_t conn_id, uint64_t serial, TimerKind kind) {
  bool earliest = timers_.empty() || deadline_ms < timers_.top().deadline;
  timers_.push(Timer{deadline_ms, conn_id, serial, kind});
  if (earliest)
    armTimer();
}

void Server::armTimer() {
  if (timers_.empty()) {
    evtimer_del(timer_ev_);
    return;
  }
  int64_t delay = std::max<int64_t>(0, timers_.top().deadline - clock_.nowMs());
  timeval tv{static_cast<time_t>(delay / 1000), static_cast<suseconds_t>((delay % 1000) * 1000)};
  evtimer_add(timer_ev_, &tv);
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

void Server::fireTimer(const Timer& timer) {
  Connection* conn = connection(timer.conn_id);
  if (!conn || conn->isClosed())
    return;
  Request* request = conn->findBySerial(timer.serial);
  if (!request || !request->held || request->held->done())
    return;  // a normal miss: the request ended before its timer
  switch (timer.kind) {
  case TimerKind::kPollTimeout: request->held->onPollTimeout(); break;
  case TimerKind::kStream: request->held->onStreamTimer(); break;
  }
}

void Server::onSweep(int, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  self->hub_.sweep();
  self->sessions_->expire();
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
    Connection* conn = connection(t.conn_id);
    Request* r = conn && !conn->isClosed() ? conn->findBySerial(t.serial) : nullptr;
    if (r && r->held && !r->held->done())
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
    conn->forEachRequest([](Request& r) {
      if (r.held && !r.held->done())
        r.held->reconnect("shutdown");
    });
  }
  shutdown_deadline_ = clock_.nowMs() + kShutdownGraceMs;
  timeval tick{0, 20 * 1000};
  event_add(shutdown_ev_, &tick);
}

void Server::onShutdownTick(int, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  bool flushed = true;
  for (auto& [id, conn] : self->connections_)
    flushed = flushed && conn->pendingOutput() == 0;
  if (flushed || self->clock_.nowMs() >= self->shutdown_deadline_) {
    event_del(self->shutdown_ev_);
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
  fresh.control = config_.control;
  fresh.data = config_.data;
  fresh.control_mount = config_.control_mount;
  fresh.data_mount = config_.data_mount;
  config_ = std::move(fresh);
  hub_.setLimits(hubLimits(config_));
  sessions_->setTtl(static_cast<int64_t>(config_.session_ttl) * 1000);
  util::LogLevel level;
  if (util::parseLogLevel(config_.log_level, level))
    util::setLogLevel(level);
  HF_INFO("configuration reloaded", {});
}

} // namespace holdfast::server
