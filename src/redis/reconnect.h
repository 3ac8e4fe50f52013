// The connection state of one Redis link, as a pure class driven by events and an injected
// clock: disconnected -> connecting -> ready, and back to disconnected with a retry delay that
// doubles from `min_ms` up to `max_ms` and resets once a connection is ready.
//
// In-flight calls: a link that leaves `kReady` completes every call it had sent with a null
// reply (hiredis does this on disconnect), which the engine turns into kUnavailable / an
// unavailable read; calls made while not ready complete at once the same way.
#pragma once

#include <cstdint>

#include "util/clock.h"

namespace holdfast::redis {

class Reconnect {
public:
  enum class State {
    kDisconnected, // no connection; the next attempt is due at nextAttemptMs()
    kConnecting,   // an attempt is under way (TCP connect, AUTH, SELECT, script loading)
    kReady,        // commands may be sent
  };

  // `clock` must outlive the state machine.
  explicit Reconnect(const util::Clock& clock, int64_t min_ms = 100, int64_t max_ms = 5000)
      : clock_(clock), min_ms_(min_ms), max_ms_(max_ms), delay_ms_(min_ms) {}

  State state() const { return state_; }
  bool ready() const { return state_ == State::kReady; }
  // True when disconnected and the retry delay has passed (at once before the first attempt).
  bool due() const { return state_ == State::kDisconnected && clock_.nowMs() >= next_ms_; }
  int64_t nextAttemptMs() const { return next_ms_; }
  // Milliseconds until the next attempt (0 when due).
  int64_t waitMs() const;
  // Delay that will follow the next failure.
  int64_t delayMs() const { return delay_ms_; }

  // An attempt starts (only from kDisconnected; ignored otherwise).
  void attempting();
  // The attempt succeeded: ready, and the delay starts again at min_ms.
  void connected();
  // The attempt failed or the ready connection was lost: disconnected, next attempt after the
  // current delay, which then doubles (capped). Returns true when a ready link was lost.
  bool lost();

  // Times the link became ready again after having been ready before.
  uint64_t reconnects() const { return reconnects_; }
  // Times a ready link was lost.
  uint64_t losses() const { return losses_; }

private:
  const util::Clock& clock_;
  int64_t min_ms_;
  int64_t max_ms_;
  int64_t delay_ms_;
  int64_t next_ms_ = 0;
  State state_ = State::kDisconnected;
  bool was_ready_ = false;
  uint64_t reconnects_ = 0;
  uint64_t losses_ = 0;
};

} // namespace holdfast::redis
