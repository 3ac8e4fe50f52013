// Completes calls in the order they were made, whatever order their answers arrive in: the
// engine seam's ordering rule (engine.h) for an engine that answers some calls from memory at
// once and others when Redis replies. Pure, single-threaded.
//
//   auto slot = order.open();            // when the call is made
//   ...
//   order.complete(slot, [=] { done(result); });   // when its answer is known
//
// complete() runs the slot's function as soon as every earlier slot has run (possibly before
// it returns). A function may open and complete further slots; they run after it, in order.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>

namespace holdfast::engine {

class InOrder {
public:
  using Slot = uint64_t;

  Slot open();
  // Each slot exactly once.
  void complete(Slot slot, std::function<void()> run);
  // Slots opened and not run yet.
  size_t pending() const { return waiting_.size(); }

private:
  std::deque<std::function<void()>> waiting_; // slot first_ + i; empty until completed
  Slot first_ = 0;
  bool running_ = false;
};

} // namespace holdfast::engine
