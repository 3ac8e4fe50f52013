// The Redis engine's session directory: sessions as Redis hashes (redis/sessions.h), so a
// session issued by any node is known to every node, and session commands sent to the node
// that holds the session's data request over that node's pub/sub control channel.
//
// Ownership: uses the engine's command link and the engine (for its pub/sub link), both owned
// by the caller and outliving this object. Never blocks: writes are sent on the command link
// without waiting; fetch() answers from the link's reply (at once when Redis is unreachable).
#pragma once

#include <string>

#include "engine/redis_engine.h"
#include "redis/link.h"
#include "session/directory.h"

namespace holdfast::engine {

struct SessionTimes {
  int64_t ttl_ms = 60000;    // session_ttl: a detached session lives this long
  int64_t hold_ms = 3600000; // the longest a request is held (max of poll_timeout, max_stream_age)
};

class RedisSessions final : public session::Directory {
public:
  // `node` is this process's id (random, unique per start); listens on its control channel.
  RedisSessions(redis::Link& commands, RedisEngine& engine, std::string node, SessionTimes times,
                size_t max_channels);

  bool shared() const override { return true; }
  const std::string& node() const override { return node_; }
  void put(const std::string& id, const hub::Cursor& cursor) override;
  void claim(const std::string& id) override;
  void release(const std::string& id, const hub::Cursor& cursor) override;
  void erase(const std::string& id) override;
  void fetch(const std::string& id, LookupDone done) override;
  void forward(const std::string& node, const session::Command& command) override;
  void setHandler(Handler handler) override { handler_ = std::move(handler); }
  void setTtl(int64_t ttl_ms) override { times_.ttl_ms = ttl_ms; }

private:
  void onMessage(std::string_view payload);
  void send(const redis::Command& command);

  redis::Link& commands_;
  std::string node_;
  SessionTimes times_;
  size_t max_channels_;
  Handler handler_;
};

} // namespace holdfast::engine
