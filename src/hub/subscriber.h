// What the hub knows of a live subscriber: a delivery interface plus the hub-managed list of
// channels it is subscribed to (the "subscriber -> channels" half of the two-way index).
#pragma once

#include <cstddef>
#include <ranges>
#include <vector>

#include "hub/message.h"

namespace holdfast::hub {

class Channel;
struct Gap;

class Subscriber {
public:
  virtual ~Subscriber() = default;
  // A message was published on one of the subscriber's channels. Runs during fan-out: the
  // implementation must not subscribe or unsubscribe anything synchronously (the hub asserts
  // it); it marks itself done and lets the owner tear down later. Returns whether it took the
  // message (false: already answered or its client is gone), so a publish reports only the
  // subscribers that really got it (201 vs 202).
  virtual bool deliver(const MessagePtr& message) = 0;
  // A channel the subscriber is on was deleted. Same reentry rule as deliver().
  virtual void channelDeleted(const std::string& channel) = 0;
  // The next message delivered on `gap.channel` does not follow the subscriber's position (the
  // messages in between were evicted, or the channel got a new epoch) while it was held. Only
  // engines that catch held subscribers up later (Redis) call it; same reentry rule.
  virtual void gap(const Gap& gap) { (void)gap; }

  // Channels this subscriber is on (a view, in subscribe order); maintained by Hub only.
  auto channels() const { return memberships_ | std::views::transform(&Membership::channel); }

private:
  friend class Hub;
  // One entry per channel: the channel and this subscriber's slot in its subscriber list.
  struct Membership {
    Channel* channel;
    size_t slot;
  };
  std::vector<Membership> memberships_;
};

} // namespace holdfast::hub
