// This node's half of fan-out over Redis: which local subscribers are on which channel (indexed
// both ways), the position each has been given, when the node must SUBSCRIBE / UNSUBSCRIBE the
// channel's pub/sub channel (while it has local subscribers, and a linger after), when a
// subscriber must be caught up from history, and which reads the node can answer from the
// messages pub/sub brought (redis::Recent). Pure: the engine carries out the actions.
//
// When the last local subscriber of a channel leaves, the subscription lingers for `linger_ms`
// (a long-poll client is usually back at once: without it every poll cycle would cost an
// UNSUBSCRIBE, a SUBSCRIBE and a catch-up read) while the node keeps following the channel's
// head; retry() then UNSUBSCRIBEs it. A linger of 0 unsubscribes at once. Until Redis confirms
// an UNSUBSCRIBE, a new subscriber waits and the channel is SUBSCRIBEd again afterwards.
// (Sending SUBSCRIBE while an UNSUBSCRIBE of the same channel is in flight would let the late
// unsubscribe confirmation cancel the new subscription in hiredis.) While a channel lingers,
// Redis still counts this node as a receiver, so a publish then answers 201.
//
// No duplicates, nothing skipped: every subscriber has a position (epoch, seq); a message is
// delivered to it only when its seq is above that position. A pub/sub message that is not the
// next one for some subscriber (a message arrived between its read and its subscribe, or
// pub/sub was down) starts a catch-up read from history after the lowest position; the read's
// messages go to every subscriber still below them. One hub::MessagePtr per message reaches
// every subscriber (rendered once per node).
//
// Reentrancy: deliver/channelDeleted run during fan-out and must not call back into the Fanout
// (asserted). Actions may complete synchronously (e.g. catch-up with the link down), i.e. call
// caughtUp() before the action returns.
// Ownership: subscribers are owned elsewhere and must be removed (removeAll) before they die.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "hub/hub.h"
#include "hub/subscriber.h"
#include "redis/recent.h"
#include "util/clock.h"

namespace holdfast::redis {

class Fanout {
public:
  struct Actions {
    std::function<void(const std::string& channel)> subscribe;   // SUBSCRIBE on Redis
    std::function<void(const std::string& channel)> unsubscribe; // UNSUBSCRIBE on Redis
    // Read the channel's history after `after`; answer with caughtUp().
    std::function<void(const hub::Position& after)> catchUp;
  };

  // How long an idle channel stays subscribed by default (docs/redis.md).
  static constexpr int64_t kLingerMs = 2000;

  Fanout(Actions actions, const util::Clock& clock, int64_t linger_ms = kLingerMs)
      : actions_(std::move(actions)), clock_(clock), linger_ms_(linger_ms) {}

  // Adds `s` to `from.channel` at position `from` (the end of the read it was answered from).
  void add(hub::Subscriber& s, const hub::Position& from);
  void remove(hub::Subscriber& s, const std::string& channel);
  // Idempotent.
  void removeAll(hub::Subscriber& s);

  // The pub/sub link is ready: every channel is subscribed again.
  void linkReady();
  // The pub/sub link was lost: channels wait for their SUBSCRIBE to be confirmed again.
  void linkLost();
  // Redis confirmed the channel's SUBSCRIBE: catch up (covers messages sent before it).
  void subscribed(const std::string& channel);
  // Redis confirmed the channel's UNSUBSCRIBE: forgotten, or subscribed again if it has
  // subscribers by now.
  void unsubscribed(const std::string& channel);
  // A message from pub/sub. Returns the local subscribers it was delivered to.
  size_t message(const hub::MessagePtr& m);
  // The answer to a catchUp action (an unavailable read is retried by retry()).
  void caughtUp(const std::string& channel, const hub::ReadResult& r);
  // The channel (incarnation `epoch`) was deleted: its subscribers at that epoch are told and
  // removed.
  void deleted(const std::string& channel, const std::string& epoch);
  // Retries catch-ups that failed and UNSUBSCRIBEs channels idle for the linger (call
  // periodically).
  void retry();

  // A client's read after `after` answered from the messages this node received over its live
  // subscription (redis::Recent), or nullopt when Redis must answer it: also when Redis has not
  // answered anything about the channel for `max_quiet_ms` (a read renews the channel's keys'
  // expiry; answers from memory alone would let them expire under waiting readers), or while a
  // delete this node sent is not confirmed over pub/sub. `now_ms` is wall time (message ages);
  // `waits`: the request is held when nothing is new (hub::Start::waits, see published()).
  std::optional<ChannelRead> recentRead(const hub::Position& after, const hub::Limits& limits,
                                        int64_t now_ms, int64_t max_quiet_ms, bool waits) const;
  // Redis answered a read of the channel (its keys' expiry was renewed).
  void answered(const std::string& channel);
  // This node's publish got `epoch`/`seq`: a read that does not wait (`waits` false above) is
  // not answered from memory without it (it asks Redis until the pub/sub copy arrived), so a
  // piggyback read after a publish is never behind it. A waiting read may be: it gets the
  // message through its subscription.
  void published(const std::string& channel, const std::string& epoch, uint64_t seq);
  // This node asked Redis to delete the channel: no answers from memory until the deletion
  // arrives over pub/sub (deleted), Redis found nothing to delete or failed (deleteRefused,
  // once per delete), the link is lost, or a SUBSCRIBE of the channel is confirmed.
  void deleting(const std::string& channel);
  void deleteRefused(const std::string& channel);

  // Channels this node is on (with subscribers, lingering, or waiting for an UNSUBSCRIBE to
  // complete).
  size_t channelCount() const { return channels_.size(); }
  size_t subscriberCount(const std::string& channel) const;

private:
  struct Pos {
    std::string epoch;
    uint64_t seq = 0;
  };
  struct Local {
    std::string name;
    std::string epoch; // newest epoch seen
    uint64_t head = 0; // highest seq seen in `epoch`
    std::unordered_map<hub::Subscriber*, Pos> subs;
    bool live = false;          // SUBSCRIBE confirmed on the current pub/sub connection
    bool catching = false;      // a catch-up read is in flight
    bool again = false;         // news arrived meanwhile: read once more when it answers
    bool stale = false;         // the last catch-up failed: retry() starts another
    bool unsubscribing = false; // UNSUBSCRIBE sent, confirmation pending
    int64_t idle_since_ms = -1; // the last subscriber left then (lingering); -1: not idle
    Recent recent;              // what pub/sub brought since the subscription became live
    int64_t storage_ms = -1;    // Redis last told this node about the channel (monotonic)
    uint64_t own_head = 0;      // highest seq of this node's own publishes in `epoch`
    int deletes = 0;            // deletes this node sent, not confirmed yet
  };

  static uint64_t effective(const Local& ch, const Pos& p) {
    return p.epoch == ch.epoch ? p.seq : 0;
  }
  Local* find(const std::string& channel);
  void see(Local& ch, const hub::MessagePtr& m);
  void moveTo(Local& ch, const std::string& epoch);
  size_t deliver(Local& ch, const hub::MessagePtr& m, bool only_next);
  void startCatchUp(Local& ch);
  void unindex(hub::Subscriber& s, const std::string& channel);
  void leave(Local& ch);
  void unsubscribe(Local& ch);
  void dropIdle();

  Actions actions_;
  const util::Clock& clock_;
  int64_t linger_ms_;
  std::unordered_map<std::string, Local> channels_;
  std::unordered_map<hub::Subscriber*, std::vector<std::string>> index_;
  bool link_ready_ = false;
  bool in_fanout_ = false;
};

} // namespace holdfast::redis
