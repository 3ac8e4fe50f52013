// The node's subscriber index and catch-up rules (pure).
#include "redis/fanout.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace holdfast::redis {

Fanout::Local* Fanout::find(const std::string& channel) {
  auto it = channels_.find(channel);
  return it == channels_.end() ? nullptr : &it->second;
}

size_t Fanout::subscriberCount(const std::string& channel) const {
  auto it = channels_.find(channel);
  return it == channels_.end() ? 0 : it->second.subs.size();
}

void Fanout::add(hub::Subscriber& s, const hub::Position& from) {
  assert(!in_fanout_ && "subscribe during fan-out");
  auto [it, created] = channels_.try_emplace(from.channel);
  Local& ch = it->second;
  if (created) {
    ch.name = from.channel;
    ch.epoch = from.epoch;
    ch.head = from.seq;
  }
  auto& channels = index_[&s];
  if (std::find(channels.begin(), channels.end(), from.channel) == channels.end())
    channels.push_back(from.channel);
  ch.subs[&s] = Pos{from.epoch, from.seq};
  ch.idle_since_ms = -1;
  if (created && link_ready_)
    actions_.subscribe(ch.name);
  else if (ch.unsubscribing)
    return; // subscribed again once the UNSUBSCRIBE is confirmed
  else if (ch.live && (from.epoch != ch.epoch || from.seq < ch.head))
    startCatchUp(ch);
}

void Fanout::unindex(hub::Subscriber& s, const std::string& channel) {
  auto it = index_.find(&s);
  if (it == index_.end())
    return;
  std::erase(it->second, channel);
  if (it->second.empty())
    index_.erase(it);
}

void Fanout::remove(hub::Subscriber& s, const std::string& channel) {
  assert(!in_fanout_ && "unsubscribe during fan-out");
  Local* ch = find(channel);
  if (!ch || ch->subs.erase(&s) == 0)
    return;
  unindex(s, channel);
  if (ch->subs.empty())
    leave(*ch);
}

// The last subscriber left: linger, or unsubscribe at once.
void Fanout::leave(Local& ch) {
  if (ch.unsubscribing)
    return;
  if (!link_ready_) {
    channels_.erase(ch.name);
    return;
  }
  if (linger_ms_ > 0) {
    ch.idle_since_ms = clock_.nowMs();
    return;
  }
  unsubscribe(ch);
}

// The link may confirm an UNSUBSCRIBE it cannot send before returning (which erases `ch`).
void Fanout::unsubscribe(Local& ch) {
  ch.idle_since_ms = -1;
  ch.recent.clear();
  ch.unsubscribing = true;
  ch.live = false;
  std::string name = ch.name;
  actions_.unsubscribe(name);
}

void Fanout::unsubscribed(const std::string& channel) {
  Local* ch = find(channel);
  if (!ch || !ch->unsubscribing)
    return;
  ch->unsubscribing = false;
  if (ch->subs.empty())
    channels_.erase(channel);
  else if (link_ready_)
    actions_.subscribe(channel);
}

void Fanout::removeAll(hub::Subscriber& s) {
  auto it = index_.find(&s);
  if (it == index_.end())
    return;
  std::vector<std::string> channels = it->second;
  for (const std::string& channel : channels)
    remove(s, channel);
}

void Fanout::linkReady() {
  link_ready_ = true;
  for (auto& [name, ch] : channels_) {
    ch.live = false;
    ch.recent.clear();
    actions_.subscribe(name);
  }
}

// The new connection will have no subscriptions: idle channels are forgotten at once.
void Fanout::linkLost() {
  link_ready_ = false;
  std::erase_if(channels_, [](const auto& entry) { return entry.second.subs.empty(); });
  for (auto& entry : channels_) {
    entry.second.live = false;
    entry.second.unsubscribing = false;
    entry.second.recent.clear();
    entry.second.deletes = 0; // the confirmation may be lost with the link
  }
}

// A subscription confirmed after a delete this node sent carries only what was published after
// it (and the catch-up reads Redis): nothing of the deleted incarnation can reach the run.
void Fanout::subscribed(const std::string& channel) {
  if (Local* ch = find(channel)) {
    ch->live = true;
    ch->deletes = 0;
    startCatchUp(*ch);
  }
}

// A newer incarnation of the channel: its head restarts and the run of the old one is of no use.
void Fanout::moveTo(Local& ch, const std::string& epoch) {
  if (epoch == ch.epoch)
    return;
  ch.epoch = epoch;
  ch.head = 0;
  ch.own_head = 0;
  ch.recent.clear();
}

// A message of a newer incarnation moves the channel to its epoch.
void Fanout::see(Local& ch, const hub::MessagePtr& m) {
  moveTo(ch, m->epoch);
  ch.head = std::max(ch.head, m->seq);
}

// Delivers `m` to every subscriber below it (only_next: only those of its epoch exactly one
// below). A subscriber that skips messages (evicted, or a new epoch) is told of the gap first.
size_t Fanout::deliver(Local& ch, const hub::MessagePtr& m, bool only_next) {
  size_t n = 0;
  in_fanout_ = true;
  for (auto& [subscriber, pos] : ch.subs) {
    bool same = pos.epoch == m->epoch;
    uint64_t at = same ? pos.seq : 0;
    if ((same && at >= m->seq) || (only_next && (!same || at + 1 != m->seq)))
      continue;
    if (!same || at + 1 < m->seq)
      subscriber->gap(hub::Gap{ch.name, pos.epoch + "-" + std::to_string(pos.seq + 1), m->id(),
                               same ? "evicted" : "epoch"});
    pos = Pos{m->epoch, m->seq};
    n += subscriber->deliver(m) ? 1 : 0;
  }
  in_fanout_ = false;
  return n;
}

size_t Fanout::message(const hub::MessagePtr& m) {
  Local* ch = find(m->channel);
  if (!ch || !ch->live)
    return 0;
  // Safe during a catch-up too: only subscribers exactly one below get it; the others wait for
  // history (a catch-up in flight is then run once more, since it may predate this message).
  see(*ch, m);
  ch->recent.push(m);
  ch->storage_ms = clock_.nowMs();
  size_t n = deliver(*ch, m, true);
  bool behind = std::any_of(ch->subs.begin(), ch->subs.end(), [&](const auto& entry) {
    return entry.second.epoch != m->epoch || entry.second.seq < m->seq;
  });
  if (behind)
    startCatchUp(*ch);
  return n;
}

void Fanout::startCatchUp(Local& ch) {
  if (ch.catching) {
    ch.again = true;
    return;
  }
  ch.catching = true;
  ch.stale = false;
  uint64_t lowest = std::numeric_limits<uint64_t>::max();
  for (const auto& entry : ch.subs)
    lowest = std::min(lowest, effective(ch, entry.second));
  actions_.catchUp(hub::Position{ch.name, ch.epoch, ch.subs.empty() ? ch.head : lowest});
}

void Fanout::caughtUp(const std::string& channel, const hub::ReadResult& r) {
  Local* ch = find(channel);
  if (!ch)
    return;
  ch->catching = false;
  if (r.unavailable) {
    ch->stale = true;
    return;
  }
  ch->storage_ms = clock_.nowMs();
  if (!r.cursor.empty())
    moveTo(*ch, r.cursor.front().epoch);
  for (const hub::MessagePtr& m : r.messages) {
    see(*ch, m);
    deliver(*ch, m, false);
  }
  if (!r.cursor.empty())
    ch->head = std::max(ch->head, r.cursor.front().seq);
  if (r.more || ch->again) {
    ch->again = false;
    startCatchUp(*ch);
  }
}

void Fanout::deleted(const std::string& channel, const std::string& epoch) {
  assert(!in_fanout_);
  Local* ch = find(channel);
  if (!ch)
    return;
  ch->recent.clear();
  ch->deletes = 0;
  std::vector<hub::Subscriber*> gone;
  in_fanout_ = true;
  for (auto& [subscriber, pos] : ch->subs) {
    if (pos.epoch == epoch || ch->epoch == epoch) {
      subscriber->channelDeleted(channel);
      gone.push_back(subscriber);
    }
  }
  in_fanout_ = false;
  for (hub::Subscriber* s : gone)
    remove(*s, channel);
}

std::optional<ChannelRead> Fanout::recentRead(const hub::Position& after, const hub::Limits& limits,
                                              int64_t now_ms, int64_t max_quiet_ms,
                                              bool waits) const {
  auto it = channels_.find(after.channel);
  if (it == channels_.end())
    return std::nullopt;
  const Local& ch = it->second;
  if (!ch.live || ch.unsubscribing || ch.deletes > 0 || after.epoch != ch.epoch ||
      ch.storage_ms < 0 || clock_.nowMs() - ch.storage_ms > max_quiet_ms)
    return std::nullopt;
  uint64_t head = waits ? ch.head : std::max(ch.head, ch.own_head);
  return ch.recent.readAfter(after, head, limits, now_ms);
}

void Fanout::answered(const std::string& channel) {
  if (Local* ch = find(channel))
    ch->storage_ms = clock_.nowMs();
}

void Fanout::published(const std::string& channel, const std::string& epoch, uint64_t seq) {
  Local* ch = find(channel);
  if (!ch)
    return;
  moveTo(*ch, epoch);
  ch->own_head = std::max(ch->own_head, seq);
  ch->storage_ms = clock_.nowMs();
}

void Fanout::deleting(const std::string& channel) {
  if (Local* ch = find(channel)) {
    ++ch->deletes;
    ch->recent.clear();
  }
}

void Fanout::deleteRefused(const std::string& channel) {
  if (Local* ch = find(channel); ch && ch->deletes > 0)
    --ch->deletes;
}

void Fanout::retry() {
  for (auto& entry : channels_) {
    if (entry.second.stale && entry.second.live)
      startCatchUp(entry.second);
  }
  dropIdle();
}

// UNSUBSCRIBEs the channels idle for the linger (names first: a confirmation may erase).
void Fanout::dropIdle() {
  int64_t now = clock_.nowMs();
  std::vector<std::string> idle;
  for (const auto& [name, ch] : channels_) {
    if (ch.subs.empty() && ch.idle_since_ms >= 0 && now - ch.idle_since_ms >= linger_ms_)
      idle.push_back(name);
  }
  for (const std::string& name : idle) {
    if (Local* ch = find(name); ch && !ch->unsubscribing)
      unsubscribe(*ch);
  }
}

} // namespace holdfast::redis
