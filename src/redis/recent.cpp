// The node's run of recent messages per channel (pure).
#include "redis/recent.h"

namespace holdfast::redis {

void Recent::push(const hub::MessagePtr& m) {
  if (!run_.empty() && (m->epoch != run_.back()->epoch || m->seq != run_.back()->seq + 1))
    clear();
  run_.push_back(m);
  bytes_ += m->cost();
  while (run_.size() > 1 && (run_.size() > kMaxMessages || bytes_ > kMaxBytes)) {
    bytes_ -= run_.front()->cost();
    run_.pop_front();
  }
}

void Recent::clear() {
  run_.clear();
  bytes_ = 0;
}

std::optional<ChannelRead> Recent::readAfter(const hub::Position& after, uint64_t head,
                                             const hub::Limits& limits, int64_t now_ms) const {
  if (run_.empty() || after.epoch != run_.back()->epoch || run_.back()->seq != head ||
      after.seq > head || after.seq + 1 < run_.front()->seq ||
      head - after.seq > limits.max_messages)
    return std::nullopt;
  ChannelRead out;
  out.epoch = after.epoch;
  out.last = head;
  out.first = run_.front()->seq;
  out.from = after.seq + 1;
  size_t bytes = 0;
  for (auto it = run_.begin() + static_cast<std::ptrdiff_t>(after.seq + 1 - run_.front()->seq);
       it != run_.end(); ++it) {
    bytes += (*it)->cost();
    if ((*it)->time_ms < now_ms - limits.max_age_ms)
      return std::nullopt; // the read script would have trimmed it by age
    out.messages.push_back(*it);
  }
  if (bytes > limits.max_bytes)
    return std::nullopt; // some of them may have been evicted by bytes
  return out;
}

} // namespace holdfast::redis
