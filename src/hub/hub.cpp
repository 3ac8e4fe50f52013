// The hub: channels with epoch + sequence ids, bounded rings, resume/gap rules, the two-way
// subscriber index and fan-out. Pure: no I/O; time comes from the injected Clock.
#include "hub/hub.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace holdfast::hub {
namespace {

constexpr size_t kEpochBytes = 6; // 8 base64url characters

std::string messageId(std::string_view epoch, uint64_t seq) {
  std::string id(epoch);
  id += '-';
  id += std::to_string(seq);
  return id;
}

// The id of the message after `seq`. Saturates for a (hostile) UINT64_MAX instead of wrapping
// to "-0", which would read as "before the first message".
std::string nextId(std::string_view epoch, uint64_t seq) {
  return messageId(epoch, seq == std::numeric_limits<uint64_t>::max() ? seq : seq + 1);
}

std::string firstAvailable(const Channel& ch) {
  return ch.messages().empty() ? std::string() : messageId(ch.epoch(), ch.firstSeq());
}

// One channel's share of a read: the ring slice [begin, end) it may return (`next` advances as
// the merge takes messages) and the position reported if none of it is returned.
struct Slice {
  const Channel* channel = nullptr;
  size_t begin = 0;
  size_t next = 0;
  size_t end = 0;
  Position start;
};

// The slice from ring index `begin` to the newest message; `start` is the message before it
// (firstSeq() + begin - 1 never underflows: firstSeq() >= 1).
Slice sliceFrom(const Channel& ch, size_t begin) {
  assert(begin <= ch.messages().size());
  Position start{ch.name(), ch.epoch(), ch.firstSeq() + begin - 1};
  return Slice{&ch, begin, begin, ch.messages().size(), std::move(start)};
}

// The resume rules of DESIGN.md §2 for one cursor position.
Slice resolveCursor(const Channel& ch, const Position& p, std::vector<Gap>& gaps) {
  if (p.epoch != ch.epoch()) {
    // History was recreated (deleted, collected when idle, restart without state): everything
    // buffered is new to the client. `requested` keeps the client's own epoch.
    gaps.push_back(Gap{ch.name(), nextId(p.epoch, p.seq), firstAvailable(ch), "epoch"});
    return sliceFrom(ch, 0);
  }
  if (p.seq > ch.lastSeq()) {
    // A cursor from the future (made up, or from history this server no longer has). Which
    // buffered messages the client saw is unknown: deliver from the oldest buffered one, and say
    // so, like any other position the hub cannot continue exactly (DESIGN.md §2).
    gaps.push_back(Gap{ch.name(), nextId(p.epoch, p.seq), firstAvailable(ch), "unknown"});
    return sliceFrom(ch, 0);
  }
  if (p.seq + 1 < ch.firstSeq()) {
    // The next message was evicted: continue from the oldest buffered one.
    gaps.push_back(Gap{ch.name(), nextId(p.epoch, p.seq), firstAvailable(ch), "evicted"});
    return sliceFrom(ch, 0);
  }
  // Exactly the missed messages: p.seq + 1 - firstSeq() <= size since p.seq <= lastSeq().
  return sliceFrom(ch, static_cast<size_t>(p.seq + 1 - ch.firstSeq()));
}

Slice resolve(const Channel& ch, const Start& s, std::vector<Gap>& gaps) {
  size_t size = ch.messages().size();
  switch (s.mode) {
  case Start::Mode::kNew:
    return sliceFrom(ch, size);
  case Start::Mode::kOldest:
    return sliceFrom(ch, 0);
  case Start::Mode::kLast:
    return sliceFrom(ch, size - static_cast<size_t>(std::min<uint64_t>(s.last_n, size)));
  case Start::Mode::kCursor:
    return resolveCursor(ch, s.position, gaps);
  }
  assert(false && "unknown Start::Mode");
  return sliceFrom(ch, size);
}

// k-way merge by publish order (Message::order), at most `budget` messages. Each channel
// yields a prefix of its slice in seq order, so its cursor stays exact when the batch is cut.
// Linear scan of the heads: k is bounded by max_channels_per_request (64 by default).
void merge(std::vector<Slice>& slices, size_t budget, std::vector<MessagePtr>& out) {
  while (out.size() < budget) {
    Slice* best = nullptr;
    for (Slice& s : slices) {
      if (s.next < s.end && (!best || s.channel->messages()[s.next]->order <
                                          best->channel->messages()[best->next]->order))
        best = &s;
    }
    if (!best)
      return;
    out.push_back(best->channel->messages()[best->next++]);
  }
}

// Where a slice leaves the client: after its last returned message, or at its start.
Position endPosition(const Slice& s) {
  if (s.next == s.begin)
    return s.start;
  return Position{s.channel->name(), s.channel->epoch(), s.channel->messages()[s.next - 1]->seq};
}

} // namespace

Hub::Hub(Limits limits, const util::Clock& clock, util::Random& random)
    : limits_(limits), clock_(clock), random_(random) {
  remembered_.setCapacity(limits.max_channels);
}

Channel& Hub::create(std::string_view name, std::string epoch) {
  assert(isValidChannelName(name) && isValidEpoch(epoch));
  auto channel = std::make_unique<Channel>(std::string(name), std::move(epoch));
  channel->last_active_ms_ = clock_.nowMs();
  auto [it, inserted] = channels_.emplace(channel->name(), std::move(channel));
  assert(inserted);
  return *it->second;
}

Channel& Hub::touch(std::string_view name) {
  Channel* channel = find(name);
  if (!channel) {
    std::string epoch = remembered_.recall(name);
    channel = &create(name, epoch.empty() ? random_.token(kEpochBytes) : std::move(epoch));
  }
  channel->last_active_ms_ = clock_.nowMs();
  return *channel;
}

Channel* Hub::find(std::string_view name) {
  auto it = channels_.find(name);
  return it == channels_.end() ? nullptr : it->second.get();
}

const Channel* Hub::find(std::string_view name) const {
  auto it = channels_.find(name);
  return it == channels_.end() ? nullptr : it->second.get();
}

bool Hub::mayCreate(const std::vector<std::string_view>& names) const {
  std::unordered_set<std::string_view> missing;
  for (std::string_view name : names) {
    if (!find(name))
      missing.insert(name);
  }
  return channels_.size() + missing.size() <= limits_.max_channels;
}

// --- Buffer bookkeeping: every change to a ring goes through append/dropFront/dropAll, which
// keep the channel's and the hub's byte and message totals and the `oldest_` index in step.

void Hub::append(Channel& channel, MessagePtr message) {
  size_t cost = message->cost();
  if (channel.ring_.empty())
    oldest_.emplace(message->order, &channel);
  channel.bytes_ += cost;
  total_bytes_ += cost;
  ++total_messages_;
  channel.ring_.push_back(std::move(message));
}

void Hub::dropFront(Channel& channel) {
  assert(!channel.ring_.empty());
  const Message& front = *channel.ring_.front();
  auto node = oldest_.extract({front.order, &channel});
  assert(!node.empty());
  size_t cost = front.cost();
  assert(channel.bytes_ >= cost && total_bytes_ >= cost && total_messages_ > 0);
  channel.bytes_ -= cost;
  total_bytes_ -= cost;
  --total_messages_;
  channel.ring_.pop_front();
  if (!channel.ring_.empty()) {
    // Re-key the channel's node by its new oldest message (no allocation).
    node.value().first = channel.ring_.front()->order;
    oldest_.insert(std::move(node));
  }
}

void Hub::dropAll(Channel& channel) {
  if (!channel.ring_.empty())
    oldest_.erase({channel.ring_.front()->order, &channel});
  assert(total_bytes_ >= channel.bytes_ && total_messages_ >= channel.ring_.size());
  total_bytes_ -= channel.bytes_;
  total_messages_ -= channel.ring_.size();
  channel.bytes_ = 0;
  channel.ring_.clear();
}

void Hub::evictOldest(Channel& channel) {
  dropFront(channel);
  ++evicted_;
}

// Ages use the monotonic publish time (Message::mono_ms), so wall-clock jumps evict nothing.
void Hub::evictAged(Channel& channel, int64_t now_ms) {
  while (!channel.ring_.empty() && now_ms - channel.ring_.front()->mono_ms > limits_.max_age_ms)
    evictOldest(channel);
}

void Hub::enforceChannelLimits(Channel& channel) {
  while (!channel.ring_.empty() &&
         (channel.ring_.size() > limits_.max_messages || channel.bytes_ > limits_.max_bytes))
    evictOldest(channel);
}

// Evicts the globally oldest messages (publish order, across channels) until under the cap.
void Hub::enforceMemoryLimit() {
  while (total_bytes_ > limits_.memory_limit && !oldest_.empty())
    evictOldest(*oldest_.begin()->second);
}

void Hub::erase(ChannelMap::iterator it) {
  Channel& channel = *it->second;
  assert(channel.subscribers_.empty());
  dropAll(channel);
  channels_.erase(it);
}

// --- Publish and fan-out.

PublishResult Hub::publish(std::string_view channel, std::string_view event, std::string_view data,
                           bool data_is_json) {
  int64_t now = clock_.nowMs();
  if (!mayCreate({channel})) {
    PublishResult refused;
    refused.status = PublishResult::Status::kTooManyChannels;
    refused.error = tooManyChannels();
    return refused;
  }
  Channel& ch = touch(channel);
  assert(ch.last_seq_ < std::numeric_limits<uint64_t>::max());
  MessagePtr message = makeMessage(ch.name(), ch.epoch(), ch.last_seq_ + 1, std::string(event),
                                   data, data_is_json, clock_.wallMs(), now, next_order_ + 1);
  if (std::string error = refusalFor(message->cost()); !error.empty()) {
    // Refused before anything is consumed: the seq stays free, nothing is buffered or sent.
    PublishResult refused;
    refused.status = PublishResult::Status::kTooLarge;
    refused.error = std::move(error);
    return refused;
  }
  if (log_) {
    PublishResult refused;
    if (!log_->logPublish(*message, refused.error)) {
      refused.status = PublishResult::Status::kUnavailable;
      return refused;
    }
  }
  ch.last_seq_ = message->seq;
  next_order_ = message->order;
  ch.last_publish_wall_ms_ = message->time_ms;
  ++published_;
  evictAged(ch, now);
  append(ch, message);
  enforceChannelLimits(ch);
  enforceMemoryLimit();
  size_t reached = fanOut(ch, message);
  return PublishResult{PublishResult::Status::kOk, std::move(message), reached, {}};
}

// Render once, deliver many: every subscriber gets the same MessagePtr by reference, so the
// hub allocates nothing per subscriber. The flag is saved and restored rather than cleared so
// a publish made from inside deliver() does not lift the outer fan-out's no-reentry guard.
size_t Hub::fanOut(const Channel& channel, const MessagePtr& message) {
  bool outer = in_fanout_;
  in_fanout_ = true;
  size_t reached = 0;
  for (Subscriber* subscriber : channel.subscribers_)
    reached += subscriber->deliver(message) ? 1 : 0;
  in_fanout_ = outer;
  return reached;
}

std::string Hub::refusal(std::string_view channel, std::string_view event, std::string_view data,
                         bool data_is_json) const {
  const Channel* ch = find(channel);
  // A channel not created yet gets an epoch of the same length as any other.
  std::string epoch = ch ? ch->epoch() : std::string((kEpochBytes * 8 + 5) / 6, 'e');
  uint64_t seq = ch ? ch->lastSeq() + 1 : 1;
  return refusalFor(makeMessage(std::string(channel), std::move(epoch), seq, std::string(event),
                                data, data_is_json, clock_.wallMs())
                        ->cost());
}

std::string Hub::tooManyChannels() const {
  return "too many channels: " + std::to_string(limits_.max_channels) +
         " exist (max_channels); idle ones are collected, retry later";
}

std::string Hub::refusalFor(size_t cost) const {
  if (cost <= limits_.max_bytes && cost <= limits_.memory_limit)
    return {};
  bool channel_cap = cost > limits_.max_bytes;
  return "message needs " + std::to_string(cost) + " bytes of buffer, more than the " +
         (channel_cap ? "per-channel limit of " + std::to_string(limits_.max_bytes)
                      : "memory limit of " + std::to_string(limits_.memory_limit)) +
         " bytes";
}

// --- Reading backlogs.

ReadResult Hub::read(const std::vector<Start>& starts) {
  int64_t now = clock_.nowMs();
  std::vector<std::string_view> names;
  names.reserve(starts.size());
  for (const Start& s : starts)
    names.push_back(s.channel);
  if (!mayCreate(names)) {
    ReadResult refused;
    refused.too_many_channels = true;
    return refused;
  }
  // Touch and age every channel first, so no later eviction can shift a computed slice.
  std::vector<Channel*> channels;
  channels.reserve(starts.size());
  for (const Start& s : starts) {
    assert(s.mode != Start::Mode::kCursor || s.position.channel == s.channel);
    channels.push_back(&touch(s.channel));
    evictAged(*channels.back(), now);
  }
  ReadResult result;
  std::vector<Slice> slices;
  slices.reserve(starts.size());
  size_t pending = 0;
  for (size_t i = 0; i < starts.size(); ++i) {
    slices.push_back(resolve(*channels[i], starts[i], result.gaps));
    pending += slices.back().end - slices.back().begin;
  }
  result.messages.reserve(std::min(pending, limits_.batch_max));
  merge(slices, limits_.batch_max, result.messages);
  result.cursor.reserve(slices.size());
  for (const Slice& s : slices) {
    result.cursor.push_back(endPosition(s));
    result.more = result.more || s.next < s.end;
  }
  return result;
}

Position Hub::head(std::string_view channel) {
  Channel& ch = touch(channel);
  return Position{ch.name(), ch.epoch(), ch.lastSeq()};
}

// --- The two-way subscriber index. Both halves change together, and never during fan-out
// (deliver/channelDeleted iterate Channel::subscribers_).

Subscriber::Membership* Hub::membership(Subscriber& subscriber, const Channel& channel) {
  for (auto& m : subscriber.memberships_) {
    if (m.channel == &channel)
      return &m;
  }
  return nullptr;
}

// Removes the subscriber at `slot` from the channel's list: the last one moves into the slot
// and its membership learns the new slot.
void Hub::removeSlot(Channel& channel, size_t slot) {
  auto& list = channel.subscribers_;
  assert(slot < list.size());
  Subscriber* moved = list.back();
  list[slot] = moved;
  list.pop_back();
  if (slot < list.size())
    membership(*moved, channel)->slot = slot;
}

void Hub::subscribe(Subscriber& subscriber, Channel& channel) {
  assert(!in_fanout_ && "subscribe during fan-out");
  assert(find(channel.name()) == &channel);
  channel.last_active_ms_ = clock_.nowMs();
  if (membership(subscriber, channel))
    return;
  subscriber.memberships_.push_back({&channel, channel.subscribers_.size()});
  channel.subscribers_.push_back(&subscriber);
}

void Hub::unsubscribe(Subscriber& subscriber, Channel& channel) {
  assert(!in_fanout_ && "unsubscribe during fan-out");
  Subscriber::Membership* m = membership(subscriber, channel);
  if (!m)
    return;
  removeSlot(channel, m->slot);
  subscriber.memberships_.erase(subscriber.memberships_.begin() +
                                (m - subscriber.memberships_.data()));
  // An unsubscribed channel lingers for max_age before sweep() may collect it.
  channel.last_active_ms_ = clock_.nowMs();
}

// Idempotent: a second call finds no channels left.
void Hub::unsubscribeAll(Subscriber& subscriber) {
  assert(!in_fanout_ && "unsubscribe during fan-out");
  int64_t now = clock_.nowMs();
  for (auto& m : subscriber.memberships_) {
    removeSlot(*m.channel, m.slot);
    m.channel->last_active_ms_ = now;
  }
  subscriber.memberships_.clear();
}

DeleteResult Hub::deleteChannel(std::string_view name) {
  assert(!in_fanout_ && "deleteChannel during fan-out");
  auto it = channels_.find(name);
  if (it == channels_.end()) {
    remembered_.forget(name); // a re-created channel gets a new epoch, as after any delete
    return DeleteResult{DeleteResult::Status::kNotFound, {}};
  }
  DeleteResult result{DeleteResult::Status::kDeleted, {}};
  if (log_ && !log_->logDelete(name, result.error)) {
    result.status = DeleteResult::Status::kUnavailable;
    return result;
  }
  Channel& channel = *it->second;
  in_fanout_ = true;
  for (Subscriber* subscriber : channel.subscribers_)
    subscriber->channelDeleted(channel.name());
  in_fanout_ = false;
  for (Subscriber* subscriber : channel.subscribers_)
    std::erase_if(subscriber->memberships_,
                  [&](const Subscriber::Membership& m) { return m.channel == &channel; });
  channel.subscribers_.clear();
  // Deleted messages are not counted as evicted. The next touch creates a new epoch.
  erase(it);
  return result;
}

// --- Maintenance.

void Hub::sweep() {
  assert(!in_fanout_);
  int64_t now = clock_.nowMs();
  // Limits lowered by setLimits() take effect here for channels nobody publishes to.
  for (auto& entry : channels_) {
    evictAged(*entry.second, now);
    enforceChannelLimits(*entry.second);
  }
  enforceMemoryLimit();
  std::erase_if(channels_, [&](const auto& entry) {
    const Channel& ch = *entry.second;
    if (!collectable(ch, now))
      return false;
    // Empty rings hold no `oldest_` entry and no bytes, so erasing needs no other bookkeeping.
    if (ch.lastSeq() == 0)
      remembered_.remember(ch.name(), ch.epoch());
    return true;
  });
}

// Empty, unsubscribed and idle: channel_idle_ms (or max_age_ms when shorter) for a channel
// never published to (its epoch is remembered, so collecting it early loses nothing),
// max_age_ms for one with history (its epoch is not reused: a journal replays an epoch only
// from seq 1, and the compacted snapshot no longer has the collected channel).
bool Hub::collectable(const Channel& ch, int64_t now_ms) const {
  if (!ch.ring_.empty() || !ch.subscribers_.empty())
    return false;
  int64_t idle = ch.lastSeq() == 0 ? std::min(limits_.channel_idle_ms, limits_.max_age_ms)
                                   : limits_.max_age_ms;
  return now_ms - ch.last_active_ms_ > idle;
}

std::vector<const Channel*> Hub::list(std::string_view after, size_t limit) const {
  std::vector<const Channel*> out;
  for (const auto& entry : channels_) {
    if (std::string_view(entry.first) > after)
      out.push_back(entry.second.get());
  }
  size_t n = std::min(limit, out.size());
  auto byName = [](const Channel* a, const Channel* b) { return a->name() < b->name(); };
  std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), out.end(), byName);
  out.resize(n);
  return out;
}

void Hub::setLimits(const Limits& limits) {
  limits_ = limits;
  remembered_.setCapacity(limits.max_channels);
}

HubStats Hub::stats() const {
  return HubStats{published_,      evicted_,     channels_.size(),
                  total_messages_, total_bytes_, remembered_.size()};
}

void Hub::forEachChannel(const std::function<void(const Channel&)>& fn) const {
  for (const auto& entry : channels_)
    fn(*entry.second);
}

// Meant for start-up, before any subscriber exists. Messages must be in ascending seq order,
// each <= last_seq and belonging to `name`/`epoch` (the state loader checks this). They are
// copied to stamp the hub's bookkeeping; restored channels get publish-order numbers in the
// order they are restored, so a multi-channel read merges them channel by channel.
Channel& Hub::restore(std::string_view name, std::string_view epoch, uint64_t last_seq,
                      std::vector<MessagePtr> messages) {
  assert(!in_fanout_);
  int64_t now = clock_.nowMs();
  int64_t wall = clock_.wallMs();
  remembered_.forget(name);
  Channel* ch = find(name);
  if (ch) {
    dropAll(*ch);
    ch->epoch_ = std::string(epoch);
  } else {
    ch = &create(name, std::string(epoch));
  }
  ch->last_seq_ = last_seq;
  ch->last_active_ms_ = now;
  for (const MessagePtr& m : messages) {
    assert(m && m->seq >= 1 && m->seq <= last_seq);
    assert(ch->ring_.empty() || m->seq > ch->ring_.back()->seq);
    auto copy = std::make_shared<Message>(*m);
    // Ages continue across the restart: the monotonic clock restarted, the wall clock did not.
    copy->mono_ms = now - std::max<int64_t>(0, wall - m->time_ms);
    copy->order = ++next_order_;
    ch->last_publish_wall_ms_ = m->time_ms;
    append(*ch, std::move(copy));
  }
  evictAged(*ch, now);
  enforceChannelLimits(*ch);
  enforceMemoryLimit();
  return *ch;
}

} // namespace holdfast::hub
