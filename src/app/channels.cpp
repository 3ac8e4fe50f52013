// Channel administration on the control socket: list, info, delete.
#include <charconv>

#include "app/control.h"
#include "app/respond.h"

namespace holdfast::app {
namespace {

void writeInfo(util::JsonWriter& w, const engine::ChannelInfo& info) {
  w.startObject();
  w.key("channel").string(info.name).key("epoch").string(info.epoch);
  w.key("messages").uint(info.messages).key("bytes").uint(info.bytes);
  w.key("first_id");
  info.first_id ? w.string(*info.first_id) : w.null();
  w.key("last_id");
  info.last_id ? w.string(*info.last_id) : w.null();
  w.key("last_seq").uint(info.last_seq).key("subscribers").uint(info.subscribers);
  w.key("last_publish");
  info.last_publish_ms ? w.uint(static_cast<uint64_t>(info.last_publish_ms)) : w.null();
  w.endObject();
}

// ?limit=1..1000 (default 100); false after answering 400.
bool parseLimit(Ctl& c, uint64_t& limit) {
  limit = 100;
  const std::string* l = c.query.get("limit");
  if (!l)
    return true;
  auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
  if (ec == std::errc() && p == l->data() + l->size() && limit >= 1 && limit <= 1000)
    return true;
  c.error(400, "bad_limit", "limit must be 1..1000");
  return false;
}

void listChannels(Ctl& c) {
  uint64_t limit = 0;
  if (!parseLimit(c, limit))
    return;
  Context& ctx = c.ctx;
  ctx.engine.list(c.param("after").value_or(""), limit,
                  [&ctx, ref = c.request.ref()](engine::ChannelPage page) {
                    ctx.resume(ref, [&](Request& request) {
                      util::JsonWriter w;
                      w.startObject().key("channels").startArray();
                      for (const engine::ChannelInfo& info : page.channels)
                        writeInfo(w, info);
                      w.endArray().key("next");
                      page.next ? w.string(*page.next) : w.null();
                      respondJson(ctx, request, 200, w.endObject().finish());
                    });
                  });
}

void channelInfo(Ctl& c, const std::string& name) {
  Context& ctx = c.ctx;
  ctx.engine.info(name,
                  [&ctx, ref = c.request.ref(), name](std::optional<engine::ChannelInfo> info) {
                    ctx.resume(ref, [&](Request& request) {
                      if (!info)
                        return respondError(ctx, request, 404, "no_channel", "no channel " + name);
                      util::JsonWriter w;
                      writeInfo(w, *info);
                      respondJson(ctx, request, 200, w.finish());
                    });
                  });
}

void deleteChannel(Ctl& c, const std::string& name) {
  Context& ctx = c.ctx;
  ctx.engine.remove(name, [&ctx, ref = c.request.ref(), name](engine::RemoveOutcome out) {
    ctx.resume(ref, [&](Request& request) {
      using S = engine::RemoveOutcome::Status;
      if (out.status == S::kUnavailable)
        return respondError(ctx, request, 503, "unavailable", out.error, "Retry-After: 1\r\n");
      if (out.status == S::kNotFound)
        return respondError(ctx, request, 404, "no_channel", "no channel " + name);
      util::JsonWriter w;
      w.startObject().key("channel").string(name).key("deleted").boolean(true).endObject();
      respondJson(ctx, request, 200, w.finish());
    });
  });
}

void oneChannel(Ctl& c, std::string_view name) {
  if (!hub::isValidChannelName(name)) {
    c.error(400, "bad_channel", "invalid channel name \"" + std::string(name) + "\"");
    return;
  }
  const std::string& m = c.request.in->method;
  if (m == "GET")
    channelInfo(c, std::string(name));
  else if (m == "DELETE")
    deleteChannel(c, std::string(name));
  else
    c.error(405, "method_not_allowed", "channel info with GET, delete with DELETE",
            "Allow: GET, DELETE\r\n");
}

} // namespace

void channels(Ctl& c, std::string_view name) {
  if (!c.authorize() || !c.storageUp())
    return;
  if (!name.empty()) {
    oneChannel(c, name);
    return;
  }
  if (c.request.in->method != "GET")
    c.error(405, "method_not_allowed", "list channels with GET", "Allow: GET\r\n");
  else
    listChannels(c);
}

} // namespace holdfast::app
