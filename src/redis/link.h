// The seam between the Redis engine and the event layer: one connection to Redis that sends
// commands and, on a link used for pub/sub, (un)subscribes. src/server/redis_link.h implements
// it over hiredis's async API on the libevent loop; tests implement it with a fake.
//
// Contract:
// - Single-threaded, on the event loop; never blocks.
// - command(): `done` runs exactly once, later, with the reply, or with nullptr when the
//   command could not be sent or the connection was lost before the reply (the link is then
//   reconnecting on its own). When the link is not ready, `done(nullptr)` runs before command()
//   returns. The reply is only valid during the call.
// - Replies arrive in the order the commands were sent.
// - The link reconnects by itself with backoff; hooks tell the owner about it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <hiredis/hiredis.h>

namespace holdfast::redis {

class Link {
public:
  using Reply = std::function<void(const redisReply* reply)>;
  struct Hooks {
    std::function<void()> ready; // connected, authenticated, database selected
    std::function<void()> lost;  // a ready connection was lost (in-flight calls failed)
    std::function<void(std::string_view channel)> subscribed;   // SUBSCRIBE confirmed
    std::function<void(std::string_view channel)> unsubscribed; // UNSUBSCRIBE confirmed
    std::function<void(std::string_view channel, std::string_view payload)> message;
  };

  virtual ~Link() = default;
  // Hooks may be set once, before start().
  virtual void setHooks(Hooks hooks) = 0;
  // Starts connecting (and keeps reconnecting until destroyed).
  virtual void start() = 0;
  virtual bool ready() const = 0;
  virtual void command(const std::vector<std::string>& args, Reply done) = 0;
  // Pub/sub links only. subscribe is ignored while not ready (the owner resubscribes from
  // `ready`); an unsubscribe that cannot be sent is confirmed (hook) before it returns.
  virtual void subscribe(const std::string& channel) = 0;
  virtual void unsubscribe(const std::string& channel) = 0;
  // Closes the connection as if it were lost (a reply overdue); reconnects after the delay.
  virtual void drop() = 0;
  // Times the link got ready again after a loss.
  virtual uint64_t reconnects() const = 0;
};

} // namespace holdfast::redis
