// What the hub knows of a live subscriber: a delivery interface plus the hub-managed list of
// channels it is subscribed to (the "subscriber -> channels" half of the two-way index).
#pragma once

#include <cstddef>
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

  // Channels this subscriber is on, in subscribe order; maintained by Hub only. (A copy, not
  // a ranges view: clang's tools do not parse libstdc++ 12's views.)
  std::vector<Channel*> channels() const {
    std::vector<Channel*> out;
    out.reserve(memberships_.size());
    for (const Membership& m : memberships_)
      out.push_back(m.channel);
    return out;
  }

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
