// Reading history by cursor: the per-channel answers of the read script merged into one
// hub::ReadResult with the resume and gap rules of the memory engine (DESIGN §2), so a client
// sees the same messages, cursors and gap entries whichever engine serves it.
#pragma once

#include <vector>

#include "hub/hub.h"
#include "redis/reply.h"

namespace holdfast::redis {

// The gap entry (if any) the read of `start` owes the client, given the channel's state.
// Mirrors the read script's choice of `from`: epoch changed -> "epoch"; cursor beyond the last
// seq -> "unknown"; next message evicted -> "evicted".
std::optional<hub::Gap> gapFor(const hub::Start& start, const ChannelRead& read);

// Merges `reads` (one per start, same order) oldest first by publish time (ties: by channel
// order, then seq), at most `batch_max` messages. Each channel gives a prefix of its entries so
// its cursor stays exact when the batch is cut; `more` is set when any channel has more.
hub::ReadResult assemble(const std::vector<hub::Start>& starts, std::vector<ChannelRead> reads,
                         size_t batch_max);

} // namespace holdfast::redis
