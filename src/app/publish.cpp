// Publishing on the control socket: one or several channels, and batches. Validation is in
// publish/request.h; the engine stores all items or none.
#include <string>
#include <vector>

#include "app/control.h"
#include "app/respond.h"
#include "publish/request.h"

namespace holdfast::app {
namespace {

void refuse(Ctl& c, const publish::Problem& problem) {
  c.error(problem.status, problem.code, problem.message);
}

void writeEntry(util::JsonWriter& w, const engine::Published& p) {
  w.key("channel").string(p.channel).key("id").string(p.id).key("subscribers").uint(p.subscribers);
}

// 201 when a live subscriber got a message, 202 when everything was only buffered. A single
// channel answers one entry; several channels and batches answer {"results":[...]}.
void answerPublished(Context& ctx, Request& request, const std::vector<engine::Published>& results,
                     bool single, const std::optional<hub::ReadResult>& piggyback) {
  util::JsonWriter w;
  w.startObject();
  size_t delivered = 0;
  if (single) {
    writeEntry(w, results.front());
  } else {
    w.key("results").startArray();
    for (const engine::Published& p : results) {
      w.startObject();
      writeEntry(w, p);
      w.endObject();
    }
    w.endArray();
  }
  for (const engine::Published& p : results)
    delivered += p.subscribers;
  if (piggyback)
    writePiggyback(ctx, w, *piggyback);
  w.endObject();
  respondJson(ctx, request, delivered > 0 ? 201 : 202, w.finish());
}

void refused(Context& ctx, Request& request, const engine::PublishOutcome& outcome) {
  if (outcome.status == engine::PublishOutcome::Status::kTooManyChannels)
    respondTooManyChannels(ctx, request, outcome.error);
  else if (outcome.status == engine::PublishOutcome::Status::kUnavailable)
    respondError(ctx, request, 503, "unavailable", outcome.error, "Retry-After: 1\r\n");
  else
    respondError(ctx, request, 507, "too_large", outcome.error + "; nothing was published");
}

// Hands the items to the engine and answers from its continuation (with the piggyback read of
// `?session=` when given).
void store(Ctl& c, std::vector<engine::PublishItem> items, bool single) {
  Context& ctx = c.ctx;
  ctx.engine.publish(std::move(items), [&ctx, ref = c.request.ref(), single,
                                        session = c.param("session")](engine::PublishOutcome out) {
    if (out.status != engine::PublishOutcome::Status::kOk) {
      ctx.resume(ref, [&](Request& request) { refused(ctx, request, out); });
      return;
    }
    readPiggyback(ctx, session,
                  [&ctx, ref, single,
                   results = std::move(out.results)](std::optional<hub::ReadResult> piggyback) {
                    ctx.resume(ref, [&](Request& request) {
                      answerPublished(ctx, request, results, single, piggyback);
                    });
                  });
  });
}

} // namespace

void publish(Ctl& c, std::string_view channel_list) {
  std::string error;
  auto channels = hub::parseChannelList(channel_list, error, c.ctx.config.max_channels_per_request);
  if (!channels) {
    c.error(400, "bad_channel", error);
    return;
  }
  if (!publish::openToPages(c.ctx.config.client_publish, *channels) && !c.authorize())
    return;
  std::string event;
  if (auto bad = publish::parseEvent(c.query.get("event"), event))
    return refuse(c, *bad);
  bool is_json = publish::isJsonContentType(c.request.in->content_type);
  if (auto bad = publish::checkBody(c.request.in->body, is_json))
    return refuse(c, *bad);
  std::vector<engine::PublishItem> items(channels->size());
  for (size_t i = 0; i < items.size(); ++i) {
    items[i] = engine::PublishItem{(*channels)[i], event, {}, is_json};
    // The body is moved into the last item: a single-channel publish copies nothing.
    items[i].data = i + 1 < items.size() ? c.request.in->body : std::move(c.request.in->body);
  }
  store(c, std::move(items), channels->size() == 1);
}

void publishBatch(Ctl& c) {
  if (!c.authorize())
    return;
  std::vector<engine::PublishItem> items;
  if (auto bad = publish::parseBatch(c.request.in->body, items))
    return refuse(c, *bad);
  store(c, std::move(items), false);
}

} // namespace holdfast::app
