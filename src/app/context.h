// The narrow context every handler gets instead of the whole server: the engine, sessions,
// configuration, clock, counters, the frame cache and the event layer's Host services.
//
// Ownership: the event layer owns everything referenced here and outlives every request.
#pragma once

#include "app/frame_cache.h"
#include "app/host.h"
#include "app/request.h"
#include "config/config.h"
#include "engine/engine.h"
#include "metrics/stats.h"
#include "session/session_table.h"
#include "util/clock.h"
#include "util/random.h"

namespace holdfast::app {

struct Context {
  engine::Engine& engine;
  session::SessionTable& sessions;
  const config::Config& config;
  const util::Clock& clock;
  util::Random& random;
  metrics::Stats& stats;
  FrameCache& frames;
  Host& host;

  // Runs `fn(request)` when the request `ref` names is still waiting for its answer; an engine
  // continuation whose client went away meanwhile does nothing.
  template <typename Fn> void resume(RequestRef ref, Fn&& fn) {
    Request* request = host.find(ref);
    if (request && !request->ended())
      fn(*request);
  }
};

} // namespace holdfast::app
