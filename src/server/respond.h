// Building and sending CGI responses: the header block (Status, Content-Type, no-store, CORS)
// and JSON error bodies {"error","message"}.
#pragma once

#include <string>
#include <string_view>

namespace holdfast::server {

class Server;
class Connection;
struct Request;

std::string_view reasonPhrase(int status);

// True when `origin` is on the allow-list ("*" allows any).
bool originAllowed(const Server& server, std::string_view origin);

// "Status: 200 OK\r\nContent-Type: ..\r\nCache-Control: no-store\r\nX-Accel-Buffering: no\r\n"
// + CORS headers when the request's Origin is allowed + `extra` (complete "Name: value\r\n"
// lines) + the blank line.
std::string headerBlock(const Server& server, const Request& request, int status,
                        std::string_view content_type, std::string_view extra = {});

// Sends headers + body and finishes the request. Counts the status.
void respond(Server& server, Connection& conn, Request& request, int status,
             std::string_view content_type, std::string_view body, std::string_view extra = {});
void respondJson(Server& server, Connection& conn, Request& request, int status,
                 std::string_view json, std::string_view extra = {});
// {"error":"<code>","message":"<message>"}
void respondError(Server& server, Connection& conn, Request& request, int status,
                  std::string_view code, std::string_view message, std::string_view extra = {});
// CORS preflight (OPTIONS): 204 with the allowed methods/headers, or 403 for other origins.
void respondPreflight(Server& server, Connection& conn, Request& request);

} // namespace holdfast::server
