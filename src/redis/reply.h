// Script replies (hiredis redisReply trees) turned into engine values. Replies come from the
// network: anything unexpected (wrong types, missing elements, an error reply, a null reply
// after a lost connection) gives nullopt and an error message, never an assert or a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <hiredis/hiredis.h>

#include "hub/message.h"

namespace holdfast::redis {

struct PublishReply {
  std::string epoch;
  uint64_t seq = 0;
  uint64_t receivers = 0; // nodes subscribed to the channel's pub/sub channel
  bool created = false;   // the publish created the channel (gave it its epoch)
  uint64_t evicted = 0;   // messages the trim dropped
};

// One channel's share of a read (the read script's answer).
struct ChannelRead {
  std::string epoch;
  uint64_t last = 0;  // last seq assigned
  uint64_t first = 0; // oldest buffered seq, last + 1 when nothing is buffered
  uint64_t from = 0;  // seq the entries start at (last + 1 when none were asked for)
  bool created = false;
  std::vector<hub::MessagePtr> messages; // seq order, rendered with hub::makeMessage
};

struct InfoReply {
  std::string epoch;
  uint64_t seq = 0;
  uint64_t bytes = 0;
  uint64_t count = 0;
  uint64_t first = 0; // 0 when nothing is buffered
  uint64_t last = 0;
  int64_t last_ms = 0;
};

std::optional<PublishReply> parsePublish(const redisReply* reply, std::string& error);
std::optional<ChannelRead> parseRead(std::string_view channel, const redisReply* reply,
                                     std::string& error);
// `found` is false for an unknown channel (a nil reply). False on a malformed reply.
bool parseInfo(const redisReply* reply, std::optional<InfoReply>& found, std::string& error);
// An integer reply (DEL, ZADD, the delete script); nullopt otherwise.
std::optional<long long> parseInteger(const redisReply* reply, std::string& error);
// True for the error reply Redis gives an EVALSHA of a script it does not have.
bool isNoScript(const redisReply* reply);

} // namespace holdfast::redis
