// The control socket's routes: publish, channels, sessions, stats, metrics, health. Each
// answers the request it is given, at once or from an engine continuation.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "app/context.h"
#include "engine/engine.h"
#include "http/query.h"
#include "util/json_writer.h"

namespace holdfast::app {

// One control request: the path below the mount and the parsed query.
struct Ctl {
  Context& ctx;
  Request& request;
  std::string_view route; // path below the control mount, starting with '/'
  http::Query query;

  void error(int status, std::string_view code, std::string_view message,
             std::string_view extra = {});
  void json(int status, std::string_view body);
  // Checks the publish key (auth::allowControl); answers 401/403 itself and returns false
  // when the request may not proceed.
  bool authorize();
  // False, after answering 503 + Retry-After, while the engine's storage (Redis) is known to
  // be unreachable; for routes whose engine answers cannot tell "unreachable" from "none".
  bool storageUp();
  // The query parameter `name`, copied (continuations outlive the query).
  std::optional<std::string> param(std::string_view name) const;
};

// Dispatches below the control mount (404 for unknown routes).
void handleControl(Context& ctx, Request& request, const http::Target& target);

// POST <ctl>/pub/<channels> and POST <ctl>/pub (batch): publish.cpp.
void publish(Ctl& c, std::string_view channel_list);
void publishBatch(Ctl& c);
// <ctl>/channels[/<ch>]: channels.cpp.
void channels(Ctl& c, std::string_view name);
// <ctl>/session/<id>[/close|subscribe|unsubscribe]: session_routes.cpp.
void sessionRoute(Ctl& c, std::string_view rest);
// A session command another node forwarded to this one (session::Directory's handler): close
// the held request, supersede it, or change its live channels. A miss does nothing.
void applyRemote(Context& ctx, const session::Command& command);

// Piggyback (DESIGN §4): when `session_id` names a live session, reads its pending messages
// (advancing the session's cursor) and passes them to `then`; otherwise passes nullopt.
void readPiggyback(Context& ctx, const std::optional<std::string>& session_id,
                   std::function<void(std::optional<hub::ReadResult>)> then);
// Writes "messages", "cursor" and "gap" (when any) of a piggyback read into an open object.
void writePiggyback(Context& ctx, util::JsonWriter& w, const hub::ReadResult& r);

} // namespace holdfast::app
