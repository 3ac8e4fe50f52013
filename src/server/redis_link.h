// redis::Link over hiredis's async API on the libevent loop: one connection to Redis, in
// command mode or pub/sub mode, that reconnects by itself with backoff (redis::Reconnect).
//
// Ownership: owns its redisAsyncContext (freed in the destructor; replies still pending then
// are dropped without calling their callbacks, since their owners are being torn down too).
// Callbacks run on the loop from hiredis's read handler; a link is never freed from inside
// one of its own callbacks (hiredis frees a lost context itself, after the callbacks).
#pragma once

#include <hiredis/async.h>

#include <string>

#include "redis/link.h"
#include "redis/reconnect.h"
#include "redis/url.h"
#include "server/event_handles.h"
#include "util/clock.h"

namespace holdfast::server {

class RedisLink final : public redis::Link {
public:
  RedisLink(event_base* base, redis::Address address, std::string password, std::string name,
            const util::Clock& clock);
  ~RedisLink() override;
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  void setHooks(Hooks hooks) override { hooks_ = std::move(hooks); }
  void start() override { attempt(); }
  bool ready() const override { return state_.ready() && ctx_; }
  void command(const std::vector<std::string>& args, Reply done) override;
  void subscribe(const std::string& channel) override;
  void unsubscribe(const std::string& channel) override;
  void drop() override;
  uint64_t reconnects() const override { return state_.reconnects(); }

private:
  static void onConnect(const redisAsyncContext* ctx, int status);
  static void onDisconnect(const redisAsyncContext* ctx, int status);
  static void onReply(redisAsyncContext* ctx, void* reply, void* privdata);
  static void onHandshake(redisAsyncContext* ctx, void* reply, void* privdata);
  static void onPubsub(redisAsyncContext* ctx, void* reply, void* privdata);
  static void onRetry(evutil_socket_t fd, short what, void* arg);
  void attempt();
  void handshake();
  void failed(const std::string& why);
  bool send(const std::vector<std::string>& args, redisCallbackFn* fn, void* privdata);
  void pubsubReply(const redisReply* reply);

  event_base* base_;
  redis::Address address_;
  std::string password_;
  std::string name_; // "commands" or "pubsub", for logs
  Hooks hooks_;
  redis::Reconnect state_;
  redisAsyncContext* ctx_ = nullptr;
  EventPtr retry_ev_;
  bool closing_ = false;
};

} // namespace holdfast::server
