// Request routing.
#include "app/router.h"

#include "app/control.h"
#include "app/respond.h"
#include "app/subscribe.h"
#include "http/query.h"

#include <algorithm>

namespace holdfast::app {
namespace {

bool overloaded(const Context& ctx, Socket socket) {
  uint64_t cap = std::min(ctx.config.max_connections, ctx.stats.data_capacity);
  return socket == Socket::kData && ctx.stats.connections[static_cast<size_t>(Socket::kData)] > cap;
}

} // namespace

void route(Context& ctx, Request& request, Socket socket) {
  auto target = http::splitTarget(request.in->request_uri);
  if (!target)
    return respondError(ctx, request, 400, "bad_request", "REQUEST_URI is not a valid path");
  if (request.params_too_large)
    return respondError(ctx, request, 431, "headers_too_large",
                        "request headers exceed 64 KiB (FastCGI params)");
  if (ctx.host.shuttingDown() && socket == Socket::kControl)
    return respondError(ctx, request, 503, "shutting_down", "server is shutting down",
                        "Retry-After: 2\r\n");
  if (ctx.host.handingOver() && socket == Socket::kControl &&
      (request.in->method == "POST" || request.in->method == "DELETE"))
    return respondError(ctx, request, 503, "restarting",
                        "server is handing over to its successor: retry", "Retry-After: 1\r\n");
  if (request.body_too_large)
    return respondError(ctx, request, 413, "body_too_large",
                        "request body exceeds max_body (" + std::to_string(ctx.config.max_body) +
                            " bytes)");
  if (overloaded(ctx, socket))
    return respondError(ctx, request, 503, "overloaded",
                        "too many subscriber connections (max_connections)", "Retry-After: 5\r\n");
  if (request.in->method == "OPTIONS")
    return respondPreflight(ctx, request);
  if (socket == Socket::kControl)
    handleControl(ctx, request, *target);
  else
    handleSubscribe(ctx, request, *target);
}

} // namespace holdfast::app
