// In-order completion (pure).
#include "engine/in_order.h"

#include <cassert>
#include <utility>

namespace holdfast::engine {

InOrder::Slot InOrder::open() {
  waiting_.emplace_back();
  return first_ + waiting_.size() - 1;
}

void InOrder::complete(Slot slot, std::function<void()> run) {
  assert(slot >= first_ && slot - first_ < waiting_.size() && run);
  waiting_[slot - first_] = std::move(run);
  if (running_)
    return; // the loop below, further up the stack, runs it in its turn
  running_ = true;
  while (!waiting_.empty() && waiting_.front()) {
    std::function<void()> next = std::move(waiting_.front());
    waiting_.pop_front();
    ++first_;
    next();
  }
  running_ = false;
}

} // namespace holdfast::engine
