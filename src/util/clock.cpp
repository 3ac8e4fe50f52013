// System clock backed by clock_gettime.
#include "util/clock.h"

#include <ctime>

namespace holdfast::util {
namespace {
int64_t readMs(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}
} // namespace

int64_t SystemClock::nowMs() const {
  return readMs(CLOCK_MONOTONIC);
}
int64_t SystemClock::wallMs() const {
  return readMs(CLOCK_REALTIME);
}

} // namespace holdfast::util
