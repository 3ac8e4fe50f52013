// The event layer's Host services for handler tests: a map of refs to FakeRequests, recorded
// timers fired on demand by a test-driven clock, and a shutting-down flag. Header-only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "app/held.h"
#include "app/host.h"
#include "fake_request.h"

namespace holdfast::support {

class FakeHost final : public app::Host {
public:
  struct Timer {
    int64_t deadline_ms;
    app::RequestRef ref;
    app::TimerKind kind;
  };

  void addTimer(int64_t deadline_ms, app::RequestRef ref, app::TimerKind kind) override {
    timers.push_back(Timer{deadline_ms, ref, kind});
  }
  app::Request* find(app::RequestRef ref) override {
    auto it = requests.find({ref.conn_id, ref.serial});
    return it == requests.end() ? nullptr : it->second;
  }
  bool shuttingDown() const override { return shutting_down; }
  // Host::handingOver (SIGUSR2 hand-over restart).
  bool handingOver() const override { return handing_over; }

  void add(FakeRequest& request) {
    app::RequestRef r = request.ref();
    requests[{r.conn_id, r.serial}] = &request;
  }
  void remove(app::RequestRef ref) { requests.erase({ref.conn_id, ref.serial}); }

  // Fires every timer due at `now_ms`, earliest first, like server::Server::onTimer: a timer
  // whose request is gone or no longer held live is a normal miss. Timers armed while firing
  // run too if they are already due. Returns how many hooks ran.
  int fireTimers(int64_t now_ms) {
    int fired = 0;
    for (;;) {
      auto due = std::min_element(timers.begin(), timers.end(), [](const Timer& a, const Timer& b) {
        return a.deadline_ms < b.deadline_ms;
      });
      if (due == timers.end() || due->deadline_ms > now_ms)
        return fired;
      Timer t = *due;
      timers.erase(due);
      app::Request* r = find(t.ref);
      if (!r || !r->held || r->held->done())
        continue;
      ++fired;
      if (t.kind == app::TimerKind::kPollTimeout)
        r->held->onPollTimeout();
      else
        r->held->onStreamTimer();
    }
  }
  // Timers recorded for `ref` of `kind`.
  size_t timersFor(app::RequestRef ref, app::TimerKind kind) const {
    return static_cast<size_t>(std::count_if(timers.begin(), timers.end(), [&](const Timer& t) {
      return t.ref.conn_id == ref.conn_id && t.ref.serial == ref.serial && t.kind == kind;
    }));
  }

  std::map<std::pair<uint64_t, uint64_t>, app::Request*> requests;
  std::vector<Timer> timers;
  bool shutting_down = false;
  bool handing_over = false;
};

} // namespace holdfast::support
