// FastCGI connection glue: socket reads into the codec, requests, and bounded output.
#include "server/connection.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <fastcgi.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fcgi/encoder.h"
#include "server/server.h"
#include "util/log.h"

namespace holdfast::server {
namespace {
constexpr size_t kReadChunk = 16 * 1024;
constexpr int kReadsPerWakeup = 8; // fairness: other connections get a turn
constexpr size_t kMaxParts = 8;
} // namespace

Connection::Connection(Server& server, uint64_t id, int fd, app::Socket kind)
    : server_(server), id_(id), fd_(fd), kind_(kind) {}

Connection::~Connection() {
  teardown();
  if (read_ev_set_)
    event_del(&read_ev_); // embedded event: removed from the loop, nothing to free
}

bool Connection::start() {
  if (event_assign(&read_ev_, server_.base(), fd_, EV_READ | EV_PERSIST, &Connection::onReadable,
                   this) != 0)
    return false;
  read_ev_set_ = true;
  return event_add(&read_ev_, nullptr) == 0;
}

void Connection::onReadable(int, short, void* arg) {
  static_cast<Connection*>(arg)->readSome();
}

void Connection::onWritable(int, short, void* arg) {
  static_cast<Connection*>(arg)->flush();
}

void Connection::readSome() {
  char buf[kReadChunk];
  for (int i = 0; i < kReadsPerWakeup && state_ != ConnState::kClosed; ++i) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n == 0) {
      close("eof");
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        break;
      if (errno == EINTR)
        continue;
      close("read error");
      return;
    }
    if (!parser_.feed(std::string_view(buf, static_cast<size_t>(n)), *this)) {
      ++server_.stats().protocol_errors;
      HF_WARN("closing connection after a FastCGI protocol error",
              util::logField("conn", static_cast<long long>(id_)) +
                  util::logField("error", parser_.error()));
      close("protocol error");
      return;
    }
    if (static_cast<size_t>(n) < sizeof buf)
      break;
  }
  watchIncomplete();
}

bool Connection::incomplete() const {
  if (!parser_.idle())
    return true;
  for (const auto& r : requests_) {
    if (r->state == FcgiRequest::State::kParams || r->state == FcgiRequest::State::kBody)
      return true;
  }
  return false;
}

// A partial record or an unfinished request starts the request_timeout clock; finishing it
// stops the clock (the timer entry then finds nothing to do).
void Connection::watchIncomplete() {
  if (state_ == ConnState::kClosed || !incomplete()) {
    incomplete_since_ = 0;
    return;
  }
  if (incomplete_since_ != 0)
    return;
  incomplete_since_ = server_.nowMs();
  server_.addConnectionTimer(incomplete_since_ + timeoutMs(), id_);
}

int64_t Connection::timeoutMs() const {
  return static_cast<int64_t>(server_.config().request_timeout) * 1000;
}

void Connection::onRequestTimer(int64_t now_ms) {
  if (incomplete_since_ == 0 || state_ == ConnState::kClosed)
    return;
  if (now_ms - incomplete_since_ < timeoutMs()) {
    server_.addConnectionTimer(incomplete_since_ + timeoutMs(), id_);
    return;
  }
  ++server_.stats().timeouts;
  HF_WARN("closing a connection whose request did not arrive within request_timeout",
          util::logField("conn", static_cast<long long>(id_)));
  close("request timeout");
}

// Reports the change of this connection's queued bytes to the server-wide total.
void Connection::accountOutput() {
  size_t now = pendingOutput();
  server_.noteOutput(static_cast<int64_t>(now) - static_cast<int64_t>(accounted_output_));
  accounted_output_ = now;
}

FcgiRequest* Connection::find(uint16_t fcgi_id) {
  for (auto& r : requests_) {
    if (r->fcgi_id == fcgi_id && r->state != FcgiRequest::State::kDone)
      return r.get();
  }
  return nullptr;
}

FcgiRequest* Connection::findBySerial(uint64_t serial) {
  for (auto& r : requests_) {
    if (r->serial == serial)
      return r.get();
  }
  return nullptr;
}

void Connection::answerUnknownRole(uint16_t id) {
  std::string out;
  fcgi::appendEndRequest(out, id, 0, FCGI_UNKNOWN_ROLE);
  writeRecords(0, {}, out);
  parser_.endRequest(id);
}

void Connection::onBeginRequest(uint16_t id, uint16_t role, bool keep_conn) {
  if (state_ == ConnState::kClosed)
    return; // closed while this buffer was being parsed: nothing more is dispatched
  if (role != FCGI_RESPONDER) {
    answerUnknownRole(id);
    return;
  }
  requests_.push_back(std::make_unique<FcgiRequest>(*this, server_.nextSerial(), id, keep_conn));
}

void Connection::onParam(uint16_t id, std::string_view name, std::string_view value) {
  FcgiRequest* r = find(id);
  if (!r)
    return;
  // Only the params Holdfast reads are kept; the rest are dropped here.
  if (name == "REQUEST_METHOD")
    r->in->method.assign(value);
  else if (name == "REQUEST_URI")
    r->in->request_uri.assign(value);
  else if (name == "CONTENT_TYPE")
    r->in->content_type.assign(value);
  else if (name == "HTTP_AUTHORIZATION")
    r->in->authorization.assign(value);
  else if (name == "HTTP_LAST_EVENT_ID")
    r->in->last_event_id.assign(value);
  else if (name == "HTTP_ORIGIN")
    r->origin.assign(value);
  else if (name == "HTTP_ACCEPT")
    r->in->accept.assign(value);
  else if (name == "REMOTE_ADDR")
    r->in->remote_addr.assign(value);
}

void Connection::onParamsTooLarge(uint16_t id) {
  if (FcgiRequest* r = find(id))
    r->params_too_large = true;
}

void Connection::onParamsEnd(uint16_t id) {
  if (FcgiRequest* r = find(id))
    r->state = FcgiRequest::State::kBody;
}

void Connection::onStdin(uint16_t id, std::string_view data) {
  FcgiRequest* r = find(id);
  if (!r || r->body_too_large)
    return;
  // The body limit is enforced while reading: Apache streams chunked bodies with no
  // CONTENT_LENGTH, so the length is only known at the end.
  if (r->in->body.size() + data.size() > server_.config().max_body) {
    r->body_too_large = true;
    std::string().swap(r->in->body);
    return;
  }
  r->in->body.append(data);
}

void Connection::onStdinEnd(uint16_t id) {
  FcgiRequest* r = find(id);
  if (!r || r->state == FcgiRequest::State::kActive || state_ == ConnState::kClosed)
    return;
  r->state = FcgiRequest::State::kActive;
  server_.dispatch(*this, *r);
}

void Connection::onAbortRequest(uint16_t id) {
  FcgiRequest* r = find(id);
  if (!r)
    return;
  if (r->held && !r->held->done()) {
    ++server_.stats().dropped_gone;
    r->held->abandon();
  }
  finish(*r);
}

void Connection::onGetValues(const std::vector<std::string>& names) {
  std::vector<std::pair<std::string, std::string>> values;
  for (const auto& n : names) {
    if (n == FCGI_MAX_CONNS)
      values.emplace_back(n, std::to_string(server_.config().max_connections));
    else if (n == FCGI_MAX_REQS)
      values.emplace_back(n, std::to_string(server_.config().max_connections));
    else if (n == FCGI_MPXS_CONNS)
      values.emplace_back(n, "1");
  }
  std::string out;
  fcgi::appendGetValuesResult(out, values);
  writeRecords(0, {}, out);
}

void Connection::onUnknownType(uint8_t type) {
  std::string out;
  fcgi::appendUnknownType(out, type);
  writeRecords(0, {}, out);
}

void Connection::send(FcgiRequest& request, std::initializer_list<std::string_view> parts,
                      bool finish) {
  if (request.state == FcgiRequest::State::kDone)
    return;
  if (!finish) {
    writeRecords(request.fcgi_id, parts, {});
    return;
  }
  std::string end;
  fcgi::appendEndOfStdout(end, request.fcgi_id);
  fcgi::appendEndRequest(end, request.fcgi_id, 0, FCGI_REQUEST_COMPLETE);
  writeRecords(request.fcgi_id, parts, end);
  markFinished(request);
}

void Connection::markFinished(FcgiRequest& request) {
  request.state = FcgiRequest::State::kDone;
  parser_.endRequest(request.fcgi_id);
  server_.scheduleRelease(id_, request.serial);
  if (!request.keep_conn && state_ == ConnState::kOpen)
    state_ = ConnState::kDraining;
  maybeFinishDraining();
}

// Builds STDOUT records around the parts without copying them (header, data, padding iovecs).
// When a part is larger than one record, everything is encoded into one string instead.
void Connection::writeRecords(uint16_t fcgi_id, std::initializer_list<std::string_view> parts,
                              std::string_view tail) {
  if (state_ == ConnState::kClosed)
    return;
  static const char kZeros[8] = {};
  bool fits = parts.size() <= kMaxParts;
  for (std::string_view part : parts)
    fits = fits && part.size() <= fcgi::kMaxContent;
  iovec iov[kMaxParts * 3 + 1];
  std::array<unsigned char, 8> headers[kMaxParts];
  std::string encoded;
  int n = 0;
  size_t total = 0;
  size_t h = 0;
  for (std::string_view part : parts) {
    if (part.empty())
      continue;
    if (!fits) {
      fcgi::appendStdout(encoded, fcgi_id, part);
      continue;
    }
    uint8_t pad = fcgi::paddingFor(part.size());
    headers[h] = fcgi::recordHeader(FCGI_STDOUT, fcgi_id, static_cast<uint16_t>(part.size()), pad);
    iov[n++] = {headers[h].data(), 8};
    iov[n++] = {const_cast<char*>(part.data()), part.size()};
    if (pad)
      iov[n++] = {const_cast<char*>(kZeros), pad};
    total += 8 + part.size() + pad;
    ++h;
  }
  if (!fits) {
    encoded.append(tail);
    iov[n++] = {encoded.data(), encoded.size()};
    total += encoded.size();
  } else if (!tail.empty()) {
    iov[n++] = {const_cast<char*>(tail.data()), tail.size()};
    total += tail.size();
  }
  if (n > 0)
    writeVector(iov, n, total);
}

size_t Connection::pendingOutput() const {
  return (direct_ ? direct_->size() : 0) + (outq_ ? evbuffer_get_length(outq_.get()) : 0);
}

// Output is corked for the rest of the current loop pass: bytes are appended to the queue and
// the server flushes every connection that has output once, after the callbacks that are ready
// now have run. A fan-out of several publishes that arrived together then costs one write per
// subscriber, not one per message.
void Connection::writeVector(iovec* iov, int count, size_t total) {
  bool was_empty = pendingOutput() == 0;
  spillDirect(0);
  if (!outq_)
    outq_.reset(evbuffer_new());
  for (int i = 0; i < count; ++i)
    evbuffer_add(outq_.get(), iov[i].iov_base, iov[i].iov_len);
  (void)total;
  afterQueue(was_empty);
}

void Connection::sendShared(FcgiRequest& request, const app::SharedBytes& content, bool finish) {
  if (request.state == FcgiRequest::State::kDone)
    return;
  queueShared(server_.sharedRecords().get(content, request.fcgi_id, finish));
  if (finish)
    markFinished(request);
}

// With nothing else queued the records become the direct item; behind other output they join
// the evbuffer as a reference. Either way no byte is copied here.
void Connection::queueShared(const app::SharedBytes& records) {
  if (state_ == ConnState::kClosed)
    return;
  bool was_empty = pendingOutput() == 0;
  if (was_empty && !blocked_) {
    direct_ = records;
  } else {
    spillDirect(0);
    addReference(records, 0);
  }
  afterQueue(was_empty);
}

// Appends bytes[from..] to outq_ by reference; the evbuffer holds a reference to the shared
// bytes until it has written them (or is freed).
void Connection::addReference(const app::SharedBytes& bytes, size_t from) {
  if (!outq_)
    outq_.reset(evbuffer_new());
  auto* keep = new app::SharedBytes(bytes);
  auto release = [](const void*, size_t, void* extra) {
    delete static_cast<app::SharedBytes*>(extra);
  };
  if (evbuffer_add_reference(outq_.get(), bytes->data() + from, bytes->size() - from, release,
                             keep) != 0)
    delete keep;
}

// Moves what is left of the direct item (after `written` bytes) into outq_. outq_ is empty
// whenever there is a direct item, so order is kept.
void Connection::spillDirect(size_t written) {
  if (!direct_)
    return;
  app::SharedBytes bytes = std::move(direct_);
  direct_.reset();
  if (written < bytes->size())
    addReference(bytes, written);
}

// After queueing: the slow-consumer check while the socket is blocked, else one flush at the
// end of the pass.
void Connection::afterQueue(bool was_empty) {
  accountOutput();
  if (blocked_) {
    // The socket did not take the last flush: the client is not reading. Over its own cap, or
    // while all connections together hold more than max_output_total, the subscriber is
    // dropped rather than buffered without bound.
    if (pendingOutput() > server_.config().max_output_buffer ||
        server_.stats().output_bytes > server_.config().max_output_total) {
      dropped_slow_ = true;
      HF_INFO("dropping slow subscriber",
              util::logField("conn", static_cast<long long>(id_)) +
                  util::logField("queued", static_cast<long long>(pendingOutput())));
      close("slow consumer");
    }
    return; // the write event flushes when the socket drains
  }
  if (was_empty)
    server_.scheduleFlush(id_, kind_ == app::Socket::kControl);
}

// Writes the direct item straight from the shared bytes (one write, no copy). What the socket
// does not take moves into outq_, where flush() meets EAGAIN and arms EV_WRITE. False when
// the connection closed on a write error.
bool Connection::writeDirect() {
  ssize_t n;
  do {
    n = ::write(fd_, direct_->data(), direct_->size());
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
    close("write error");
    return false;
  }
  size_t written = n > 0 ? static_cast<size_t>(n) : 0;
  if (written == direct_->size())
    direct_.reset();
  else
    spillDirect(written);
  return true;
}

void Connection::flush() {
  if (state_ == ConnState::kClosed || (direct_ && !writeDirect()))
    return;
  while (outq_ && evbuffer_get_length(outq_.get()) > 0) {
    int n = evbuffer_write(outq_.get(), fd_);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      close("write error");
      return;
    }
    if (n > 0)
      accountOutput();
    if (n <= 0) {
      if (!write_ev_)
        write_ev_.reset(
            event_new(server_.base(), fd_, EV_WRITE | EV_PERSIST, &Connection::onWritable, this));
      if (!blocked_)
        event_add(write_ev_.get(), nullptr);
      blocked_ = true;
      accountOutput();
      return;
    }
  }
  if (blocked_) {
    event_del(write_ev_.get());
    blocked_ = false;
  }
  outq_.reset(); // idle connections keep no output buffer
  accountOutput();
  maybeFinishDraining();
}

void Connection::maybeFinishDraining() {
  if (state_ != ConnState::kDraining || pendingOutput() > 0)
    return;
  for (auto& r : requests_) {
    if (r->state != FcgiRequest::State::kDone)
      return;
  }
  close("done");
}

void Connection::close(const char* reason) {
  if (state_ == ConnState::kClosed)
    return;
  state_ = ConnState::kClosed;
  outq_.reset(); // nothing more is written once closed
  direct_.reset();
  accountOutput();
  if (read_ev_set_)
    event_del(&read_ev_);
  if (write_ev_)
    event_del(write_ev_.get());
  HF_DEBUG("connection closed",
           util::logField("conn", static_cast<long long>(id_)) + util::logField("reason", reason));
  server_.scheduleClose(id_);
}

void Connection::release(uint64_t serial) {
  for (size_t i = 0; i < requests_.size(); ++i) {
    if (requests_[i]->serial == serial) {
      requests_.erase(requests_.begin() + static_cast<long>(i));
      break;
    }
  }
  maybeFinishDraining();
}

void Connection::teardown() {
  for (auto& r : requests_) {
    if (r->held && !r->held->done() && !dropped_slow_)
      ++server_.stats().dropped_gone;
    if (r->held && !r->held->done() && dropped_slow_)
      ++server_.stats().dropped_slow;
  }
  requests_.clear();
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

// ---- FcgiRequest: the response side of app::Request on this connection ----

void FcgiRequest::write(std::initializer_list<std::string_view> parts) {
  conn_.send(*this, parts);
}

void FcgiRequest::finish(std::initializer_list<std::string_view> parts) {
  conn_.send(*this, parts, true);
}

void FcgiRequest::writeShared(const app::SharedBytes& bytes, bool finish) {
  conn_.sendShared(*this, bytes, finish);
}

bool FcgiRequest::ended() const {
  return state == State::kDone || conn_.isClosed();
}

app::RequestRef FcgiRequest::ref() const {
  return app::RequestRef{conn_.id(), serial};
}

} // namespace holdfast::server
