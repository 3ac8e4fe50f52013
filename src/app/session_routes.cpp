// Session control on the control socket (DESIGN §4): close a session, subscribe/unsubscribe its
// live stream, and piggyback reads of its pending messages. When another node holds the
// session's data request (shared directory, Redis), the change is made to the stored session
// here and sent to that node, which applies it to its live request (applyRemote).
#include <algorithm>

#include "app/control.h"
#include "app/respond.h"
#include "app/session_lookup.h"
#include "auth/access.h"

namespace holdfast::app {
namespace {

// The session's held request, if one is attached and still live.
Held* liveHeld(Context& ctx, const session::Session& s) {
  if (s.serial == 0)
    return nullptr;
  Request* r = ctx.host.find(RequestRef{s.conn_id, s.serial});
  return r && r->held && !r->held->done() ? &*r->held : nullptr;
}

bool hasChannel(const hub::Cursor& cursor, std::string_view channel) {
  return std::any_of(cursor.begin(), cursor.end(),
                     [&](const hub::Position& p) { return p.channel == channel; });
}

// Checks a subscribe before anything changes: tokens for private channels, and the total
// number of channels (a session may not grow past max_channels_per_request).
bool mayAdd(Ctl& c, const session::Session& s, const std::vector<std::string>& chs) {
  const config::Config& cfg = c.ctx.config;
  const Held* held = liveHeld(c.ctx, s);
  size_t total = std::max(s.cursor.size(), held ? held->cursor().size() : 0);
  for (const auto& ch : chs)
    total += !hasChannel(s.cursor, ch) && !(held && hasChannel(held->cursor(), ch));
  auth::Denial denial;
  if (!auth::allowPrivate(cfg, chs, c.query.get("token"), c.ctx.clock.wallMs() / 1000, denial)) {
    c.error(denial.status, denial.code, denial.message);
    return false;
  }
  if (total > cfg.max_channels_per_request) {
    c.error(400, "too_many_channels",
            "a session may hold at most " + std::to_string(cfg.max_channels_per_request) +
                " channels (max_channels_per_request)");
    return false;
  }
  return true;
}

// Adds channels at their heads to the session and its live stream.
void addChannels(Context& ctx, session::Session& s, const hub::Cursor& heads) {
  Held* held = liveHeld(ctx, s);
  for (const hub::Position& head : heads) {
    if (held && !hasChannel(held->cursor(), head.channel)) {
      ctx.engine.subscribe(*held, {head});
      held->addPosition(head);
    }
    if (!hasChannel(s.cursor, head.channel))
      s.cursor.push_back(head);
  }
}

void removeChannels(Context& ctx, session::Session& s, const std::vector<std::string>& chs) {
  Held* held = liveHeld(ctx, s);
  for (const std::string& ch : chs) {
    if (held && hasChannel(held->cursor(), ch)) {
      ctx.engine.unsubscribe(*held, ch);
      held->removePosition(ch);
    }
    std::erase_if(s.cursor, [&](const hub::Position& p) { return p.channel == ch; });
  }
}

// The answer of every session route: {"session", ["channels"], piggyback fields}.
void answer(Context& ctx, RequestRef ref, const std::string& id, bool with_channels) {
  readPiggyback(ctx, id, [&ctx, ref, id, with_channels](std::optional<hub::ReadResult> r) {
    ctx.resume(ref, [&](Request& request) {
      util::JsonWriter w;
      w.startObject().key("session").string(id);
      session::Session* s = ctx.sessions.find(id);
      if (with_channels && s) {
        w.key("channels").startArray();
        for (const hub::Position& p : s->cursor)
          w.string(p.channel);
        w.endArray();
      }
      if (r)
        writePiggyback(ctx, w, *r);
      respondJson(ctx, request, 200, w.endObject().finish());
    });
  });
}

void forward(Context& ctx, const std::string& owner, session::Command command) {
  if (!owner.empty())
    ctx.sessions.directory().forward(owner, command);
}

void closeHeld(Context& ctx, const std::string& id) {
  if (auto held = ctx.sessions.erase(id)) {
    Request* r = ctx.host.find(RequestRef{held->conn_id, held->serial});
    if (r && r->held)
      r->held->closeSession();
  }
}

void closeSession(Ctl& c, const std::string& id, const std::string& owner) {
  closeHeld(c.ctx, id);
  forward(c.ctx, owner, {session::Command::Kind::kClose, id, {}, {}});
  util::JsonWriter w;
  w.startObject().key("session").string(id).key("closed").boolean(true).endObject();
  c.json(200, w.finish());
}

void unsubscribeChannels(Ctl& c, const std::string& id, session::Session& s,
                         std::vector<std::string> chs, const std::string& owner) {
  removeChannels(c.ctx, s, chs);
  c.ctx.sessions.directory().put(id, s.cursor); // other nodes read the session's channels
  forward(c.ctx, owner, {session::Command::Kind::kUnsubscribe, id, {}, std::move(chs)});
  answer(c.ctx, c.request.ref(), id, true);
}

void changeChannels(Ctl& c, const std::string& id, session::Session& s, bool subscribe,
                    const std::string& owner) {
  const std::string* list = c.query.get("channel");
  std::string error = "missing channel parameter";
  auto chs = list ? hub::parseChannelList(*list, error, c.ctx.config.max_channels_per_request)
                  : std::nullopt;
  if (!chs)
    return c.error(400, "bad_channel", error);
  if (!subscribe)
    return unsubscribeChannels(c, id, s, std::move(*chs), owner);
  if (!mayAdd(c, s, *chs) || !c.storageUp())
    return;
  Context& ctx = c.ctx;
  ctx.engine.heads(
      std::move(*chs), [&ctx, ref = c.request.ref(), id, owner](std::optional<hub::Cursor> heads) {
        if (!heads) {
          ctx.resume(ref, [&](Request& request) {
            respondTooManyChannels(ctx, request,
                                   "too many channels (max_channels): nothing was subscribed");
          });
          return;
        }
        if (session::Session* now = ctx.sessions.find(id)) {
          addChannels(ctx, *now, *heads);
          ctx.sessions.directory().put(id, now->cursor);
        }
        forward(ctx, owner, {session::Command::Kind::kSubscribe, id, *heads, {}});
        answer(ctx, ref, id, true);
      });
}

// Acts on a session once it is resolved (found here or in the shared directory).
void act(Ctl& c, const std::string& id, std::string_view action, const Resolved& r) {
  if (!r.session)
    return c.error(404, "unknown_session", "session " + id + " is unknown or expired");
  const std::string& method = c.request.in->method;
  if (method != "POST" && !(action.empty() && method == "GET"))
    return c.error(405, "method_not_allowed", "session actions take POST",
                   action.empty() ? "Allow: GET, POST\r\n" : "Allow: POST\r\n");
  if (action == "close")
    closeSession(c, id, r.owner);
  else if (action == "subscribe" || action == "unsubscribe")
    changeChannels(c, id, *r.session, action == "subscribe", r.owner);
  else if (action.empty())
    answer(c.ctx, c.request.ref(), id, false); // GET /session/ID: a plain piggyback read
  else
    c.error(404, "not_found", "session actions: close, subscribe, unsubscribe");
}

// A session command another node sent: applied to the live request held here, if any.
void applySupersede(Context& ctx, const std::string& id) {
  session::Session* s = ctx.sessions.find(id);
  Request* r = s && s->serial ? ctx.host.find(RequestRef{s->conn_id, s->serial}) : nullptr;
  if (r && r->held)
    r->held->supersede();
}

} // namespace

void sessionRoute(Ctl& c, std::string_view rest) {
  auto slash = rest.find('/');
  std::string id(rest.substr(0, slash));
  std::string action(slash == std::string_view::npos ? "" : rest.substr(slash + 1));
  if (!session::SessionTable::isValidId(id))
    return c.error(404, "unknown_session", "session " + id + " is unknown or expired");
  Context& ctx = c.ctx;
  resolveSession(ctx, id,
                 [&ctx, ref = c.request.ref(), route = std::string(c.route), query = c.query, id,
                  action](Resolved r) {
                   ctx.resume(ref, [&](Request& request) {
                     Ctl again{ctx, request, route, query};
                     act(again, id, action, r);
                   });
                 });
}

void applyRemote(Context& ctx, const session::Command& command) {
  using Kind = session::Command::Kind;
  session::Session* s = ctx.sessions.find(command.session);
  if (command.kind == Kind::kClose)
    closeHeld(ctx, command.session);
  else if (command.kind == Kind::kSupersede)
    applySupersede(ctx, command.session);
  else if (s && command.kind == Kind::kSubscribe)
    addChannels(ctx, *s, command.positions);
  else if (s && command.kind == Kind::kUnsubscribe)
    removeChannels(ctx, *s, command.channels);
}

} // namespace holdfast::app
