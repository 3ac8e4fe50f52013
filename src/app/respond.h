// Building and sending CGI responses: the header block (Status, Content-Type, no-store, CORS)
// and JSON error bodies {"error","message"}. Every response of the handlers goes through here,
// so every one is counted by status.
#pragma once

#include <string>
#include <string_view>

#include "app/context.h"

namespace holdfast::app {

std::string_view reasonPhrase(int status);

// True when `origin` is on the allow-list ("*" allows any).
bool originAllowed(const config::Config& config, std::string_view origin);

// "Status: 200 OK\r\nContent-Type: ..\r\nCache-Control: no-store\r\nX-Accel-Buffering: no\r\n"
// + CORS headers when the request's Origin is allowed + `extra` (complete "Name: value\r\n"
// lines) + the blank line.
std::string headerBlock(const config::Config& config, const Request& request, int status,
                        std::string_view content_type, std::string_view extra = {});

// Sends headers + body and finishes the request. Counts the status.
void respond(Context& ctx, Request& request, int status, std::string_view content_type,
             std::string_view body, std::string_view extra = {});
void respondJson(Context& ctx, Request& request, int status, std::string_view json,
                 std::string_view extra = {});
// {"error":"<code>","message":"<message>"}
void respondError(Context& ctx, Request& request, int status, std::string_view code,
                  std::string_view message, std::string_view extra = {});
// 503 too_many_channels with Retry-After (channel_idle, at most 60 s: when an idle channel
// can next be collected), counted in refused_channels. `message` comes from the engine.
void respondTooManyChannels(Context& ctx, Request& request, std::string_view message);
// CORS preflight (OPTIONS): 204 with the allowed methods/headers, or 403 for other origins.
void respondPreflight(Context& ctx, Request& request);
// "X-Holdfast-Session: ID\r\n", or empty without a session.
std::string sessionHeader(std::string_view session);

} // namespace holdfast::app
