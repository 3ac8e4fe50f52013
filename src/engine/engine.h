// The engine seam: everything the request handlers ask of channel storage. The memory engine
// (memory_engine.h, over hub::Hub) is the default; an engine whose answers arrive later (Redis,
// on the same event loop) implements the same interface, and no handler knows which one serves
// it.
//
// Contract, for every implementation:
// - Single-threaded: every call and every callback runs on the one event loop.
// - Completion: a call with a `done` callback reports through it exactly once. The callback may
//   run before the call returns (the memory engine always answers at once) or on a later loop
//   pass (an engine that waits for a reply). Callers must therefore not keep references that
//   the callback could outlive: a handler's continuation holds the request's app::RequestRef
//   and looks the request up again (it may have ended meanwhile; that is a normal miss).
// - Ordering: callbacks of one engine run in the order the calls were made. A publish's
//   fan-out (Subscriber::deliver) happens before its `done` runs.
// - Reentrancy: Subscriber::deliver/channelDeleted run during fan-out; they must not call
//   subscribe/unsubscribe/unsubscribeAll synchronously (the hub asserts it). `done` callbacks
//   run outside any fan-out and may call the engine again.
// - Ownership: the engine owns channels and messages; messages are shared immutable
//   (hub::MessagePtr). Subscribers are owned by the caller and must be unsubscribed
//   (unsubscribeAll) before they are destroyed; the engine keeps raw pointers to them.
// - All or nothing: publish stores every item or none (each item is checked first). The one
//   exception is a storage failure in the middle of a request (the memory engine's journal
//   cannot write, Redis lost): the items before it may be stored although the answer is 503.
// - Unavailable storage (an engine over a network store, e.g. Redis while unreachable):
//   publish answers kUnavailable (503) and never a 2xx for an unstored message; read answers a
//   ReadResult with `unavailable` set (the handler answers 503 + Retry-After); subscribers stay
//   subscribed and are caught up (or told of a gap) once storage is back.
// - Relaxations for an engine whose fan-out arrives over the network (Redis): a publish's
//   fan-out to this node's subscribers may come after its `done`; `subscribers` in Published
//   and ChannelInfo counts what the engine can see (Redis: nodes that received the message;
//   this node's subscribers in info).
// - Channel cap (hub::Limits::max_channels): publish, read and heads never create a channel
//   past it. A call that would is refused whole, creating nothing: publish answers
//   kTooManyChannels, read a ReadResult with too_many_channels set, heads std::nullopt. The
//   handlers answer 503 too_many_channels with Retry-After (docs/api.md). Channels that exist
//   are always served. An engine without a local channel table may apply the cap to whatever
//   per-channel state it keeps on this node.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "hub/cursor.h"
#include "hub/hub.h"
#include "hub/subscriber.h"

namespace holdfast::engine {

// One message to publish; `event` and `channel` are already validated.
struct PublishItem {
  std::string channel;
  std::string event = "message";
  std::string data;          // the body as published
  bool data_is_json = false; // `data` is valid JSON text (embedded as is)
};

// One stored message of a publish.
struct Published {
  std::string channel;
  std::string id;         // EPOCH-SEQ
  size_t subscribers = 0; // live subscribers it was fanned out to
};

struct PublishOutcome {
  enum class Status {
    kOk,              // every item stored, `results` has one entry per item in order
    kTooLarge,        // an item exceeds buffer_bytes or memory_limit: nothing stored (507)
    kUnavailable,     // storage unreachable: nothing stored (503 + Retry-After)
    kTooManyChannels, // an item would create a channel past max_channels: nothing stored (503)
  };
  Status status = Status::kOk;
  std::vector<Published> results;
  std::string error; // when not kOk: says which item and why
};

// What GET <ctl>/channels/<ch> reports.
struct ChannelInfo {
  std::string name;
  std::string epoch;
  size_t messages = 0;
  size_t bytes = 0;
  std::optional<std::string> first_id; // none when nothing is buffered
  std::optional<std::string> last_id;
  uint64_t last_seq = 0;
  size_t subscribers = 0;
  int64_t last_publish_ms = 0; // wall clock; 0 = never
};

struct ChannelPage {
  std::vector<ChannelInfo> channels; // sorted by name
  std::optional<std::string> next;   // pass as `after` for the next page; none at the end
};

struct RemoveOutcome {
  enum class Status {
    kDeleted,     // history dropped, subscribers told
    kNotFound,    // no such channel (404)
    kUnavailable, // storage refused the change: nothing changed (503 + Retry-After)
  };
  Status status = Status::kNotFound;
  std::string error; // when kUnavailable
};

// Health of the storage an engine talks to over the network (none for the memory engine).
struct StorageHealth {
  bool connected = false;          // commands and pub/sub links both ready
  uint64_t latency_ms = 0;         // last PING round trip
  uint64_t reconnects = 0;         // times a link got ready again after a loss
  uint64_t reads_from_memory = 0;  // channel reads answered from the node's recent messages
  uint64_t reads_from_storage = 0; // channel reads (and catch-ups) sent to the storage
};

struct EngineStats {
  uint64_t published = 0;
  uint64_t evicted = 0;
  size_t channels = 0;
  size_t buffered = 0;
  size_t buffered_bytes = 0;
  std::optional<StorageHealth> storage;
};

class Engine {
public:
  using PublishDone = std::function<void(PublishOutcome)>;
  using ReadDone = std::function<void(hub::ReadResult)>;
  using HeadsDone = std::function<void(std::optional<hub::Cursor>)>; // nullopt: channel cap
  using InfoDone = std::function<void(std::optional<ChannelInfo>)>;
  using ListDone = std::function<void(ChannelPage)>;
  using RemoveDone = std::function<void(RemoveOutcome)>;

  virtual ~Engine() = default;

  // Stores `items` (all or nothing) and fans each out to its channel's subscribers.
  virtual void publish(std::vector<PublishItem> items, PublishDone done) = 0;
  // The backlog after each start point, with the resume/gap rules of DESIGN §2. Touches (and
  // so creates) every channel named, or none past the channel cap (too_many_channels).
  // Channels in `starts` are distinct.
  virtual void read(std::vector<hub::Start> starts, ReadDone done) = 0;
  // The position a new subscriber of each channel is at now (creating missing channels), or
  // nullopt when creating them would pass the channel cap (nothing created).
  virtual void heads(std::vector<std::string> channels, HeadsDone done) = 0;

  // Subscribes to every channel of `from`: the subscriber gets every message published after
  // those positions (an engine that answered `read` later catches the subscriber up).
  virtual void subscribe(hub::Subscriber& subscriber, const hub::Cursor& from) = 0;
  virtual void unsubscribe(hub::Subscriber& subscriber, const std::string& channel) = 0;
  // Removes the subscriber from every channel. Safe to call twice.
  virtual void unsubscribeAll(hub::Subscriber& subscriber) = 0;

  virtual void info(std::string channel, InfoDone done) = 0;
  // Channels sorted by name after `after` (exclusive), at most `limit`.
  virtual void list(std::string after, size_t limit, ListDone done) = 0;
  // Drops a channel's history; its subscribers get channelDeleted().
  virtual void remove(std::string channel, RemoveDone done) = 0;

  // This node's counters (synchronous: /stats and /metrics are per node).
  virtual EngineStats stats() const = 0;
  // Periodic housekeeping (ages out messages, collects idle channels); called every second.
  virtual void sweep() = 0;
  // New limits (SIGHUP); they apply from the next publish or sweep.
  virtual void setLimits(const hub::Limits& limits) = 0;
};

} // namespace holdfast::engine
