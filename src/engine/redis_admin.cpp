// The Redis engine's administrative calls (info, list, delete) and its health.
#include "engine/redis_engine.h"

#include "redis/keys.h"
#include "redis/sessions.h"
#include "util/log.h"

namespace holdfast::engine {
namespace {

constexpr int64_t kPingTimeoutMs = 3000; // an unanswered PING this old drops the link
constexpr int64_t kEchoTimeoutMs = 5000; // pub/sub silent this long (echoes sent each second)
constexpr size_t kPrunePage = 50;        // channel names checked per sweep

std::string messageId(const std::string& epoch, uint64_t seq) {
  return epoch + "-" + std::to_string(seq);
}

ChannelInfo toInfo(std::string name, const redis::InfoReply& r, size_t subscribers) {
  ChannelInfo info;
  info.name = std::move(name);
  info.epoch = r.epoch;
  info.messages = r.count;
  info.bytes = r.bytes;
  if (r.count > 0) {
    info.first_id = messageId(r.epoch, r.first);
    info.last_id = messageId(r.epoch, r.last);
  }
  info.last_seq = r.seq;
  info.subscribers = subscribers;
  info.last_publish_ms = r.last_ms;
  return info;
}

// The names of a ZRANGEBYLEX reply; empty on anything else.
std::vector<std::string> names(const redisReply* r) {
  std::vector<std::string> out;
  if (!r || r->type != REDIS_REPLY_ARRAY)
    return out;
  for (size_t i = 0; i < r->elements; ++i) {
    const redisReply* e = r->element[i];
    if (e && e->type == REDIS_REPLY_STRING)
      out.emplace_back(e->str, e->len);
  }
  return out;
}

// Collects the answers of a page's info calls.
struct ListBatch {
  std::vector<std::optional<ChannelInfo>> infos;
  std::vector<std::string> gone; // listed but expired: removed from the list
  size_t pending = 0;
  std::optional<std::string> next;
  Engine::ListDone done;
};

} // namespace

void RedisEngine::info(std::string channel, InfoDone done) {
  describe(std::move(channel), inOrder(std::move(done)));
}

void RedisEngine::describe(std::string channel, InfoDone done) {
  eval(redis::infoCommand(channel, limits_, clock_.wallMs()),
       [this, channel, done = std::move(done)](const redisReply* reply) {
         std::optional<redis::InfoReply> found;
         std::string error;
         if (!redis::parseInfo(reply, found, error) || !found)
           return done(std::nullopt);
         done(toInfo(channel, *found, fanout_.subscriberCount(channel)));
       });
}

// The list is a sorted set of names (ZRANGEBYLEX pages by name); each page's channels are
// then described with the info script, pipelined.
void RedisEngine::list(std::string after, size_t limit, ListDone done) {
  done = inOrder(std::move(done));
  std::string min = after.empty() ? "-" : "(" + after;
  commands_.command(
      {"ZRANGEBYLEX", redis::channelsKey(), min, "+", "LIMIT", "0", std::to_string(limit + 1)},
      [this, limit, done = std::move(done)](const redisReply* r) mutable {
        listed(names(r), limit, std::move(done));
      });
}

void RedisEngine::listed(std::vector<std::string> names, size_t limit, ListDone done) {
  auto batch = std::make_shared<ListBatch>();
  if (names.size() > limit) {
    names.resize(limit);
    batch->next = names.empty() ? std::nullopt : std::optional<std::string>(names.back());
  }
  batch->infos.resize(names.size());
  batch->pending = names.size();
  batch->done = std::move(done);
  auto finish = [this](ListBatch& b) {
    ChannelPage page;
    for (auto& info : b.infos) {
      if (info)
        page.channels.push_back(std::move(*info));
    }
    for (const std::string& name : b.gone)
      commands_.command({"ZREM", redis::channelsKey(), name}, [](const redisReply*) {});
    page.next = b.next;
    b.done(std::move(page));
  };
  if (names.empty())
    return finish(*batch);
  for (size_t i = 0; i < names.size(); ++i) {
    describe(names[i], [batch, i, name = names[i], finish](std::optional<ChannelInfo> found) {
      if (!found)
        batch->gone.push_back(name);
      batch->infos[i] = std::move(found);
      if (--batch->pending == 0)
        finish(*batch);
    });
  }
}

void RedisEngine::remove(std::string channel, RemoveDone done) {
  done = inOrder(std::move(done));
  fanout_.deleting(channel); // until the deletion comes back over pub/sub
  eval(redis::deleteCommand(channel), [this, channel, done = std::move(done)](const redisReply* r) {
    std::string error;
    auto deleted = redis::parseInteger(r, error);
    using S = RemoveOutcome::Status;
    if (!deleted || *deleted != 1)
      fanout_.deleteRefused(channel); // no deletion will come (or none is known to)
    if (!deleted)
      return done(RemoveOutcome{S::kUnavailable, "delete could not be stored in Redis: " + error});
    if (*deleted != 1)
      return done(RemoveOutcome{S::kNotFound, {}});
    commands_.command({"ZREM", redis::channelsKey(), channel}, [](const redisReply*) {});
    done(RemoveOutcome{S::kDeleted, {}});
  });
}

EngineStats RedisEngine::stats() const {
  EngineStats s;
  s.published = published_;
  s.evicted = evicted_;
  s.channels = fanout_.channelCount();
  s.storage = StorageHealth{commands_.ready() && pubsub_.ready(), latency_ms_,
                            commands_.reconnects() + pubsub_.reconnects(), reads_from_memory_,
                            reads_from_storage_};
  return s;
}

void RedisEngine::sweep() {
  int64_t now = clock_.nowMs();
  if (ping_sent_ms_ != 0 && now - ping_sent_ms_ > kPingTimeoutMs) {
    HF_WARN("redis did not answer PING within 3 s; reconnecting", {});
    ping_sent_ms_ = 0;
    commands_.drop();
  }
  if (ping_sent_ms_ == 0 && commands_.ready()) {
    ping_sent_ms_ = now;
    commands_.command({"PING"}, [this, now](const redisReply* r) {
      if (r && r->type == REDIS_REPLY_STATUS)
        latency_ms_ = static_cast<uint64_t>(clock_.nowMs() - now);
      ping_sent_ms_ = 0;
    });
  }
  fanout_.retry();
  checkPubsub(now);
  if (commands_.ready())
    pruneList();
}

// Overdue at two sweeps in a row before the link is dropped: after the event loop stalled, the
// first sweep may run before the echo waiting in the socket is read.
void RedisEngine::checkPubsub(int64_t now) {
  if (!listening_ || !pubsub_.ready())
    return; // no SUBSCRIBE of the node's channel confirmed (yet): no echo could come back
  if (!commands_.ready())
    return restartEchoClock(now); // no echo can be sent: the silence says nothing of pub/sub
  if (now - echo_ms_ > kEchoTimeoutMs) {
    if (echo_overdue_) {
      HF_WARN("redis pub/sub link brought no echo within 5 s; reconnecting", {});
      restartEchoClock(now);
      pubsub_.drop();
      return;
    }
    echo_overdue_ = true;
  }
  commands_.command({"PUBLISH", listen_channel_, std::string(redis::kEchoPayload)},
                    [](const redisReply*) {});
}

void RedisEngine::restartEchoClock(int64_t now) {
  echo_ms_ = now;
  echo_overdue_ = false;
}

// A name is dropped when its meta key is gone (expired or deleted). A publish that recreates
// the channel meanwhile adds the name again with its next publish.
void RedisEngine::pruneList() {
  std::string min = prune_after_.empty() ? "-" : "(" + prune_after_;
  commands_.command(
      {"ZRANGEBYLEX", redis::channelsKey(), min, "+", "LIMIT", "0", std::to_string(kPrunePage)},
      [this](const redisReply* r) {
        std::vector<std::string> page = names(r);
        prune_after_ = page.size() < kPrunePage ? std::string() : page.back();
        for (const std::string& name : page) {
          commands_.command({"EXISTS", redis::metaKey(name)}, [this, name](const redisReply* e) {
            if (e && e->type == REDIS_REPLY_INTEGER && e->integer == 0)
              commands_.command({"ZREM", redis::channelsKey(), name}, [](const redisReply*) {});
          });
        }
      });
}

} // namespace holdfast::engine
