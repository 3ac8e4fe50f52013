// libevent glue of the load generator's subscriber and publisher (see clients.hpp).
#include "clients.hpp"

#include <event2/buffer.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "payload.hpp"

namespace loadgen {

int64_t realtimeNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

bool parseSubKind(const std::string& s, SubKind& out) {
  if (s == "holdfast-longpoll")
    out = SubKind::kHoldfastLongpoll;
  else if (s == "holdfast-sse")
    out = SubKind::kHoldfastSse;
  else if (s == "nchan-longpoll")
    out = SubKind::kNchanLongpoll;
  else if (s == "nchan-sse")
    out = SubKind::kNchanSse;
  else
    return false;
  return true;
}

bool isSse(SubKind k) {
  return k == SubKind::kHoldfastSse || k == SubKind::kNchanSse;
}

namespace {

// A non-blocking TCP connection from target.source (if set) to target.server.
bufferevent* openConnection(event_base* base, const Target& t, bufferevent_data_cb rd,
                            bufferevent_data_cb wr, bufferevent_event_cb ev, void* arg) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return nullptr;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (t.source.sin_addr.s_addr != 0) {
    // Choose the port at connect time so each source address gets a full port range per
    // destination (more than ~28k connections in all).
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&t.source), sizeof t.source) != 0) {
      ::close(fd);
      return nullptr;
    }
  }
  bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    ::close(fd);
    return nullptr;
  }
  bufferevent_setcb(bev, rd, wr, ev, arg);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
  if (bufferevent_socket_connect(bev, reinterpret_cast<const sockaddr*>(&t.server),
                                 sizeof t.server) < 0) {
    bufferevent_free(bev);
    return nullptr;
  }
  return bev;
}

// Copies the input buffer out (the parser keeps its own partial-line buffer anyway).
std::string drain(bufferevent* bev) {
  evbuffer* in = bufferevent_get_input(bev);
  std::string data(evbuffer_get_length(in), '\0');
  evbuffer_remove(in, data.data(), data.size());
  return data;
}

} // namespace

// ---- Subscriber ------------------------------------------------------------------------------

Subscriber::Subscriber(event_base* base, Target target, Options opt, SubCounters& counters)
    : base_(base), target_(target), opt_(std::move(opt)), counters_(counters),
      tracker_(opt_.expect) {
  retry_ = evtimer_new(base_, retryCb, this);
  resetParser();
}

Subscriber::~Subscriber() {
  if (bev_)
    bufferevent_free(bev_);
  if (retry_)
    event_free(retry_);
}

void Subscriber::resetParser() {
  http_ = HttpResponseParser{};
  sse_ = SseParser{};
  http_.onHead = [this](const ResponseHead& h) { handleHead(h); };
  http_.onBody = [this](std::string_view b) {
    if (isSse(opt_.kind) && http_.head().status == 200)
      sse_.feed(b);
    else
      body_.append(b);
  };
  http_.onComplete = [this](const ResponseHead& h) { handleComplete(h); };
  sse_.onEvent = [this](const SseEvent& ev) {
    if (ev.hasId && !ev.id.empty())
      cursor_ = ev.id;
    handlePayloads(ev.data);
  };
}

void Subscriber::start() {
  if (bev_ || done_)
    return;
  closeRequested_ = false;
  bev_ = openConnection(base_, target_, readCb, writeCb, eventCb, this);
  if (!bev_) {
    ++counters_.connectErrors;
    dropConnection(false);
    return;
  }
  ++counters_.openNow;
}

void Subscriber::close() {
  if (inCallback_) {
    closeRequested_ = true;
    return;
  }
  if (bev_) {
    bufferevent_free(bev_);
    bev_ = nullptr;
    --counters_.openNow;
  }
  evtimer_del(retry_);
  resetParser();
  body_.clear();
}

void Subscriber::sendRequest() {
  std::string path = opt_.path;
  bool holdfast = opt_.kind == SubKind::kHoldfastLongpoll || opt_.kind == SubKind::kHoldfastSse;
  if (holdfast && !cursor_.empty())
    path += (path.find('?') == std::string::npos ? "?cursor=" : "&cursor=") + urlEncode(cursor_);
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + target_.host + "\r\n";
  if (isSse(opt_.kind))
    req += "Accept: text/event-stream\r\n";
  if (opt_.kind == SubKind::kNchanSse && !cursor_.empty())
    req += "Last-Event-ID: " + cursor_ + "\r\n";
  if (opt_.kind == SubKind::kNchanLongpoll && !lastModified_.empty()) {
    req += "If-Modified-Since: " + lastModified_ + "\r\n";
    req += "If-None-Match: " + etag_ + "\r\n";
  }
  req += "\r\n";
  body_.clear();
  awaitingWrite_ = true;
  bufferevent_write(bev_, req.data(), req.size());
}

void Subscriber::markReady() {
  if (everReady_)
    return;
  everReady_ = true;
  ++counters_.ready;
  if (onReady)
    onReady();
}

void Subscriber::handleHead(const ResponseHead& h) {
  body_.clear();
  if (isSse(opt_.kind) && h.status == 200)
    markReady();
}

void Subscriber::handleComplete(const ResponseHead& h) {
  ++counters_.responses;
  bool timeout = h.status == 304 || h.status == 408;
  if (h.status == 200 && !isSse(opt_.kind)) {
    if (opt_.kind == SubKind::kNchanLongpoll) {
      lastModified_ = std::string(h.header("last-modified"));
      etag_ = std::string(h.header("etag"));
    } else {
      std::string c = lastCursor(body_);
      if (!c.empty())
        cursor_ = c;
    }
    handlePayloads(body_);
  } else if (h.status != 200 && !timeout) {
    ++counters_.badStatus;
  }
  body_.clear();
  if (done_ || closeRequested_ || !bev_)
    return;
  if (isSse(opt_.kind) || !h.keepAlive() || (h.status != 200 && !timeout)) {
    // Stream ended, connection not reusable, or an error answer: reconnect after a pause.
    closeRequested_ = true;
    if (opt_.reconnect) {
      ++counters_.reconnects;
      timeval tv{0, h.status == 200 ? 10000 : 200000};
      evtimer_add(retry_, &tv);
    }
    return;
  }
  sendRequest();
}

void Subscriber::handlePayloads(std::string_view text) {
  forEachPayload(text, [&](uint64_t seq, int64_t t) {
    if (onPayload)
      onPayload(seq);
    SeqResult r = tracker_.record(seq);
    if (r == SeqResult::kInOrder || r == SeqResult::kOutOfOrder) {
      if (opt_.expect > 0)
        counters_.latency.add(seq, recvNs_ - t);
    }
  });
  if (opt_.expect > 0 && opt_.closeWhenComplete && tracker_.complete() && !done_) {
    closeRequested_ = true;
    finish();
  }
}

void Subscriber::finish() {
  if (done_)
    return;
  done_ = true;
  if (onDone)
    onDone();
}

void Subscriber::dropConnection(bool byPeer) {
  bool wasOpen = bev_ != nullptr;
  inCallback_ = false;
  close();
  if (done_)
    return;
  if (byPeer && wasOpen)
    ++counters_.disconnects;
  if (opt_.reconnect) {
    ++counters_.reconnects;
    timeval tv{0, 100000};
    evtimer_add(retry_, &tv);
  } else {
    finish();
  }
}

void Subscriber::readCb(bufferevent* bev, void* arg) {
  auto* s = static_cast<Subscriber*>(arg);
  s->recvNs_ = realtimeNs();
  std::string data = drain(bev);
  s->inCallback_ = true;
  bool ok = s->http_.feed(data);
  s->inCallback_ = false;
  if (!ok) {
    ++s->counters_.badStatus;
    s->dropConnection(true);
    return;
  }
  if (s->closeRequested_) {
    bool restart = evtimer_pending(s->retry_, nullptr);
    s->close();
    if (restart) {
      timeval tv{0, 10000};
      evtimer_add(s->retry_, &tv);
    }
  }
}

void Subscriber::writeCb(bufferevent*, void* arg) {
  auto* s = static_cast<Subscriber*>(arg);
  if (!s->awaitingWrite_)
    return;
  s->awaitingWrite_ = false;
  if (!isSse(s->opt_.kind))
    s->markReady();
}

void Subscriber::eventCb(bufferevent* bev, short what, void* arg) {
  auto* s = static_cast<Subscriber*>(arg);
  if (what & BEV_EVENT_CONNECTED) {
    s->sendRequest();
    return;
  }
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
    if (!(what & BEV_EVENT_EOF) && !s->everReady_ && s->http_.idle())
      ++s->counters_.connectErrors;
    s->recvNs_ = realtimeNs();
    std::string rest = drain(bev);
    s->inCallback_ = true;
    s->http_.feed(rest);
    s->http_.eof();
    s->inCallback_ = false;
    s->dropConnection(true);
  }
}

void Subscriber::retryCb(evutil_socket_t, short, void* arg) {
  auto* s = static_cast<Subscriber*>(arg);
  if (s->bev_)
    s->close();
  s->start();
}

// ---- Publisher -------------------------------------------------------------------------------

Publisher::Publisher(event_base* base, Target target, Options opt)
    : base_(base), target_(target), opt_(std::move(opt)) {
  timer_ = evtimer_new(base_, timerCb, this);
  http_.onComplete = [this](const ResponseHead& h) {
    lastAnswer_ = realtimeNs();
    if (!inFlight_.empty()) {
      rtt_.add(answered_, lastAnswer_ - inFlight_.front());
      inFlight_.pop_front();
    }
    if (h.status >= 200 && h.status < 300)
      ++ok_;
    else
      ++failed_;
    if (onAnswer)
      onAnswer(opt_.seqStart + answered_, h.status);
    ++answered_;
    if (!h.keepAlive())
      reconnectWanted_ = true;
  };
}

Publisher::~Publisher() {
  if (bev_)
    bufferevent_free(bev_);
  if (timer_)
    event_free(timer_);
}

void Publisher::start() {
  startNs_ = realtimeNs();
  connect();
}

void Publisher::connect() {
  if (bev_)
    bufferevent_free(bev_);
  http_.reset();
  sentOnConn_ = 0;
  bev_ = openConnection(base_, target_, readCb, nullptr, eventCb, this);
  if (!bev_) {
    timeval tv{0, 100000};
    evtimer_add(timer_, &tv);
  }
}

void Publisher::schedule() {
  if (sent_ >= opt_.count) {
    if (inFlight_.empty() && onDone) {
      auto cb = std::move(onDone);
      onDone = nullptr;
      cb();
    }
    return;
  }
  if (sentOnConn_ >= opt_.perConnection) {
    if (inFlight_.empty())
      connect(); // drained: start a fresh connection
    return;
  }
  while (sent_ < opt_.count && inFlight_.size() < std::max(1u, opt_.window) &&
         sentOnConn_ < opt_.perConnection) {
    if (!sendDue())
      return;
  }
}

bool Publisher::sendDue() {
  if (opt_.rate > 0) {
    int64_t due = startNs_ + static_cast<int64_t>(static_cast<double>(sent_) * 1e9 / opt_.rate);
    int64_t wait = due - realtimeNs();
    if (wait > 0) {
      timeval tv{static_cast<time_t>(wait / 1000000000),
                 static_cast<suseconds_t>((wait % 1000000000) / 1000)};
      evtimer_add(timer_, &tv);
      return false;
    }
  }
  return sendNext();
}

bool Publisher::sendNext() {
  if (!bev_)
    return false;
  uint64_t seq = opt_.seqStart + sent_;
  int64_t now = realtimeNs();
  std::string body = makePayload(seq, now);
  std::string req =
      "POST " + opt_.path + " HTTP/1.1\r\nHost: " + target_.host +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n";
  if (!opt_.authHeader.empty())
    req += opt_.authHeader + "\r\n";
  req += "\r\n" + body;
  if (firstSend_ == 0)
    firstSend_ = now;
  inFlight_.push_back(now);
  ++sent_;
  ++sentOnConn_;
  bufferevent_write(bev_, req.data(), req.size());
  return true;
}

void Publisher::readCb(bufferevent* bev, void* arg) {
  auto* p = static_cast<Publisher*>(arg);
  std::string data = drain(bev);
  if (!p->http_.feed(data)) {
    p->eventCb(bev, BEV_EVENT_ERROR, arg);
    return;
  }
  if (p->reconnectWanted_) {
    if (!p->inFlight_.empty())
      return;
    p->reconnectWanted_ = false;
    if (p->sent_ < p->opt_.count) {
      p->connect();
      return;
    }
  }
  p->schedule();
}

void Publisher::eventCb(bufferevent*, short what, void* arg) {
  auto* p = static_cast<Publisher*>(arg);
  if (what & BEV_EVENT_CONNECTED) {
    p->schedule();
    return;
  }
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
    p->failed_ += p->inFlight_.size();
    p->answered_ += p->inFlight_.size();
    p->inFlight_.clear();
    bufferevent_free(p->bev_);
    p->bev_ = nullptr;
    if (p->sent_ >= p->opt_.count) {
      p->schedule();
      return;
    }
    timeval tv{0, 100000};
    evtimer_add(p->timer_, &tv);
  }
}

void Publisher::timerCb(evutil_socket_t, short, void* arg) {
  auto* p = static_cast<Publisher*>(arg);
  if (!p->bev_) {
    p->connect();
    return;
  }
  p->schedule();
}

} // namespace loadgen
