// The Redis engine: engine calls as script calls on the command link, fan-out from the pub/sub
// link through redis::Fanout.
#include "engine/redis_engine.h"

#include <utility>

#include "redis/history.h"
#include "redis/keys.h"
#include "redis/payload.h"
#include "redis/sessions.h"
#include "util/log.h"

namespace holdfast::engine {
namespace {

constexpr size_t kEpochBytes = 6; // 8 base64url characters, as the hub's epochs

PublishOutcome unavailable(std::string why) {
  PublishOutcome out;
  out.status = PublishOutcome::Status::kUnavailable;
  out.error = std::move(why);
  return out;
}

hub::ReadResult unavailableRead() {
  hub::ReadResult r;
  r.unavailable = true;
  return r;
}

void ignoreReply(const redisReply*) {}

// Bytes charged for `item`, as the hub counts them (Message::cost) with an epoch of the usual
// length; the seq's digits are left out (they are not known before the script runs).
size_t costOf(const PublishItem& item) {
  std::string epoch((kEpochBytes * 8 + 5) / 6, 'e');
  return hub::makeMessage(item.channel, epoch, 1, item.event, item.data, item.data_is_json, 0)
      ->cost();
}

} // namespace

// One publish call: the items' results as their replies arrive.
struct RedisEngine::PublishBatch {
  std::vector<PublishItem> items;
  std::vector<Published> results;
  size_t pending = 0;
  std::string error; // the first failure
  PublishDone done;
};

// One read call: the channels' answers as they arrive.
struct RedisEngine::ReadBatch {
  std::vector<hub::Start> starts;
  std::vector<redis::ChannelRead> reads;
  std::vector<bool> local; // reads[i] came from this node's memory
  size_t pending = 0;
  bool unreachable = false; // Redis was not connected when the call was made
  std::string error;
  std::optional<InOrder::Slot> slot; // a client's call: answered in call order
  ReadDone done;
};

RedisEngine::RedisEngine(redis::Link& commands, redis::Link& pubsub, hub::Limits limits,
                         const util::Clock& clock, util::Random& random)
    : commands_(commands), pubsub_(pubsub), limits_(limits), clock_(clock), random_(random),
      fanout_(redis::Fanout::Actions{
                  [this](const std::string& ch) { pubsub_.subscribe(redis::pubsubChannel(ch)); },
                  [this](const std::string& ch) { pubsub_.unsubscribe(redis::pubsubChannel(ch)); },
                  [this](const hub::Position& after) { catchUp(after); }},
              clock) {}

void RedisEngine::start() {
  commands_.setHooks({[this] { loadScripts(); },
                      [] { HF_WARN("redis command link lost; publishes answer 503", {}); },
                      {},
                      {},
                      {}});
  pubsub_.setHooks(
      {[this] { pubsubReady(); },
       [this] {
         listening_ = false;
         fanout_.linkLost();
       },
       [this](std::string_view name) {
         if (auto ch = redis::channelOfPubsub(name))
           fanout_.subscribed(*ch);
         else if (!listen_channel_.empty() && name == listen_channel_)
           listening_ = true; // echoes can come back from now on
       },
       [this](std::string_view name) {
         if (auto ch = redis::channelOfPubsub(name))
           fanout_.unsubscribed(*ch);
       },
       [this](std::string_view name, std::string_view payload) { onNotice(name, payload); }});
  commands_.start();
  pubsub_.start();
}

void RedisEngine::listen(std::string pubsub_channel,
                         std::function<void(std::string_view)> on_message) {
  listen_channel_ = std::move(pubsub_channel);
  on_listen_ = std::move(on_message);
}

void RedisEngine::pubsubReady() {
  restartEchoClock(clock_.nowMs());
  if (!listen_channel_.empty())
    pubsub_.subscribe(listen_channel_);
  fanout_.linkReady();
}

void RedisEngine::loadScripts() {
  for (const redis::Script* s : redis::allScripts()) {
    commands_.command({"SCRIPT", "LOAD", s->body}, [name = s->name](const redisReply* r) {
      if (!r || r->type != REDIS_REPLY_STRING)
        HF_ERROR("redis SCRIPT LOAD failed", util::logField("script", name));
    });
  }
  HF_INFO("redis ready", {});
}

// The command is kept (not copied: it holds the message data) until its reply, for the retry.
void RedisEngine::eval(redis::Command command, redis::Link::Reply done) {
  auto kept = std::make_shared<redis::Command>(std::move(command));
  auto retry = [this, kept, done = std::move(done)](const redisReply* r) mutable {
    if (!redis::isNoScript(r) || !redis::toEval(*kept))
      return done(r);
    commands_.command(*kept, std::move(done));
  };
  commands_.command(*kept, std::move(retry));
}

// Adds a channel to the channel list (a separate key: see keys.h); a listed name is unchanged.
void RedisEngine::remember(const std::string& channel) {
  commands_.command({"ZADD", redis::channelsKey(), "0", channel}, ignoreReply);
}

// The memory engine's per-channel byte check; Redis's maxmemory stands for memory_limit.
std::string RedisEngine::refusal(const PublishItem& item) const {
  size_t cost = costOf(item);
  if (cost <= limits_.max_bytes)
    return {};
  return "message needs " + std::to_string(cost) +
         " bytes of buffer, more than the per-channel limit of " +
         std::to_string(limits_.max_bytes) + " bytes";
}

void RedisEngine::publish(std::vector<PublishItem> items, PublishDone done) {
  done = inOrder(std::move(done));
  if (items.empty())
    return done(PublishOutcome{}); // nothing to store: no reply would ever complete the call
  for (size_t i = 0; i < items.size(); ++i) {
    if (std::string why = refusal(items[i]); !why.empty()) {
      PublishOutcome out;
      out.status = PublishOutcome::Status::kTooLarge;
      out.error = items.size() == 1
                      ? why
                      : "item " + std::to_string(i) + " (" + items[i].channel + "): " + why;
      return done(std::move(out));
    }
  }
  if (!commands_.ready())
    return done(unavailable("redis is unreachable"));
  auto batch = std::make_shared<PublishBatch>();
  batch->results.resize(items.size());
  batch->pending = items.size();
  batch->done = std::move(done);
  batch->items = std::move(items);
  for (size_t i = 0; i < batch->items.size(); ++i) {
    const PublishItem& item = batch->items[i];
    std::string epoch = random_.token(kEpochBytes);
    // Sent ahead of the script on the same connection, so the channel is listed before any
    // client hears of the publish (ZADD of a listed name changes nothing).
    remember(item.channel);
    redis::PublishArgs args{item.channel, item.event, item.data,      item.data_is_json,
                            costOf(item), epoch,      clock_.wallMs()};
    eval(redis::publishCommand(args, limits_),
         [this, batch, i](const redisReply* r) { published(*batch, i, r); });
  }
}

void RedisEngine::published(PublishBatch& batch, size_t index, const redisReply* reply) {
  std::string error;
  const std::string& channel = batch.items[index].channel;
  if (auto r = redis::parsePublish(reply, error)) {
    ++published_;
    evicted_ += r->evicted;
    fanout_.published(channel, r->epoch, r->seq);
    batch.results[index] = Published{channel, r->epoch + "-" + std::to_string(r->seq),
                                     static_cast<size_t>(r->receivers)};
  } else if (batch.error.empty()) {
    batch.error = "publish to " + channel + " failed: " + error;
  }
  if (--batch.pending > 0)
    return;
  if (!batch.error.empty())
    return batch.done(unavailable(batch.error));
  PublishOutcome out;
  out.results = std::move(batch.results);
  batch.done(std::move(out));
}

void RedisEngine::read(std::vector<hub::Start> starts, ReadDone done) {
  readFrom(std::move(starts), std::move(done), Reader::kClient);
}

// A channel's share answered from this node's memory. "Nothing new" only for a read that then
// waits (hub::Start::waits): Redis may already hold a message pub/sub has not brought yet, which
// a waiting request gets through its subscription but a plain poll would miss.
std::optional<redis::ChannelRead> RedisEngine::fromRecent(const hub::Start& start) const {
  if (start.mode != hub::Start::Mode::kCursor)
    return std::nullopt;
  // A quarter of the keys' expiry: Redis renews it on every read, so a channel read only from
  // memory for that long is read from Redis once (docs/redis.md, "Reads served by the node").
  auto r = fanout_.recentRead(start.position, limits_, clock_.wallMs(),
                              redis::keyTtlMs(limits_) / 4, start.waits);
  if (!r || (r->messages.empty() && !start.waits))
    return std::nullopt;
  return r;
}

void RedisEngine::readFrom(std::vector<hub::Start> starts, ReadDone done, Reader reader) {
  auto batch = std::make_shared<ReadBatch>();
  if (reader == Reader::kClient)
    batch->slot = order_.open();
  size_t n = starts.size();
  batch->starts = std::move(starts);
  batch->done = std::move(done);
  batch->reads.resize(n);
  batch->local.assign(n, false);
  if (n > 0 && !commands_.ready()) {
    batch->unreachable = true;
    return finishRead(batch);
  }
  std::vector<size_t> remote;
  for (size_t i = 0; i < n; ++i) {
    auto local = reader == Reader::kClient ? fromRecent(batch->starts[i]) : std::nullopt;
    if (local) {
      batch->reads[i] = std::move(*local);
      batch->local[i] = true;
      ++reads_from_memory_;
    } else {
      remote.push_back(i);
    }
  }
  batch->pending = remote.size();
  if (remote.empty())
    return finishRead(batch);
  reads_from_storage_ += remote.size();
  for (size_t i : remote) {
    redis::Command c =
        redis::readCommand(batch->starts[i], random_.token(kEpochBytes), limits_, clock_.wallMs());
    eval(std::move(c), [this, batch, i](const redisReply* r) { readOne(batch, i, r); });
  }
}

void RedisEngine::readOne(const std::shared_ptr<ReadBatch>& batch, size_t index,
                          const redisReply* reply) {
  std::string error;
  const std::string& channel = batch->starts[index].channel;
  if (auto r = redis::parseRead(channel, reply, error)) {
    if (r->created)
      remember(channel);
    fanout_.answered(channel);
    batch->reads[index] = std::move(*r);
  } else if (batch->error.empty()) {
    batch->error = error;
  }
  if (--batch->pending == 0)
    finishRead(batch);
}

void RedisEngine::finishRead(const std::shared_ptr<ReadBatch>& batch) {
  if (!batch->slot)
    return answerRead(*batch);
  order_.complete(*batch->slot, [this, batch] { answerRead(*batch); });
}

// The shares answered from memory are read again here, in the call's turn: calls made before
// it (a publish in flight, say) may have moved the channel on since, and an answer that is
// behind when it is given makes the subscriber catch up from Redis at once.
void RedisEngine::answerRead(ReadBatch& batch) {
  if (batch.unreachable)
    return batch.done(unavailableRead());
  if (!batch.error.empty()) {
    HF_WARN("redis read failed", util::logField("error", batch.error));
    return batch.done(unavailableRead());
  }
  for (size_t i = 0; i < batch.reads.size(); ++i) {
    if (!batch.local[i])
      continue;
    if (auto now = fromRecent(batch.starts[i])) // else the answer as it was when called
      batch.reads[i] = std::move(*now);
  }
  batch.done(redis::assemble(batch.starts, std::move(batch.reads), limits_.batch_max));
}

void RedisEngine::heads(std::vector<std::string> channels, HeadsDone done) {
  std::vector<hub::Start> starts(channels.size());
  for (size_t i = 0; i < channels.size(); ++i)
    starts[i].channel = std::move(channels[i]);
  read(std::move(starts),
       [done = std::move(done)](hub::ReadResult r) { done(std::move(r.cursor)); });
}

void RedisEngine::subscribe(hub::Subscriber& subscriber, const hub::Cursor& from) {
  for (const hub::Position& position : from)
    fanout_.add(subscriber, position);
}

void RedisEngine::unsubscribe(hub::Subscriber& subscriber, const std::string& channel) {
  fanout_.remove(subscriber, channel);
}

void RedisEngine::unsubscribeAll(hub::Subscriber& subscriber) {
  fanout_.removeAll(subscriber);
}

void RedisEngine::catchUp(const hub::Position& after) {
  hub::Start start;
  start.channel = after.channel;
  start.mode = hub::Start::Mode::kCursor;
  start.position = after;
  // From Redis: a catch-up is for what pub/sub may not have brought.
  readFrom(
      {start}, [this, channel = after.channel](hub::ReadResult r) { fanout_.caughtUp(channel, r); },
      Reader::kCatchUp);
}

void RedisEngine::onNotice(std::string_view pubsub, std::string_view payload) {
  if (!listen_channel_.empty() && pubsub == listen_channel_) {
    if (payload == redis::kEchoPayload)
      return restartEchoClock(clock_.nowMs());
    return on_listen_(payload);
  }
  auto channel = redis::channelOfPubsub(pubsub);
  auto notice = channel ? redis::parseNotice(*channel, payload) : std::nullopt;
  if (!notice) {
    HF_WARN("malformed redis pub/sub message ignored", util::logField("channel", pubsub));
    return;
  }
  if (auto* m = std::get_if<hub::MessagePtr>(&*notice))
    fanout_.message(*m);
  else
    fanout_.deleted(*channel, std::get<redis::Deleted>(*notice).epoch);
}

} // namespace holdfast::engine
