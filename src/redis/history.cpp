// Merging per-channel reads into one result (pure).
#include "redis/history.h"

#include <cassert>
#include <limits>

namespace holdfast::redis {
namespace {

std::string messageId(std::string_view epoch, uint64_t seq) {
  return std::string(epoch) + "-" + std::to_string(seq);
}

// As in the hub: the id after `seq`, saturating at UINT64_MAX.
std::string nextId(std::string_view epoch, uint64_t seq) {
  return messageId(epoch, seq == std::numeric_limits<uint64_t>::max() ? seq : seq + 1);
}

std::string firstAvailable(const ChannelRead& r) {
  return r.first <= r.last ? messageId(r.epoch, r.first) : std::string();
}

// Index of the channel whose next message is oldest, or npos when all are used up.
size_t oldest(const std::vector<ChannelRead>& reads, const std::vector<size_t>& next) {
  size_t best = std::string::npos;
  for (size_t i = 0; i < reads.size(); ++i) {
    if (next[i] >= reads[i].messages.size())
      continue;
    if (best == std::string::npos ||
        reads[i].messages[next[i]]->time_ms < reads[best].messages[next[best]]->time_ms)
      best = i;
  }
  return best;
}

} // namespace

std::optional<hub::Gap> gapFor(const hub::Start& s, const ChannelRead& r) {
  if (s.mode != hub::Start::Mode::kCursor)
    return std::nullopt;
  const hub::Position& p = s.position;
  std::string requested = nextId(p.epoch, p.seq);
  if (p.epoch != r.epoch)
    return hub::Gap{s.channel, requested, firstAvailable(r), "epoch"};
  if (p.seq > r.last)
    return hub::Gap{s.channel, requested, std::string(), "unknown"};
  if (p.seq + 1 < r.first)
    return hub::Gap{s.channel, requested, firstAvailable(r), "evicted"};
  return std::nullopt;
}

hub::ReadResult assemble(const std::vector<hub::Start>& starts, std::vector<ChannelRead> reads,
                         size_t batch_max) {
  assert(starts.size() == reads.size());
  hub::ReadResult result;
  for (size_t i = 0; i < starts.size(); ++i) {
    if (auto gap = gapFor(starts[i], reads[i]))
      result.gaps.push_back(std::move(*gap));
  }
  std::vector<size_t> next(reads.size(), 0);
  while (result.messages.size() < batch_max) {
    size_t i = oldest(reads, next);
    if (i == std::string::npos)
      break;
    result.messages.push_back(reads[i].messages[next[i]++]);
  }
  for (size_t i = 0; i < reads.size(); ++i) {
    const ChannelRead& r = reads[i];
    uint64_t at = next[i] ? r.messages[next[i] - 1]->seq : r.from - 1;
    result.cursor.push_back(hub::Position{starts[i].channel, r.epoch, at});
    result.more = result.more || at < r.last;
  }
  return result;
}

} // namespace holdfast::redis
