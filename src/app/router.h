// The entry point of the handlers: the checks every request passes (target, draining, body
// size, data connection cap, CORS preflight), then the control or data routes.
#pragma once

#include "app/context.h"

namespace holdfast::app {

// Answers or holds `request`, which arrived complete (params and body) on `socket`.
void route(Context& ctx, Request& request, Socket socket);

} // namespace holdfast::app
