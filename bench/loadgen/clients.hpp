// libevent clients of the load generator: a subscriber (long-poll or SSE, Holdfast or Nchan
// dialect) and a publisher. Accounting and parsing live in the pure headers next to this one.
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "http_parser.hpp"
#include "latency.hpp"
#include "seq_tracker.hpp"
#include "sse_parser.hpp"

namespace loadgen {

int64_t realtimeNs();

/// Which server dialect and transport a subscriber speaks.
enum class SubKind {
  kHoldfastLongpoll, ///< JSON {"messages":[...],"cursor":...}; resume with cursor=
  kHoldfastSse,      ///< text/event-stream, id: = cursor; resume with cursor=
  kNchanLongpoll,    ///< raw body (or multipart); resume with If-Modified-Since/If-None-Match
  kNchanSse,         ///< text/event-stream, id: = message id; resume with Last-Event-ID
};
bool parseSubKind(const std::string& s, SubKind& out);
bool isSse(SubKind k);

struct Target {
  sockaddr_in server{};
  sockaddr_in source{}; ///< sin_addr 0 = let the kernel choose
  std::string host = "127.0.0.1";
};

/// Shared run-wide counters all subscribers of one process add to.
struct SubCounters {
  uint64_t ready = 0;       ///< subscribers whose first request was held (LP) / stream opened
  uint64_t openNow = 0;     ///< connections currently open
  uint64_t disconnects = 0; ///< connections the server (or an error) closed
  uint64_t reconnects = 0;
  uint64_t connectErrors = 0;
  uint64_t badStatus = 0; ///< responses other than 200 / 304 / 408
  uint64_t responses = 0;
  LatencyStats latency;
};

/// One subscriber. Owns its connection; after close() it keeps its resume state so start()
/// resumes where it left off. Not copyable; callbacks hold `this`, so it must not move.
class Subscriber {
public:
  struct Options {
    SubKind kind = SubKind::kHoldfastLongpoll;
    std::string path;      ///< request path with query (cursor is appended for Holdfast)
    uint64_t expect = 0;   ///< sequences 1..expect are tracked
    bool reconnect = true; ///< reconnect after the server closes (false: count and stay down)
    bool closeWhenComplete = true;
  };
  Subscriber(event_base* base, Target target, Options opt, SubCounters& counters);
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  void start();
  /// Closes the connection (deferred when called from inside this subscriber's callbacks).
  void close();
  void resetTracker(uint64_t expect) {
    tracker_ = SeqTracker(expect);
    opt_.expect = expect;
  }
  const SeqTracker& tracker() const { return tracker_; }
  bool isOpen() const { return bev_ != nullptr; }
  bool isReady() const { return everReady_; }
  bool done() const { return done_; }
  /// Called for every payload with its sequence (before accounting).
  std::function<void(uint64_t seq)> onPayload;
  /// Called once when the subscriber becomes ready (first request held / stream open).
  std::function<void()> onReady;
  /// Called when the subscriber ends (complete, or closed without reconnecting).
  std::function<void()> onDone;

private:
  static void readCb(bufferevent* bev, void* arg);
  static void writeCb(bufferevent* bev, void* arg);
  static void eventCb(bufferevent* bev, short what, void* arg);
  static void retryCb(evutil_socket_t, short, void* arg);
  void sendRequest();
  void handleHead(const ResponseHead& h);
  void handleComplete(const ResponseHead& h);
  void handlePayloads(std::string_view text);
  void markReady();
  void dropConnection(bool byPeer);
  void finish();
  void resetParser();

  event_base* base_;
  Target target_;
  Options opt_;
  SubCounters& counters_;
  bufferevent* bev_ = nullptr;
  event* retry_ = nullptr;
  HttpResponseParser http_;
  SseParser sse_;
  SeqTracker tracker_;
  std::string body_;
  std::string cursor_;       ///< Holdfast cursor / Nchan SSE last id
  std::string lastModified_; ///< Nchan long-poll resume
  std::string etag_;
  bool awaitingWrite_ = false;
  bool everReady_ = false;
  bool done_ = false;
  bool closeRequested_ = false;
  bool inCallback_ = false;
  int64_t recvNs_ = 0; ///< when the bytes being parsed arrived
};

/// Publishes {"seq":N,"t":NS} bodies over one keep-alive connection, paced to `rate` per second
/// (0 = as fast as the window allows), with up to `window` requests pipelined. Web servers answer
/// pipelined requests of one connection in order, so the server still sees sequence order.
class Publisher {
public:
  struct Options {
    std::string path;
    std::string authHeader; ///< full header line without CRLF, or empty
    uint64_t seqStart = 1;
    uint64_t count = 0;
    double rate = 0;
    unsigned window = 1; ///< requests in flight (HTTP/1.1 pipelining)
    /// Requests per connection before a clean reconnect. Servers close keep-alive connections
    /// after a number of requests (lighttpd: 1000) and drop what was pipelined behind the last.
    uint64_t perConnection = 500;
  };
  Publisher(event_base* base, Target target, Options opt);
  ~Publisher();
  void start();
  std::function<void()> onDone;
  /// Called after each publish got its answer.
  std::function<void(uint64_t seq, int status)> onAnswer;

  uint64_t sent() const { return sent_; }
  uint64_t ok() const { return ok_; }
  uint64_t failed() const { return failed_; }
  int64_t firstSendNs() const { return firstSend_; }
  int64_t lastAnswerNs() const { return lastAnswer_; }
  const LatencyStats& rtt() const { return rtt_; }

private:
  static void readCb(bufferevent* bev, void* arg);
  static void eventCb(bufferevent* bev, short what, void* arg);
  static void timerCb(evutil_socket_t, short, void* arg);
  void connect();
  bool sendNext();
  bool sendDue();
  void schedule();

  event_base* base_;
  Target target_;
  Options opt_;
  bufferevent* bev_ = nullptr;
  event* timer_ = nullptr;
  HttpResponseParser http_;
  uint64_t sent_ = 0, ok_ = 0, failed_ = 0;
  std::deque<int64_t> inFlight_; ///< send times of unanswered requests, oldest first
  uint64_t answered_ = 0;
  uint64_t sentOnConn_ = 0; ///< requests sent on the current connection
  int64_t firstSend_ = 0, lastAnswer_ = 0, startNs_ = 0;
  bool reconnectWanted_ = false;
  LatencyStats rtt_;
};

} // namespace loadgen
