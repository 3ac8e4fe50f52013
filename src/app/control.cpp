// Control socket routing and the small routes (health, stats, metrics).
#include "app/control.h"

#include "app/respond.h"
#include "app/session_lookup.h"
#include "app/subscribe_request.h"
#include "auth/access.h"
#include "metrics/render.h"
#include "transport/transport.h"

namespace holdfast::app {
namespace {

void methodNotAllowed(Ctl& c, std::string_view what, std::string_view allow) {
  c.error(405, "method_not_allowed", what, "Allow: " + std::string(allow) + "\r\n");
}

std::vector<metrics::Row> metricRows(Context& ctx) {
  metrics::Snapshot snap{ctx.stats, ctx.engine.stats(), ctx.sessions.size(),
                         static_cast<uint64_t>((ctx.clock.nowMs() - ctx.stats.started_ms) / 1000)};
  return metrics::collect(snap);
}

// GET-only routes that need the publish key: stats and metrics.
void readOnly(Ctl& c, std::string_view r) {
  if (c.request.in->method != "GET") {
    methodNotAllowed(c, std::string(r.substr(1)) + " with GET", "GET");
    return;
  }
  if (!c.authorize())
    return;
  if (r == "/stats")
    c.json(200, metrics::renderStatsJson(metricRows(c.ctx)));
  else
    respond(c.ctx, c.request, 200, "text/plain; version=0.0.4; charset=utf-8",
            metrics::renderPrometheus(metricRows(c.ctx)));
}

// 503 while the engine's storage (Redis) is unreachable: a load balancer should send traffic
// to a node that can store and read messages.
void health(Ctl& c) {
  if (c.request.in->method != "GET") {
    methodNotAllowed(c, "health with GET", "GET");
    return;
  }
  auto storage = c.ctx.engine.stats().storage;
  if (storage && !storage->connected)
    c.json(503, "{\"status\":\"unavailable\",\"reason\":\"redis unreachable\"}\n");
  else
    c.json(200, util::JsonWriter()
                    .startObject()
                    .key("status")
                    .string("ok")
                    .key("pid")
                    .uint(c.ctx.stats.pid)
                    .endObject()
                    .finish());
}

void pub(Ctl& c, std::string_view r) {
  if (c.request.in->method != "POST")
    methodNotAllowed(c, "publish with POST", "POST");
  else if (r == "/pub")
    publishBatch(c);
  else
    publish(c, r.substr(5));
}

void route(Ctl& c) {
  std::string_view r = c.route;
  if (r == "/health")
    health(c);
  else if (r == "/pub" || r.starts_with("/pub/"))
    pub(c, r);
  else if (r == "/channels" || r.starts_with("/channels/"))
    channels(c, r.size() > 10 ? r.substr(10) : std::string_view());
  else if (r.starts_with("/session/"))
    sessionRoute(c, r.substr(9));
  else if (r == "/stats" || r == "/metrics")
    readOnly(c, r);
  else
    c.error(404, "not_found", "no such control route: " + std::string(r));
}

} // namespace

void Ctl::error(int status, std::string_view code, std::string_view message,
                std::string_view extra) {
  respondError(ctx, request, status, code, message, extra);
}

void Ctl::json(int status, std::string_view body) {
  respondJson(ctx, request, status, body);
}

bool Ctl::authorize() {
  auth::Denial denial;
  if (auth::allowControl(ctx.config, request.in->authorization, denial))
    return true;
  error(denial.status, denial.code, denial.message, denial.extra);
  return false;
}

bool Ctl::storageUp() {
  auto storage = ctx.engine.stats().storage;
  if (!storage || storage->connected)
    return true;
  error(503, "unavailable", "message storage is unreachable; retry shortly", "Retry-After: 1\r\n");
  return false;
}

std::optional<std::string> Ctl::param(std::string_view name) const {
  const std::string* value = query.get(name);
  return value ? std::optional<std::string>(*value) : std::nullopt;
}

void handleControl(Context& ctx, Request& request, const http::Target& target) {
  const std::string& mount = ctx.config.control_mount;
  std::string_view path = target.path;
  if (!path.starts_with(mount) || (path.size() > mount.size() && path[mount.size()] != '/')) {
    respondError(ctx, request, 404, "not_found", "no such control route");
    return;
  }
  std::string error;
  auto query = http::parseQuery(target.query, error);
  if (!query) {
    respondError(ctx, request, 400, "bad_query", error);
    return;
  }
  Ctl c{ctx, request, path.substr(mount.size()), std::move(*query)};
  route(c);
}

void readPiggyback(Context& ctx, const std::optional<std::string>& session_id,
                   std::function<void(std::optional<hub::ReadResult>)> then) {
  if (!session_id || !session::SessionTable::isValidId(*session_id)) {
    then(std::nullopt);
    return;
  }
  resolveSession(ctx, *session_id, [&ctx, id = *session_id, then = std::move(then)](Resolved r) {
    if (!r.session)
      return then(std::nullopt);
    ctx.engine.read(startsAfter(r.session->cursor), [&ctx, id, then](hub::ReadResult read) {
      if (read.unavailable)
        return then(std::nullopt); // the publish itself succeeded; no piggyback this time
      if (read.too_many_channels)
        return then(std::nullopt); // the session's channels were collected and cannot come back
      ctx.sessions.touch(id, read.cursor, false);
      ctx.stats.delivered += read.messages.size();
      then(std::move(read));
    });
  });
}

void writePiggyback(Context&, util::JsonWriter& w, const hub::ReadResult& r) {
  w.key("messages").startArray();
  for (const hub::MessagePtr& m : r.messages)
    w.raw(m->json);
  w.endArray().key("cursor").string(hub::formatCursor(r.cursor));
  if (r.gaps.empty())
    return;
  w.key("gap").startArray();
  for (const hub::Gap& gap : r.gaps) {
    std::string object;
    transport::appendGapObject(object, gap);
    w.raw(object);
  }
  w.endArray();
}

} // namespace holdfast::app
