// The newest messages of one channel as this node received them over its live pub/sub
// subscription, kept so a long-poll client coming back with a cursor at or near the head is
// answered from the node's memory instead of a read script per poll (docs/redis.md, "Reads
// served by the node").
//
// The run is contiguous: one epoch, seqs without a hole, ending at the newest message received.
// A message that does not continue it (a skipped seq, a new epoch) starts a new run; the fan-out
// clears it whenever the subscription stops being live. A read is answered from the run only
// when the run covers everything after the cursor up to the channel's known head and the memory
// engine's resume rules would give the same messages (nothing the count, age or byte limits
// would have evicted); otherwise Redis answers. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "hub/hub.h"
#include "redis/reply.h"

namespace holdfast::redis {

class Recent {
public:
  // At most this many messages and bytes (Message::cost) are kept per channel.
  static constexpr size_t kMaxMessages = 64;
  static constexpr size_t kMaxBytes = 256 * 1024;

  // Appends `m` when it continues the run; otherwise the run restarts at `m`.
  void push(const hub::MessagePtr& m);
  void clear();
  size_t size() const { return run_.size(); }

  // The read after `after` (a cursor in this channel) as the read script would answer it, when
  // the run holds every message from after.seq + 1 to `head` and none of them is past
  // `limits` at wall time `now_ms`; nullopt when Redis must be asked. (`first` is then the
  // run's oldest seq, not Redis's: no gap is possible for such a cursor, so it is not shown.)
  std::optional<ChannelRead> readAfter(const hub::Position& after, uint64_t head,
                                       const hub::Limits& limits, int64_t now_ms) const;

private:
  std::deque<hub::MessagePtr> run_;
  size_t bytes_ = 0;
};

} // namespace holdfast::redis
