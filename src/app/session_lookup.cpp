// Session lookup across nodes (see session_lookup.h).
#include "app/session_lookup.h"

namespace holdfast::app {
namespace {

Resolved fromLookup(Context& ctx, const std::string& id, const session::Lookup& found) {
  using Status = session::Lookup::Status;
  Resolved r;
  session::Directory& dir = ctx.sessions.directory();
  if (found.status == Status::kFound) {
    r.session = &ctx.sessions.import(id, found.record.cursor);
    if (found.record.node != dir.node())
      r.owner = found.record.node;
    return r;
  }
  // Missing: closed or expired everywhere; a local entry is only trusted while it holds a
  // request here (its write may still be on the way).
  r.session = ctx.sessions.find(id);
  r.unavailable = found.status == Status::kUnavailable;
  if (r.session && !r.unavailable && r.session->serial == 0)
    r.session = nullptr;
  return r;
}

} // namespace

void resolveSession(Context& ctx, const std::string& id, std::function<void(Resolved)> done) {
  session::Directory& dir = ctx.sessions.directory();
  if (!dir.shared()) {
    done(Resolved{ctx.sessions.find(id), {}, false});
    return;
  }
  dir.fetch(id, [&ctx, id, done = std::move(done)](session::Lookup found) {
    done(fromLookup(ctx, id, found));
  });
}

} // namespace holdfast::app
