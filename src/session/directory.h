// Where sessions live beyond this process. The SessionTable keeps the sessions this node works
// with and writes every change through a Directory; handlers ask the Directory about a session
// this node does not hold, and send changes to the node that holds its data request.
//
// - LocalDirectory (memory engine): one process is the whole world; shared() is false and every
//   call does nothing, so the SessionTable alone decides, exactly as before.
// - engine::RedisSessions (Redis engine): each session is a Redis hash (cursor, owning node,
//   expiry session_ttl once detached), and close/subscribe/unsubscribe/supersede travel to the
//   owning node over its pub/sub control channel (docs/redis.md, "Sessions across nodes").
//
// Contract: single-threaded, on the event loop, never blocks. Writes are fire-and-forget (a
// write Redis never got is repaired by the next one, or the session expires). fetch() calls
// `done` exactly once, possibly before it returns. The handler runs on the loop, outside any
// fan-out, for commands other nodes sent to this one.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hub/cursor.h"

namespace holdfast::session {

// A session as the shared store knows it.
struct Record {
  hub::Cursor cursor; // position after what the session's last answered request delivered
  std::string node;   // the node holding its data request now; empty when none does
};

struct Lookup {
  enum class Status {
    kFound,       // `record` is the stored session
    kMissing,     // no such session (never issued, closed or expired)
    kUnavailable, // the store is unreachable: unknown
  };
  Status status = Status::kMissing;
  Record record;
};

// A change asked of the node that holds a session's data request.
struct Command {
  enum class Kind : char {
    kClose = 'C',       // end the held request with "closed" and forget the session
    kSubscribe = 'S',   // add `positions` (channels at their heads) to the live stream
    kUnsubscribe = 'U', // remove `channels` from the live stream
    kSupersede = 'X',   // a newer request on another node took the session over (409)
  };
  Kind kind = Kind::kClose;
  std::string session;
  hub::Cursor positions;             // kSubscribe
  std::vector<std::string> channels; // kUnsubscribe
};

class Directory {
public:
  using LookupDone = std::function<void(Lookup)>;
  using Handler = std::function<void(const Command&)>;

  virtual ~Directory() = default;
  // True when other nodes share the sessions (handlers then consult fetch()).
  virtual bool shared() const = 0;
  // This node's id (empty for the local directory).
  virtual const std::string& node() const = 0;

  // The session exists with `cursor`; restarts its ttl. (create, touch)
  virtual void put(const std::string& id, const hub::Cursor& cursor) = 0;
  // This node holds the session's data request now. (attach)
  virtual void claim(const std::string& id) = 0;
  // This node's held request ended with `cursor`; the ttl starts. A claim made since by
  // another node is kept. (detach)
  virtual void release(const std::string& id, const hub::Cursor& cursor) = 0;
  virtual void erase(const std::string& id) = 0;

  virtual void fetch(const std::string& id, LookupDone done) = 0;
  // Sends `command` to `node`; dropped when that node is gone (nothing holds the session then).
  virtual void forward(const std::string& node, const Command& command) = 0;
  // Receives the commands other nodes forward to this one. Set once, before serving.
  virtual void setHandler(Handler handler) = 0;
  virtual void setTtl(int64_t ttl_ms) = 0;
};

// The memory engine's directory: nothing beyond this process.
class LocalDirectory final : public Directory {
public:
  bool shared() const override { return false; }
  const std::string& node() const override { return node_; }
  void put(const std::string&, const hub::Cursor&) override {}
  void claim(const std::string&) override {}
  void release(const std::string&, const hub::Cursor&) override {}
  void erase(const std::string&) override {}
  void fetch(const std::string&, LookupDone done) override { done(Lookup{}); }
  void forward(const std::string&, const Command&) override {}
  void setHandler(Handler) override {}
  void setTtl(int64_t) override {}

private:
  std::string node_;
};

} // namespace holdfast::session
