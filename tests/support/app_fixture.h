// A whole application context for handler tests: clock, randomness, config, memory engine,
// sessions, counters, frame cache, FakeHost and app::Context, plus helpers that build
// data-socket and control-socket requests and route them as the event layer would.
// Header-only.
//
// Member order matters: requests are declared last so they (and their Held subscribers) die
// first, while the engine, sessions and counters they unsubscribe from still exist.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/context.h"
#include "app/frame_cache.h"
#include "app/router.h"
#include "config/config.h"
#include "engine/memory_engine.h"
#include "fake_host.h"
#include "fake_request.h"
#include "metrics/stats.h"
#include "session/session_table.h"
#include "util/clock.h"
#include "util/random.h"

namespace holdfast::support {

// Deterministic tokens shaped like SecureRandom's (ceil(8n/6) base64url chars), so session ids
// pass SessionTable::isValidId. util::CountingRandom's short "T1", "T2", ... do not.
class PaddedRandom final : public util::Random {
public:
  std::string token(size_t bytes) override {
    std::string t = "S" + std::to_string(++n_);
    size_t want = (bytes * 8 + 5) / 6;
    if (t.size() < want)
      t.append(want - t.size(), 'x');
    return t;
  }

private:
  unsigned n_ = 0;
};

constexpr const char* kPublishKey = "secret-key";
constexpr const char* kTokenKey = "token-key";
constexpr const char* kOrigin = "https://app.example";

// One request as a test describes it. `authorization` nullopt = "Bearer <publish key>" on the
// control socket and none on the data socket.
struct RequestSpec {
  std::string method = "GET";
  std::string uri;
  std::string body;
  std::string content_type;
  std::optional<std::string> authorization;
  std::string accept;
  std::string last_event_id;
  std::string origin;
  bool body_too_large = false;
  bool params_too_large = false;
};

// Headers of a data-socket GET.
struct DataHeaders {
  std::string accept;
  std::string last_event_id;
  std::string origin;
};
// (GCC warns about designated initializers that skip members, so build DataHeaders with these.)
inline DataHeaders withAccept(std::string accept) {
  DataHeaders h;
  h.accept = std::move(accept);
  return h;
}
inline DataHeaders withLastEventId(std::string id) {
  DataHeaders h;
  h.last_event_id = std::move(id);
  return h;
}
inline DataHeaders withOrigin(std::string origin) {
  DataHeaders h;
  h.origin = std::move(origin);
  return h;
}

class AppFixture {
public:
  using Tweak = std::function<void(config::Config&)>;

  // The test config: publish_key, token_key, an allowed origin and the client_publish pattern
  // "room.*"; `tweak` changes it before the engine is built from it.
  // `shared_engine`: handlers use that engine instead of this fixture's own (two fixtures as two
  // nodes of one store, for the shared session directory tests).
  explicit AppFixture(const Tweak& tweak = {}, engine::Engine* shared_engine = nullptr)
      : config(makeConfig(tweak)), engine(engine::hubLimits(config), clock, random),
        sessions(clock, session_random, static_cast<int64_t>(config.session_ttl) * 1000),
        ctx{shared_engine ? *shared_engine : engine,
            sessions,
            config,
            clock,
            random,
            stats,
            frames,
            host} {
    stats.started_ms = clock.nowMs();
  }

  static config::Config makeConfig(const Tweak& tweak) {
    config::Config c;
    c.publish_key = kPublishKey;
    c.token_key = kTokenKey;
    c.allowed_origins = {kOrigin};
    c.client_publish = {"room.*"};
    if (tweak)
      tweak(c);
    return c;
  }

  // A request that is registered with the host but not routed yet.
  FakeRequest& make(app::Socket socket, const RequestSpec& spec) {
    ++next_id_;
    requests.push_back(std::make_unique<FakeRequest>(1000 + next_id_, next_id_));
    FakeRequest& r = *requests.back();
    r.in->method = spec.method;
    r.in->request_uri = spec.uri;
    r.in->body = spec.body;
    r.in->content_type = spec.content_type;
    if (spec.authorization)
      r.in->authorization = *spec.authorization;
    else if (socket == app::Socket::kControl)
      r.in->authorization = std::string("Bearer ") + kPublishKey;
    r.in->accept = spec.accept;
    r.in->last_event_id = spec.last_event_id;
    r.in->remote_addr = "127.0.0.1";
    r.origin = spec.origin;
    r.body_too_large = spec.body_too_large;
    r.params_too_large = spec.params_too_large;
    host.add(r);
    return r;
  }

  FakeRequest& send(app::Socket socket, const RequestSpec& spec) {
    FakeRequest& r = make(socket, spec);
    app::route(ctx, r, socket);
    return r;
  }

  // GET on the data socket.
  FakeRequest& get(const std::string& uri, const DataHeaders& h = {}) {
    RequestSpec spec;
    spec.uri = uri;
    spec.accept = h.accept;
    spec.last_event_id = h.last_event_id;
    spec.origin = h.origin;
    return send(app::Socket::kData, spec);
  }

  // A control-socket request (authorization nullopt = the right Bearer key).
  FakeRequest& control(const std::string& method, const std::string& uri,
                       const std::string& body = "", const std::string& content_type = "",
                       std::optional<std::string> authorization = std::nullopt) {
    RequestSpec spec;
    spec.method = method;
    spec.uri = uri;
    spec.body = body;
    spec.content_type = content_type;
    spec.authorization = std::move(authorization);
    return send(app::Socket::kControl, spec);
  }

  // POST <ctl>/pub/<channels><query> with a JSON body.
  FakeRequest& publish(const std::string& channels, const std::string& body,
                       const std::string& query = "",
                       const std::string& content_type = "application/json") {
    return control("POST", "/push/ctl/pub/" + channels + query, body, content_type);
  }

  // The epoch of `channel` ("<no channel>" before it exists), for expected ids and cursors.
  std::string epoch(const std::string& channel) const {
    const hub::Channel* ch = engine.hub().find(channel);
    return ch ? ch->epoch() : "<no channel>";
  }

  // The event layer's deferred release: finished requests drop their Held subscriber.
  void release() {
    for (auto& r : requests) {
      if (r->ended() && r->held)
        r->held.reset();
    }
  }

  // The client of `r` went away (FCGI_ABORT_REQUEST / EOF), as server::Connection handles it.
  void abort(FakeRequest& r) {
    if (r.held && !r.held->done()) {
      ++stats.dropped_gone;
      r.held->abandon();
    }
    r.gone = true;
  }

  util::FakeClock clock;
  util::CountingRandom random;
  PaddedRandom session_random;
  config::Config config;
  engine::MemoryEngine engine;
  session::SessionTable sessions;
  metrics::Stats stats;
  app::FrameCache frames;
  FakeHost host;
  app::Context ctx;
  std::vector<std::unique_ptr<FakeRequest>> requests;

private:
  uint64_t next_id_ = 0;
};

} // namespace holdfast::support
