// The data socket's one route: GET <data_mount>/<channels> with every transport. Answers at
// once (poll, backlog, gap, timeout=0) or holds the request as an engine subscriber.
#pragma once

#include "app/context.h"
#include "http/query.h"

namespace holdfast::app {

void handleSubscribe(Context& ctx, Request& request, const http::Target& target);

} // namespace holdfast::app
