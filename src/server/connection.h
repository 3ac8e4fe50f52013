// A FastCGI connection from the web server: reads records into the codec, keeps requests, and
// writes output with a bounded queue. Reads stay enabled while requests are held so EOF (the
// web server's only cancel signal) is noticed at once.
//
// Ownership: Server owns Connections (unique_ptr in a map keyed by id). A Connection is never
// destroyed on its own callback stack: close() marks it and asks the Server to tear it down
// from a deferred callback.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "app/request.h"
#include "fcgi/parser.h"
#include "server/event_handles.h"
#include "server/fcgi_request.h"

#include <event2/event_struct.h>

namespace holdfast::server {

class Server;

enum class ConnState : uint8_t {
  kOpen,     // reading and writing
  kDraining, // no more requests (KEEP_CONN=0 answered or shutdown); close once output is sent
  kClosed,   // fd closed or to be closed; awaiting deferred teardown
};

class Connection final : public fcgi::Visitor {
public:
  Connection(Server& server, uint64_t id, int fd, app::Socket kind);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool start(); // registers the read event
  uint64_t id() const { return id_; }
  app::Socket kind() const { return kind_; }
  ConnState state() const { return state_; }
  bool isClosed() const { return state_ == ConnState::kClosed; }

  // Output. All are no-ops once closed. Over the output cap the connection is dropped as slow.
  // Queues `parts` as STDOUT records (written at the end of the loop pass, see writeVector);
  // with `finish` also ends the request like finish().
  void send(FcgiRequest& request, std::initializer_list<std::string_view> parts,
            bool finish = false);
  // Ends the request: empty STDOUT, END_REQUEST, marks it kDone and schedules its release.
  // Without KEEP_CONN the connection drains and closes.
  void finish(FcgiRequest& request) { send(request, {}, true); }
  // As send, for bytes shared by a fan-out: their records are encoded once per FastCGI request
  // id (Server::sharedRecords) and queued by reference, never copied per connection.
  void sendShared(FcgiRequest& request, const app::SharedBytes& content, bool finish);

  // Marks the connection closed (idempotent) and schedules teardown. `gone` counts a client
  // that left while a request was held.
  void close(const char* reason);

  Server& server() { return server_; }
  FcgiRequest* findBySerial(uint64_t serial);
  // Releases one finished request (called by the Server's deferred pass).
  void release(uint64_t serial);
  // Releases every request (deferred teardown), then closes the fd.
  void teardown();
  size_t requestCount() const { return requests_.size(); }
  template <typename Fn> void forEachRequest(Fn&& fn) {
    for (auto& r : requests_)
      fn(*r);
  }
  size_t pendingOutput() const;
  // Writes queued output until done or the socket is full (then waits for EV_WRITE). Called by
  // the server's end-of-pass flush and by the write event.
  void flush();
  // The request_timeout timer entry of this connection fired at `now_ms`: closes it if a
  // partial record or unfinished request has been waiting that long.
  void onRequestTimer(int64_t now_ms);

private:
  void writeRecords(uint16_t fcgi_id, std::initializer_list<std::string_view> parts,
                    std::string_view tail);
  void markFinished(FcgiRequest& request);
  static void onReadable(int fd, short what, void* arg);
  static void onWritable(int fd, short what, void* arg);
  void readSome();
  void writeVector(iovec* iov, int count, size_t total);
  void queueShared(const app::SharedBytes& records);
  void addReference(const app::SharedBytes& bytes, size_t from);
  void spillDirect(size_t written);
  bool writeDirect();
  void afterQueue(bool was_empty);
  void maybeFinishDraining();
  bool incomplete() const;
  void watchIncomplete();
  int64_t timeoutMs() const;
  void accountOutput();
  FcgiRequest* find(uint16_t fcgi_id);
  void answerUnknownRole(uint16_t id);

  // fcgi::Visitor
  void onBeginRequest(uint16_t id, uint16_t role, bool keep_conn) override;
  void onParam(uint16_t id, std::string_view name, std::string_view value) override;
  void onParamsEnd(uint16_t id) override;
  void onParamsTooLarge(uint16_t id) override;
  void onStdin(uint16_t id, std::string_view data) override;
  void onStdinEnd(uint16_t id) override;
  void onAbortRequest(uint16_t id) override;
  void onGetValues(const std::vector<std::string>& names) override;
  void onUnknownType(uint8_t type) override;

  Server& server_;
  uint64_t id_;
  int fd_;
  app::Socket kind_;
  ConnState state_ = ConnState::kOpen;
  bool dropped_slow_ = false;
  bool blocked_ = false;         // the socket refused output; EV_WRITE is armed
  size_t accounted_output_ = 0;  // pendingOutput() as last reported to the server
  int64_t incomplete_since_ = 0; // monotonic ms; 0 = no partial record or unfinished request
  event read_ev_{};              // embedded: one allocation less per connection
  bool read_ev_set_ = false;
  EventPtr write_ev_; // created when output first backs up
  EvbufferPtr outq_;  // created when output first backs up, freed when drained
  // Shared records queued while nothing else was: written straight from the shared bytes at
  // flush. Anything queued after them moves them into outq_ first (by reference), so order holds.
  app::SharedBytes direct_;
  fcgi::Parser parser_;
  std::vector<std::unique_ptr<FcgiRequest>> requests_;
};

} // namespace holdfast::server
