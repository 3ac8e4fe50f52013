// The hub: channels with epoch + sequence ids, bounded ring buffers, resume/gap rules, and the
// two-way subscriber index with fan-out. Pure: no I/O, time from an injected Clock.
//
// Ownership: Hub owns its Channels (unique_ptr); Channels own MessagePtrs (shared with readers);
// Subscribers are owned elsewhere and must be unsubscribed (unsubscribeAll) before they die.
// Reentrancy: during fan-out (publish / deleteChannel) nothing may subscribe or unsubscribe.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "hub/cursor.h"
#include "hub/message.h"
#include "hub/remembered_epochs.h"
#include "hub/ring.h"
#include "hub/subscriber.h"
#include "util/clock.h"
#include "util/random.h"

namespace holdfast::hub {

struct Limits {
  size_t max_messages = 100;               // per channel
  int64_t max_age_ms = 3600 * 1000;        // per message
  size_t max_bytes = 4 * 1024 * 1024;      // per channel (Message::cost sum)
  size_t memory_limit = 256 * 1024 * 1024; // all channels together
  size_t batch_max = 1000;                 // messages returned by one read
  // Channels in memory (live ones; remembered epochs do not count). A read, head or publish
  // that would create a channel past it is refused; 0 is not allowed (config validates).
  size_t max_channels = 100000;
  // An empty channel nobody subscribes to, never published to, is collected this long after
  // its last use (channels with history linger max_age_ms, see Hub::sweep).
  int64_t channel_idle_ms = 60 * 1000;
};

class Channel {
public:
  Channel(std::string name, std::string epoch) : name_(std::move(name)), epoch_(std::move(epoch)) {}
  const std::string& name() const { return name_; }
  const std::string& epoch() const { return epoch_; }
  uint64_t lastSeq() const { return last_seq_; }
  // Seq of the oldest buffered message, or lastSeq()+1 when nothing is buffered.
  uint64_t firstSeq() const { return ring_.empty() ? last_seq_ + 1 : ring_.front()->seq; }
  const Ring& messages() const { return ring_; }
  size_t bytes() const { return bytes_; }
  size_t subscriberCount() const { return subscribers_.size(); }
  int64_t lastPublishMs() const { return last_publish_wall_ms_; } // wall clock, 0 = never

private:
  friend class Hub;
  std::string name_;
  std::string epoch_;
  uint64_t last_seq_ = 0;
  Ring ring_;
  size_t bytes_ = 0;
  // Contiguous, so a fan-out walks an array; each subscriber knows its slot (O(1) removal).
  std::vector<Subscriber*> subscribers_;
  int64_t last_publish_wall_ms_ = 0;
  int64_t last_active_ms_ = 0; // monotonic; for idle-channel collection
};

// A gap report: the client asked for `requested` but the hub can only continue from
// `first_available` (empty when nothing is buffered). reason: "evicted", "epoch" or "unknown".
struct Gap {
  std::string channel;
  std::string requested;
  std::string first_available;
  std::string reason;
};

// Where a read starts in one channel.
struct Start {
  enum class Mode {
    kNew,    // only messages published from now on (no backlog)
    kOldest, // everything buffered
    kLast,   // the last `last_n` buffered messages
    kCursor, // after `position` (epoch + seq), with the resume rules
  };
  std::string channel;
  Mode mode = Mode::kNew;
  uint64_t last_n = 0;
  Position position; // for kCursor (position.channel == channel)
  // The request waits when the read finds nothing new (a held long-poll, a stream) and then
  // subscribes from the read's cursor: an engine may answer "nothing new" from what it knows
  // locally, since anything newer reaches the request through subscribe() anyway.
  bool waits = false;
};

struct ReadResult {
  std::vector<MessagePtr> messages; // merged across channels by publish order, oldest first
  std::vector<Gap> gaps;
  Cursor cursor;     // one position per requested channel, after the returned messages
  bool more = false; // batch limit cut the backlog; `cursor` points at the rest
  // The engine's storage was unreachable: nothing was read, the other fields are empty, and
  // the request is answered 503 + Retry-After (never set by the hub itself).
  bool unavailable = false;
  // The read named channels that do not exist and creating them would pass max_channels:
  // nothing was read or created (HTTP 503 too_many_channels). Every other field is empty.
  bool too_many_channels = false;
};

struct PublishResult {
  enum class Status {
    kOk,              // buffered and fanned out
    kTooLarge,        // larger than a buffer limit (HTTP 507); nothing changed
    kUnavailable,     // the HistoryLog refused it (HTTP 503); nothing changed, seq not consumed
    kTooManyChannels, // the channel does not exist and max_channels is reached (HTTP 503)
  };
  Status status = Status::kOk;
  MessagePtr message;     // set when kOk
  size_t subscribers = 0; // live subscribers that took the message (Subscriber::deliver)
  std::string error;      // when not kOk
};

struct DeleteResult {
  enum class Status {
    kDeleted,     // history dropped, subscribers told
    kNotFound,    // no such channel
    kUnavailable, // the HistoryLog refused it (HTTP 503); nothing changed
  };
  Status status = Status::kNotFound;
  std::string error; // when kUnavailable
  explicit operator bool() const { return status == Status::kDeleted; }
};

// Persists history changes before they take effect; store::Journal implements it. The hub calls
// it from publish() and deleteChannel() on the caller's stack (the event loop), after the change
// has been checked and before anything is consumed, buffered, fanned out or dropped, so a refusal
// leaves the hub exactly as it was. It must not call back into the hub.
class HistoryLog {
public:
  virtual ~HistoryLog() = default;
  // `message` is complete (channel, epoch, seq, event, time, json). Return false with `error` to
  // refuse the publish; returning true means the record is as durable as the log's policy makes it.
  virtual bool logPublish(const Message& message, std::string& error) = 0;
  virtual bool logDelete(std::string_view channel, std::string& error) = 0;
};

struct HubStats {
  uint64_t published = 0;
  uint64_t evicted = 0;
  size_t channels = 0;
  size_t buffered = 0;
  size_t buffered_bytes = 0;
  size_t remembered = 0; // epochs of collected unpublished channels (see Hub::touch)
};

class Hub {
public:
  Hub(Limits limits, const util::Clock& clock, util::Random& random);
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Returns the channel, creating it at seq 0 when missing: with the epoch it had when sweep()
  // collected it unpublished (so a cursor CH:EPOCH-0 stays exact), else a new random epoch.
  // Name must be valid. Not capped: callers check mayCreate() first.
  Channel& touch(std::string_view name);
  Channel* find(std::string_view name);
  const Channel* find(std::string_view name) const;

  // Appends a message and fans it out to the channel's subscribers (Subscriber::deliver).
  // Evicts per the channel limits and the global memory limit. A message that alone exceeds the
  // per-channel byte limit or the memory limit is refused (kTooLarge -> HTTP 507).
  PublishResult publish(std::string_view channel, std::string_view event, std::string_view data,
                        bool data_is_json);
  // Why publish() would refuse this message now (the kTooLarge error), or empty when it fits.
  // Lets a caller check several messages before publishing any of them.
  std::string refusal(std::string_view channel, std::string_view event, std::string_view data,
                      bool data_is_json) const;

  // Resolves start points into the pending backlog (touches every channel and ages it out).
  // Channels in `starts` must be distinct (parseCursor/parseChannelList reject duplicates).
  // When the missing ones would pass max_channels, touches nothing: too_many_channels.
  ReadResult read(const std::vector<Start>& starts);
  // Whether the channels of `names` that do not exist yet (duplicates counted once) can be
  // created without passing max_channels.
  bool mayCreate(const std::vector<std::string_view>& names) const;
  // The message of a too_many_channels refusal.
  std::string tooManyChannels() const;
  // The position a fresh subscriber on `channel` is at now: {name, epoch, lastSeq}.
  Position head(std::string_view channel);

  void subscribe(Subscriber& subscriber, Channel& channel);
  void unsubscribe(Subscriber& subscriber, Channel& channel);
  void unsubscribeAll(Subscriber& subscriber);

  // Drops the channel's history; subscribers get channelDeleted() and are unsubscribed.
  // kNotFound if no such channel; kUnavailable (nothing changed) if the HistoryLog refused.
  DeleteResult deleteChannel(std::string_view name);

  // Evicts messages older than max_age and removes channels that are empty and unsubscribed:
  // never published to and idle for channel_idle_ms (their epoch is remembered, see touch()),
  // or with history and idle for max_age_ms. Call periodically.
  void sweep();

  // Channels sorted by name, starting after `after` (exclusive), at most `limit`.
  std::vector<const Channel*> list(std::string_view after, size_t limit) const;

  void setLimits(const Limits& limits); // applies on the next publish/sweep
  const Limits& limits() const { return limits_; }
  HubStats stats() const;

  // Every later publish and delete is offered to `log` first (see HistoryLog). Not owned: it
  // must outlive the hub or be reset with setHistoryLog(nullptr). nullptr (default) = no log.
  void setHistoryLog(HistoryLog* log) { log_ = log; }

  // Persistence (state_dir): visit every channel, and recreate one from saved state.
  void forEachChannel(const std::function<void(const Channel&)>& fn) const;
  Channel& restore(std::string_view name, std::string_view epoch, uint64_t last_seq,
                   std::vector<MessagePtr> messages);

private:
  // Transparent hash: lookups by string_view do not build a std::string.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using ChannelMap =
      std::unordered_map<std::string, std::unique_ptr<Channel>, NameHash, std::equal_to<>>;

  Channel& create(std::string_view name, std::string epoch);
  void erase(ChannelMap::iterator it);
  static void removeSlot(Channel& channel, size_t slot);
  static Subscriber::Membership* membership(Subscriber& subscriber, const Channel& channel);
  void append(Channel& channel, MessagePtr message);
  void dropFront(Channel& channel);
  void dropAll(Channel& channel);
  void evictOldest(Channel& channel);
  void evictAged(Channel& channel, int64_t now_ms);
  void enforceChannelLimits(Channel& channel);
  void enforceMemoryLimit();
  size_t fanOut(const Channel& channel, const MessagePtr& message); // subscribers that took it
  std::string refusalFor(size_t cost) const;
  bool collectable(const Channel& channel, int64_t now_ms) const;
  bool in_fanout_ = false;
  HistoryLog* log_ = nullptr;

  Limits limits_;
  const util::Clock& clock_;
  util::Random& random_;
  ChannelMap channels_;
  // Channels with buffered messages, keyed by the publish order (Message::order) of their
  // oldest one: begin() holds the globally oldest message, evicted first when the memory limit
  // is reached. Holds no message references, so evicted messages are freed at once.
  std::set<std::pair<uint64_t, Channel*>> oldest_;
  uint64_t next_order_ = 0;
  size_t total_bytes_ = 0;
  size_t total_messages_ = 0;
  uint64_t published_ = 0;
  uint64_t evicted_ = 0;
  RememberedEpochs remembered_; // epochs of channels collected before their first message
};

} // namespace holdfast::hub
