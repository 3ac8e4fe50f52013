// The link state machine (pure).
#include "redis/reconnect.h"

#include <algorithm>

namespace holdfast::redis {

void Reconnect::attempting() {
  if (state_ == State::kDisconnected)
    state_ = State::kConnecting;
}

void Reconnect::connected() {
  if (state_ != State::kConnecting)
    return;
  state_ = State::kReady;
  delay_ms_ = min_ms_;
  if (was_ready_)
    ++reconnects_;
  was_ready_ = true;
}

int64_t Reconnect::waitMs() const {
  return std::max<int64_t>(0, next_ms_ - clock_.nowMs());
}

bool Reconnect::lost() {
  bool was = state_ == State::kReady;
  if (state_ == State::kDisconnected)
    return false;
  state_ = State::kDisconnected;
  if (was) {
    ++losses_;
    delay_ms_ = min_ms_; // a dropped ready link retries quickly first
  }
  next_ms_ = clock_.nowMs() + delay_ms_;
  delay_ms_ = std::min(max_ms_, delay_ms_ * 2);
  return was;
}

} // namespace holdfast::redis
