// CGI response helpers.
#include "app/respond.h"

#include <algorithm>

#include "util/json_writer.h"

namespace holdfast::app {

std::string_view reasonPhrase(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 202:
    return "Accepted";
  case 204:
    return "No Content";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 409:
    return "Conflict";
  case 410:
    return "Gone";
  case 411:
    return "Length Required";
  case 413:
    return "Payload Too Large";
  case 415:
    return "Unsupported Media Type";
  case 429:
    return "Too Many Requests";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 503:
    return "Service Unavailable";
  case 507:
    return "Insufficient Storage";
  default:
    return "Unknown";
  }
}

bool originAllowed(const config::Config& config, std::string_view origin) {
  if (origin.empty())
    return false;
  for (const auto& allowed : config.allowed_origins) {
    if (allowed == "*" || allowed == origin)
      return true;
  }
  return false;
}

std::string headerBlock(const config::Config& config, const Request& request, int status,
                        std::string_view content_type, std::string_view extra) {
  std::string h;
  h.reserve(256 + extra.size());
  h += "Status: ";
  h += std::to_string(status);
  h += ' ';
  h += reasonPhrase(status);
  h += "\r\n";
  if (!content_type.empty()) {
    h += "Content-Type: ";
    h += content_type;
    h += "\r\n";
  }
  h += "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\nX-Content-Type-Options: nosniff\r\n";
  if (originAllowed(config, request.origin)) {
    h += "Access-Control-Allow-Origin: ";
    h += request.origin;
    h += "\r\nAccess-Control-Allow-Credentials: true\r\n"
         "Access-Control-Expose-Headers: X-Holdfast-Session\r\nVary: Origin\r\n";
  }
  h += extra;
  h += "\r\n";
  return h;
}

void respond(Context& ctx, Request& request, int status, std::string_view content_type,
             std::string_view body, std::string_view extra) {
  ++ctx.stats.responses[status];
  std::string head = headerBlock(ctx.config, request, status, content_type, extra);
  request.headers_sent = true;
  request.finish({head, body});
}

void respondJson(Context& ctx, Request& request, int status, std::string_view json,
                 std::string_view extra) {
  respond(ctx, request, status, "application/json", json, extra);
}

void respondError(Context& ctx, Request& request, int status, std::string_view code,
                  std::string_view message, std::string_view extra) {
  util::JsonWriter w;
  w.startObject().key("error").string(code).key("message").string(message).endObject();
  respondJson(ctx, request, status, w.finish(), extra);
}

void respondTooManyChannels(Context& ctx, Request& request, std::string_view message) {
  ++ctx.stats.refused_channels;
  uint64_t retry = std::clamp<uint64_t>(ctx.config.channel_idle, 1, 60);
  respondError(ctx, request, 503, "too_many_channels", message,
               "Retry-After: " + std::to_string(retry) + "\r\n");
}

void respondPreflight(Context& ctx, Request& request) {
  if (!originAllowed(ctx.config, request.origin)) {
    respondError(ctx, request, 403, "forbidden_origin", "origin is not in allowed_origins");
    return;
  }
  respond(ctx, request, 204, "", "",
          "Access-Control-Allow-Methods: GET, POST, DELETE, OPTIONS\r\n"
          "Access-Control-Allow-Headers: Authorization, Content-Type, Last-Event-ID\r\n"
          "Access-Control-Max-Age: 600\r\n");
}

std::string sessionHeader(std::string_view session) {
  return session.empty() ? std::string() : "X-Holdfast-Session: " + std::string(session) + "\r\n";
}

} // namespace holdfast::app
