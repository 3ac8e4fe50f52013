// Finding a session for a handler, wherever it was issued. With the memory engine the local
// SessionTable is the whole truth and the answer is immediate. When the directory is shared
// (Redis), the stored record is fetched first and imported into the local table (its cursor
// is the truth across nodes), so a session issued or last served by another node is known here.
#pragma once

#include <functional>
#include <string>

#include "app/context.h"

namespace holdfast::app {

struct Resolved {
  session::Session* session = nullptr; // the local entry; nullptr when the session is unknown
  std::string owner;        // another node holding its data request; empty: none, or this node
  bool unavailable = false; // the shared store could not be asked (the local table answered)
};

// Calls `done` exactly once (at once for the memory engine, from the Redis reply otherwise).
// `session` is valid only during the call.
void resolveSession(Context& ctx, const std::string& id, std::function<void(Resolved)> done);

} // namespace holdfast::app
