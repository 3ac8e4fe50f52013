// Sessions in Redis (pure): key and channel names, the commands that write and read a session,
// and the control messages nodes send each other. engine::RedisSessions sends them.
//
//   holdfast:session:{ID}   hash: cursor (text, "" for none), node (holding node; absent when
//                           none). TTL session_ttl once detached; while a node holds it,
//                           session_ttl + the longest hold (poll_timeout, max_stream_age), so
//                           a session whose node died still expires.
//   holdfast:node:{NODE}:ctl   pub/sub channel each node listens on for session commands
//
// Control messages (the fields cannot contain newlines; ids and channel names are checked):
//   "C\nID"               close          "X\nID"            superseded
//   "S\nID\nCURSOR"       subscribe (channels at their heads)
//   "U\nID\nCH1,CH2"      unsubscribe
//   "E"                   echo: a node publishes it to its own channel to prove its pub/sub
//                         link alive (engine::RedisEngine::checkPubsub); never a command
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <hiredis/hiredis.h>

#include "redis/scripts.h"
#include "session/directory.h"

namespace holdfast::redis {

inline constexpr std::string_view kEchoPayload = "E";

std::string sessionKey(std::string_view id);
std::string nodeChannel(std::string_view node);

Command putSessionCommand(std::string_view id, const hub::Cursor& cursor, int64_t ttl_ms);
// Does nothing to a session that no longer exists (closed while the request was starting).
Command claimSessionCommand(std::string_view id, std::string_view node, int64_t ttl_ms);
// Clears the node only when it is still `node` (a later claim by another node is kept, with its
// ttl); does nothing to a session that no longer exists (closed).
Command releaseSessionCommand(std::string_view id, std::string_view node, const hub::Cursor& cursor,
                              int64_t ttl_ms);
Command eraseSessionCommand(std::string_view id);
Command fetchSessionCommand(std::string_view id);
// The answer to fetchSessionCommand (HGETALL): kUnavailable for no reply or an error, kMissing
// for an empty hash; a cursor Redis holds that does not parse counts as none.
session::Lookup parseSessionFetch(const redisReply* reply, size_t max_channels);

std::string formatSessionCommand(const session::Command& command);
std::optional<session::Command> parseSessionCommand(std::string_view payload, size_t max_channels);

} // namespace holdfast::redis
