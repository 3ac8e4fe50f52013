// A channel's message buffer: a deque of shared messages that allocates nothing while empty.
// std::deque allocates its map and a 512-byte block even when empty; most channels (every one
// a subscriber merely named) are empty, so the deque is created by the first push_back and
// freed when the last message leaves. Bounds are the hub's (Limits); this only stores.
#pragma once

#include <cassert>
#include <deque>
#include <memory>

#include "hub/message.h"

namespace holdfast::hub {

class Ring {
public:
  using Queue = std::deque<MessagePtr>;

  bool empty() const { return !queue_; }
  size_t size() const { return queue_ ? queue_->size() : 0; }
  const MessagePtr& front() const { return queue().front(); }
  const MessagePtr& back() const { return queue().back(); }
  const MessagePtr& operator[](size_t i) const { return queue()[i]; }
  Queue::const_iterator begin() const { return queue().begin(); }
  Queue::const_iterator end() const { return queue().end(); }

  void push_back(MessagePtr message) {
    if (!queue_)
      queue_ = std::make_unique<Queue>();
    queue_->push_back(std::move(message));
  }
  void pop_front() {
    assert(queue_ && !queue_->empty());
    queue_->pop_front();
    if (queue_->empty())
      queue_.reset();
  }
  void clear() { queue_.reset(); }

private:
  // The queue, or a shared empty one (never null while it holds a message).
  const Queue& queue() const {
    static const Queue kEmpty;
    return queue_ ? *queue_ : kEmpty;
  }
  std::unique_ptr<Queue> queue_;
};

} // namespace holdfast::hub
