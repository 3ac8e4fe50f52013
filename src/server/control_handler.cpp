// The control socket: routing, authorization, channel administration, sessions, stats,
// metrics and health (publishing is in publish_handler.cpp).
#include <algorithm>
#include <charconv>
#include <openssl/crypto.h>
#include <string>

#include "hub/cursor.h"
#include "server/connection.h"
#include "server/control.h"
#include "server/handlers.h"
#include "server/held.h"
#include "server/metrics.h"
#include "server/respond.h"
#include "server/server.h"
#include "server/sessions.h"
#include "server/tokens.h"
#include "transport/transport.h"
#include "util/json.h"

namespace holdfast::server {

bool authorize(Ctl& c) {
  const auto& cfg = c.server.config();
  if (cfg.trusted_control)
    return true;
  if (cfg.publish_key.empty()) {
    c.error(403, "forbidden",
            "control requests are disabled: configure publish_key or trusted_control");
    return false;
  }
  std::string_view auth = c.request.in->authorization;
  if (auth.empty()) {
    c.error(401, "unauthorized", "missing Authorization: Bearer <publish key>",
            "WWW-Authenticate: Bearer realm=\"holdfast\"\r\n");
    return false;
  }
  constexpr std::string_view kBearer = "Bearer ";
  std::string_view key =
      auth.starts_with(kBearer) ? auth.substr(kBearer.size()) : std::string_view();
  if (key.size() != cfg.publish_key.size() ||
      CRYPTO_memcmp(key.data(), cfg.publish_key.data(), key.size()) != 0) {
    c.error(403, "forbidden", "wrong publish key");
    return false;
  }
  return true;
}

// Piggyback: when the control request carries session=ID, the session's pending messages are
// added to the JSON response ("messages", "cursor", "gap"), and the session's cursor advances.
void appendPiggyback(Ctl& c, std::string& body, const std::string* id) {
  Session* s = id ? c.server.sessions().find(*id) : nullptr;
  if (!s)
    return;
  std::vector<hub::Start> starts;
  for (const auto& p : s->cursor)
    starts.push_back(hub::Start{p.channel, hub::Start::Mode::kCursor, 0, p});
  hub::ReadResult r = c.server.hub().read(starts);
  c.server.sessions().touch(*id, r.cursor, false);
  body += ",\"messages\":[";
  for (size_t i = 0; i < r.messages.size(); ++i) {
    if (i)
      body += ',';
    body += r.messages[i]->json;
  }
  body += "],\"cursor\":";
  util::appendJsonString(body, hub::formatCursor(r.cursor));
  if (!r.gaps.empty()) {
    body += ",\"gap\":[";
    for (size_t i = 0; i < r.gaps.size(); ++i) {
      if (i)
        body += ',';
      transport::appendGapObject(body, r.gaps[i]);
    }
    body += ']';
  }
  c.server.stats().delivered += r.messages.size();
}

namespace {

void appendChannelInfo(std::string& out, const hub::Channel& ch) {
  out += "{\"channel\":";
  util::appendJsonString(out, ch.name());
  out += ",\"epoch\":";
  util::appendJsonString(out, ch.epoch());
  out += ",\"messages\":" + std::to_string(ch.messages().size());
  out += ",\"bytes\":" + std::to_string(ch.bytes());
  if (ch.messages().empty()) {
    out += ",\"first_id\":null,\"last_id\":null";
  } else {
    out += ",\"first_id\":";
    util::appendJsonString(out, ch.messages().front()->id());
    out += ",\"last_id\":";
    util::appendJsonString(out, ch.messages().back()->id());
  }
  out += ",\"last_seq\":" + std::to_string(ch.lastSeq());
  out += ",\"subscribers\":" + std::to_string(ch.subscriberCount());
  out += ",\"last_publish\":";
  out += ch.lastPublishMs() ? std::to_string(ch.lastPublishMs()) : "null";
  out += '}';
}

void channels(Ctl& c, std::string_view name) {
  if (!authorize(c))
    return;
  const std::string& m = c.request.in->method;
  if (name.empty()) {
    if (m != "GET") {
      c.error(405, "method_not_allowed", "list channels with GET", "Allow: GET\r\n");
      return;
    }
    uint64_t limit = 100;
    if (const std::string* l = c.query.get("limit")) {
      auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
      if (ec != std::errc() || p != l->data() + l->size() || limit == 0 || limit > 1000) {
        c.error(400, "bad_limit", "limit must be 1..1000");
        return;
      }
    }
    const std::string* after = c.query.get("after");
    auto list = c.server.hub().list(after ? *after : "", limit + 1);
    bool more = list.size() > limit;
    if (more)
      list.pop_back();
    std::string body = "{\"channels\":[";
    for (size_t i = 0; i < list.size(); ++i) {
      if (i)
        body += ',';
      appendChannelInfo(body, *list[i]);
    }
    body += "],\"next\":";
    if (more)
      util::appendJsonString(body, list.back()->name());
    else
      body += "null";
    body += "}\n";
    c.json(200, body);
    return;
  }
  if (!hub::isValidChannelName(name)) {
    c.error(400, "bad_channel", "invalid channel name \"" + std::string(name) + "\"");
    return;
  }
  if (m == "GET") {
    const hub::Channel* ch = c.server.hub().find(name);
    if (!ch) {
      c.error(404, "no_channel", "no channel " + std::string(name));
      return;
    }
    std::string body;
    appendChannelInfo(body, *ch);
    c.json(200, body + "\n");
  } else if (m == "DELETE") {
    hub::DeleteResult deleted = c.server.hub().deleteChannel(name);
    if (deleted.status == hub::DeleteResult::Status::kUnavailable) {
      c.error(503, "unavailable", "delete could not be stored: " + deleted.error,
              "Retry-After: 1\r\n");
      return;
    }
    if (!deleted) {
      c.error(404, "no_channel", "no channel " + std::string(name));
      return;
    }
    std::string body = "{\"channel\":";
    util::appendJsonString(body, name);
    c.json(200, body + ",\"deleted\":true}\n");
  } else {
    c.error(405, "method_not_allowed", "channel info with GET, delete with DELETE",
            "Allow: GET, DELETE\r\n");
  }
}

Held* liveHeld(Server& server, const Session& s) {
  if (s.serial == 0)
    return nullptr;
  Connection* conn = server.connection(s.conn_id);
  Request* r = conn ? conn->findBySerial(s.serial) : nullptr;
  return r && r->held && !r->held->done() ? &*r->held : nullptr;
}

bool hasChannel(const hub::Cursor& cursor, std::string_view channel) {
  for (const auto& p : cursor) {
    if (p.channel == channel)
      return true;
  }
  return false;
}

// Checks a subscribe before anything changes: tokens for private channels, and the total
// number of channels (a session may not grow past max_channels_per_request).
bool mayAdd(Ctl& c, const Session& s, const Held* held, const std::vector<std::string>& chs) {
  const auto& cfg = c.server.config();
  size_t total = std::max(s.cursor.size(), held ? held->cursor().size() : 0);
  for (const auto& ch : chs) {
    if (!hasChannel(s.cursor, ch) && !(held && hasChannel(held->cursor(), ch)))
      ++total;
    if (cfg.private_prefix.empty() || !ch.starts_with(cfg.private_prefix))
      continue;
    const std::string* token = c.query.get("token");
    std::string why = "channel " + ch + " is private: a token is needed";
    if (!token || !verifySubscribeToken(cfg.token_key, *token, ch,
                                        c.server.clock().wallMs() / 1000, why)) {
      c.error(403, "bad_token", why);
      return false;
    }
  }
  if (total > cfg.max_channels_per_request) {
    c.error(400, "too_many_channels",
            "a session may hold at most " + std::to_string(cfg.max_channels_per_request) +
                " channels (max_channels_per_request)");
    return false;
  }
  return true;
}

bool changeSubscription(Ctl& c, Session& s, bool subscribe, const std::vector<std::string>& chs) {
  Held* held = liveHeld(c.server, s);
  if (subscribe && !mayAdd(c, s, held, chs))
    return false;
  hub::Hub& hub = c.server.hub();
  for (const auto& ch : chs) {
    if (subscribe) {
      hub::Position head = hub.head(ch);
      if (held && !hasChannel(held->cursor(), ch)) {
        hub.subscribe(*held, hub.touch(ch));
        held->addPosition(head);
      }
      if (!hasChannel(s.cursor, ch))
        s.cursor.push_back(head);
      continue;
    }
    if (held && hasChannel(held->cursor(), ch)) {
      if (hub::Channel* channel = hub.find(ch))
        hub.unsubscribe(*held, *channel);
      held->removePosition(ch);
    }
    std::erase_if(s.cursor, [&](const hub::Position& p) { return p.channel == ch; });
  }
  return true;
}

void session(Ctl& c, std::string_view rest) {
  auto slash = rest.find('/');
  std::string id(rest.substr(0, slash));
  std::string_view action = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  Session* s = SessionTable::isValidId(id) ? c.server.sessions().find(id) : nullptr;
  if (!s) {
    c.error(404, "unknown_session", "session " + id + " is unknown or expired");
    return;
  }
  if (c.request.in->method != "POST" && !(action.empty() && c.request.in->method == "GET")) {
    c.error(405, "method_not_allowed", "session actions take POST", "Allow: POST\r\n");
    return;
  }
  std::string body = "{\"session\":";
  util::appendJsonString(body, id);
  if (action == "close") {
    if (auto held = c.server.sessions().erase(id)) {
      Connection* conn = c.server.connection(held->conn_id);
      Request* r = conn ? conn->findBySerial(held->serial) : nullptr;
      if (r && r->held)
        r->held->closeSession();
    }
    c.json(200, body + ",\"closed\":true}\n");
    return;
  }
  if (action == "subscribe" || action == "unsubscribe") {
    const std::string* list = c.query.get("channel");
    std::string error = "missing channel parameter";
    auto chs = list
                   ? hub::parseChannelList(*list, error, c.server.config().max_channels_per_request)
                   : std::nullopt;
    if (!chs) {
      c.error(400, "bad_channel", error);
      return;
    }
    if (!changeSubscription(c, *s, action == "subscribe", *chs))
      return;
    body += ",\"channels\":[";
    for (size_t i = 0; i < s->cursor.size(); ++i) {
      if (i)
        body += ',';
      util::appendJsonString(body, s->cursor[i].channel);
    }
    body += ']';
  } else if (!action.empty()) {
    c.error(404, "not_found", "session actions: close, subscribe, unsubscribe");
    return;
  }
  appendPiggyback(c, body, &id); // GET /session/ID is a plain piggyback read
  c.json(200, body + "}\n");
}

void stats(Ctl& c) {
  if (!authorize(c))
    return;
  c.json(200, renderStatsJson(c.server));
}

void metrics(Ctl& c) {
  if (!authorize(c))
    return;
  respond(c.server, c.conn, c.request, 200, "text/plain; version=0.0.4; charset=utf-8",
          renderMetrics(c.server));
}

} // namespace

void handleControl(Server& server, Connection& conn, Request& request, const http::Target& target) {
  const std::string& mount = server.config().control_mount;
  std::string_view path = target.path;
  if (!path.starts_with(mount) || (path.size() > mount.size() && path[mount.size()] != '/')) {
    respondError(server, conn, request, 404, "not_found", "no such control route");
    return;
  }
  std::string error;
  auto query = http::parseQuery(target.query, error);
  if (!query) {
    respondError(server, conn, request, 400, "bad_query", error);
    return;
  }
  Ctl c{server, conn, request, path.substr(mount.size()), std::move(*query)};
  std::string_view r = c.route;
  bool get = request.in->method == "GET";
  if (r == "/health") {
    if (get)
      c.json(200, "{\"status\":\"ok\"}\n");
    else
      c.error(405, "method_not_allowed", "health with GET", "Allow: GET\r\n");
  } else if (r == "/pub" || r.starts_with("/pub/")) {
    if (request.in->method != "POST")
      c.error(405, "method_not_allowed", "publish with POST", "Allow: POST\r\n");
    else if (r == "/pub")
      publishBatch(c);
    else
      publish(c, r.substr(5));
  } else if (r == "/channels" || r.starts_with("/channels/")) {
    channels(c, r.size() > 10 ? r.substr(10) : std::string_view());
  } else if (r.starts_with("/session/")) {
    session(c, r.substr(9));
  } else if (r == "/stats") {
    get ? stats(c) : c.error(405, "method_not_allowed", "stats with GET", "Allow: GET\r\n");
  } else if (r == "/metrics") {
    get ? metrics(c) : c.error(405, "method_not_allowed", "metrics with GET", "Allow: GET\r\n");
  } else {
    c.error(404, "not_found", "no such control route: " + std::string(r));
  }
}

} // namespace holdfast::server
