// What the handlers need from the event layer, and nothing more: timers for held requests,
// looking a request up again by its ref, and whether the process is draining.
#pragma once

#include <cstdint>

namespace holdfast::app {

class Request;
struct RequestRef;

enum class TimerKind : uint8_t {
  kPollTimeout, // long-poll hold expired: answer with a heartbeat response
  kStream,      // streaming heartbeat due, or max_stream_age reached (reconnect and end)
};

class Host {
public:
  virtual ~Host() = default;
  // Calls the held request's timer hook (Held::onPollTimeout / onStreamTimer) at
  // `deadline_ms` (monotonic) unless the request ended before.
  virtual void addTimer(int64_t deadline_ms, RequestRef ref, TimerKind kind) = 0;
  // The request `ref` names, or nullptr once it was released (a normal miss).
  virtual Request* find(RequestRef ref) = 0;
  // SIGTERM received (or a hand-over completed): control requests get 503, data requests and
  // held ones are answered with a reconnect.
  virtual bool shuttingDown() const = 0;
  // A hand-over restart is under way (SIGUSR2): the state was handed to the successor, so
  // control requests that change it (POST, DELETE) get 503 until this process stops.
  virtual bool handingOver() const { return false; }
};

} // namespace holdfast::app
