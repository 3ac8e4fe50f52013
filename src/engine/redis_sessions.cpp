// Sessions in Redis: write-through of the session table, lookups, and session commands between
// nodes over their control channels.
#include "engine/redis_sessions.h"

#include "redis/sessions.h"
#include "util/log.h"

namespace holdfast::engine {

RedisSessions::RedisSessions(redis::Link& commands, RedisEngine& engine, std::string node,
                             SessionTimes times, size_t max_channels)
    : commands_(commands), node_(std::move(node)), times_(times), max_channels_(max_channels) {
  engine.listen(redis::nodeChannel(node_), [this](std::string_view p) { onMessage(p); });
}

void RedisSessions::send(const redis::Command& command) {
  commands_.command(command, [](const redisReply* r) {
    if (r && r->type == REDIS_REPLY_ERROR)
      HF_WARN("redis session write failed", util::logField("error", std::string(r->str, r->len)));
  });
}

void RedisSessions::put(const std::string& id, const hub::Cursor& cursor) {
  send(redis::putSessionCommand(id, cursor, times_.ttl_ms));
}

void RedisSessions::claim(const std::string& id) {
  send(redis::claimSessionCommand(id, node_, times_.ttl_ms + times_.hold_ms));
}

void RedisSessions::release(const std::string& id, const hub::Cursor& cursor) {
  send(redis::releaseSessionCommand(id, node_, cursor, times_.ttl_ms));
}

void RedisSessions::erase(const std::string& id) {
  send(redis::eraseSessionCommand(id));
}

void RedisSessions::fetch(const std::string& id, LookupDone done) {
  commands_.command(redis::fetchSessionCommand(id),
                    [this, done = std::move(done)](const redisReply* r) {
                      done(redis::parseSessionFetch(r, max_channels_));
                    });
}

void RedisSessions::forward(const std::string& node, const session::Command& command) {
  commands_.command({"PUBLISH", redis::nodeChannel(node), redis::formatSessionCommand(command)},
                    [](const redisReply*) {});
}

void RedisSessions::onMessage(std::string_view payload) {
  auto command = redis::parseSessionCommand(payload, max_channels_);
  if (!command) {
    HF_WARN("malformed session command ignored", {});
    return;
  }
  if (handler_)
    handler_(*command);
}

} // namespace holdfast::engine
