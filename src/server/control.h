// Shared pieces of the control-socket handlers (control_handler.cpp, publish_handler.cpp).
#pragma once

#include <string>
#include <string_view>

#include "http/query.h"
#include "server/respond.h"

namespace holdfast::server {

class Server;
class Connection;
struct Request;

// Context of one control request (the path below the mount, the parsed query).
struct Ctl {
  Server& server;
  Connection& conn;
  Request& request;
  std::string_view route; // path below the control mount, starting with '/'
  http::Query query;

  void error(int status, std::string_view code, std::string_view message,
             std::string_view extra = {}) {
    respondError(server, conn, request, status, code, message, extra);
  }
  void json(int status, std::string_view body) { respondJson(server, conn, request, status, body); }
};

// Checks "Authorization: Bearer <publish_key>" unless the control socket is trusted. Answers
// 401/403 itself and returns false when the request may not proceed.
bool authorize(Ctl& c);

// Piggyback: when `session_id` names a live session, adds its pending messages to the JSON
// object in `body` (still open: "messages", "cursor", "gap") and advances the session's cursor.
void appendPiggyback(Ctl& c, std::string& body, const std::string* session_id);

// POST <ctl>/pub/<channels> and POST <ctl>/pub (batch).
void publish(Ctl& c, std::string_view channel_list);
void publishBatch(Ctl& c);

} // namespace holdfast::server
