// The Lua scripts the Redis engine runs (one round trip per channel and call) and the EVALSHA
// command lines that call them. Every script touches only the keys of one channel (KEYS[1] =
// meta, KEYS[2] = log: one Cluster slot); limits and the node's wall clock come as arguments.
//
// History is a Redis Stream per channel with entry ids "SEQ-0", so a cursor maps straight to
// an XRANGE start and no index is needed. Trimming (count, age, bytes) pops the oldest entries
// in the same script; see docs/redis.md for why a stream and not a list or sorted set.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hub/hub.h"

namespace holdfast::redis {

struct Script {
  std::string name;
  std::string body; // Lua
  std::string sha;  // SHA1 of body, lower-case hex (what SCRIPT LOAD answers)
};

// Returns {epoch, seq, receivers, created, evicted}; appends, trims, PUBLISHes.
const Script& publishScript();
// Returns {epoch, last_seq, first_seq, from_seq, created, entries}; creates a missing channel.
const Script& readScript();
// Returns nil for an unknown channel, else {epoch, seq, bytes, count, first, last, last_ms}.
const Script& infoScript();
// Returns 1 after deleting (and PUBLISHing "D\nEPOCH"), 0 for an unknown channel.
const Script& deleteScript();
const std::vector<const Script*>& allScripts();

// One message to store; `cost` is hub::Message::cost() of its rendering (charged to bytes).
struct PublishArgs {
  std::string_view channel;
  std::string_view event;
  std::string_view data;
  bool data_is_json = false;
  uint64_t cost = 0;
  std::string_view new_epoch; // used only when the channel does not exist yet
  int64_t now_ms = 0;         // wall clock
};

using Command = std::vector<std::string>;

Command publishCommand(const PublishArgs& args, const hub::Limits& limits);
Command readCommand(const hub::Start& start, std::string_view new_epoch, const hub::Limits& limits,
                    int64_t now_ms);
Command infoCommand(std::string_view channel, const hub::Limits& limits, int64_t now_ms);
Command deleteCommand(std::string_view channel);
// Turns an EVALSHA command into the equivalent EVAL (after a NOSCRIPT answer). False when the
// command is not an EVALSHA of one of ours.
bool toEval(Command& command);
// How long idle channel keys live: twice buffer_age plus a minute (the memory engine collects
// idle empty channels after buffer_age; keys outliving that a while costs little).
int64_t keyTtlMs(const hub::Limits& limits);

} // namespace holdfast::redis
