// The Redis engine: epochs, sequence ids, history and cross-node fan-out live in Redis, so any
// number of holdfast processes on any hosts serve one set of channels and any node serves any
// cursor. Each publish is one EVALSHA (assigns the id, appends to the channel's stream, trims,
// PUBLISHes); reads run the read script per channel and merge (a cursor read the node can
// answer from the messages pub/sub brought it, redis::Recent, skips Redis); this node
// SUBSCRIBEs to a channel's pub/sub channel only while it has local subscribers
// (redis::Fanout).
//
// Ownership: uses two links owned by the caller that outlive the engine (one for commands, one
// in pub/sub mode), and the clock and random source. Never blocks: every call completes from
// a link callback on the event loop, or at once (Redis unreachable, a read answered from
// memory) once every call made before it has completed (engine::InOrder).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "engine/engine.h"
#include "engine/in_order.h"
#include "hub/hub.h"
#include "redis/fanout.h"
#include "redis/link.h"
#include "redis/reply.h"
#include "redis/scripts.h"
#include "util/clock.h"
#include "util/random.h"

namespace holdfast::engine {

class RedisEngine final : public Engine {
public:
  RedisEngine(redis::Link& commands, redis::Link& pubsub, hub::Limits limits,
              const util::Clock& clock, util::Random& random);
  // Sets the links' hooks and starts connecting.
  void start();

  void publish(std::vector<PublishItem> items, PublishDone done) override;
  void read(std::vector<hub::Start> starts, ReadDone done) override;
  void heads(std::vector<std::string> channels, HeadsDone done) override;
  void subscribe(hub::Subscriber& subscriber, const hub::Cursor& from) override;
  void unsubscribe(hub::Subscriber& subscriber, const std::string& channel) override;
  void unsubscribeAll(hub::Subscriber& subscriber) override;
  void info(std::string channel, InfoDone done) override;
  void list(std::string after, size_t limit, ListDone done) override;
  void remove(std::string channel, RemoveDone done) override;
  EngineStats stats() const override;
  // PINGs Redis (latency; a PING unanswered for 3 s drops the link), retries catch-ups and
  // prunes a page of the channel list.
  void sweep() override;
  void setLimits(const hub::Limits& limits) override { limits_ = limits; }

  // Subscribes the pub/sub link to `pubsub_channel` whenever it is ready (a node's own control
  // channel, see redis_sessions.h) and passes what arrives on it to `on_message`. At most one;
  // call before start().
  void listen(std::string pubsub_channel, std::function<void(std::string_view)> on_message);

private:
  struct PublishBatch;
  struct ReadBatch;

  // `done`, run only once every call made before it has completed (engine.h's ordering rule:
  // reads answered from memory complete at once, the others when Redis replies).
  template <typename T> std::function<void(T)> inOrder(std::function<void(T)> done) {
    InOrder::Slot slot = order_.open();
    return [this, slot, done = std::move(done)](T value) {
      order_.complete(slot, [done, value = std::move(value)]() mutable { done(std::move(value)); });
    };
  }

  // Sends an EVALSHA; on NOSCRIPT (Redis restarted without the script cache) retries once
  // with EVAL, which also caches the script again.
  void eval(redis::Command command, redis::Link::Reply done);
  void loadScripts();
  void remember(const std::string& channel);
  std::string refusal(const PublishItem& item) const;
  void published(PublishBatch& batch, size_t index, const redisReply* reply);
  // kClient: an engine call, answered in call order; channels whose answer this node holds in
  // memory (redis::Recent) skip Redis. kCatchUp: Fanout's own read, always from Redis (it is
  // for what pub/sub may not have brought), answered when Redis replies.
  enum class Reader { kClient, kCatchUp };
  void readFrom(std::vector<hub::Start> starts, ReadDone done, Reader reader);
  std::optional<redis::ChannelRead> fromRecent(const hub::Start& start) const;
  void readOne(const std::shared_ptr<ReadBatch>& batch, size_t index, const redisReply* reply);
  void finishRead(const std::shared_ptr<ReadBatch>& batch);
  void answerRead(ReadBatch& batch);
  void describe(std::string channel, InfoDone done);
  void listed(std::vector<std::string> names, size_t limit, ListDone done);
  // Publishes an echo on this node's own control channel each sweep once its SUBSCRIBE is
  // confirmed; a pub/sub link that has not brought one back for kEchoTimeoutMs at two sweeps
  // in a row is dropped (a silently dead connection would otherwise leave held subscribers
  // waiting for ever, answered "nothing new" from memory).
  void checkPubsub(int64_t now);
  // An echo came back, or the wait for one starts afresh (link ready, commands link down).
  void restartEchoClock(int64_t now);
  // Walks the channel list a page per call, dropping names whose keys expired, so the list
  // stays bounded even when nobody lists channels.
  void pruneList();
  void onNotice(std::string_view pubsub, std::string_view payload);
  void pubsubReady();
  void catchUp(const hub::Position& after);

  redis::Link& commands_;
  redis::Link& pubsub_;
  hub::Limits limits_;
  const util::Clock& clock_;
  util::Random& random_;
  redis::Fanout fanout_;
  InOrder order_;
  uint64_t published_ = 0;
  uint64_t evicted_ = 0;
  uint64_t reads_from_memory_ = 0;  // channel reads answered by redis::Recent
  uint64_t reads_from_storage_ = 0; // channel reads sent to Redis (catch-ups too)
  int64_t ping_sent_ms_ = 0;        // 0: no PING outstanding
  uint64_t latency_ms_ = 0;
  std::string prune_after_;    // where pruneList() continues; empty: from the start
  std::string listen_channel_; // empty: none
  int64_t echo_ms_ = 0;        // the pub/sub link last brought an echo back (or got ready)
  bool echo_overdue_ = false;  // the last sweep found the echo overdue
  bool listening_ = false;     // the SUBSCRIBE of listen_channel_ is confirmed on this link
  std::function<void(std::string_view)> on_listen_; // what arrives on listen_channel_
};

} // namespace holdfast::engine
