// Time source injected into the pure cores so tests control time without sleeping.
#pragma once

#include <cstdint>

namespace holdfast::util {

// Milliseconds. `now()` is monotonic (timeouts, ages); `wallMs()` is Unix time (message "time").
class Clock {
public:
  virtual ~Clock() = default;
  virtual int64_t nowMs() const = 0;
  virtual int64_t wallMs() const = 0;
};

// Real clock: CLOCK_MONOTONIC and CLOCK_REALTIME.
class SystemClock final : public Clock {
public:
  int64_t nowMs() const override;
  int64_t wallMs() const override;
};

// Test clock: starts at a fixed point and only moves when told to.
class FakeClock final : public Clock {
public:
  explicit FakeClock(int64_t start_ms = 1'000'000) : now_(start_ms), wall_(1'700'000'000'000) {}
  int64_t nowMs() const override { return now_; }
  int64_t wallMs() const override { return wall_ + now_; }
  void advance(int64_t ms) { now_ += ms; }

private:
  int64_t now_;
  int64_t wall_;
};

} // namespace holdfast::util
