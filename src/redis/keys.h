// Redis key names. A channel's keys carry its name as a hash tag ({CHANNEL}) so they share one
// Redis Cluster slot and one script may touch them all; channel names cannot contain braces.
//
//   holdfast:{CH}:meta   hash: epoch, seq (last assigned), bytes (buffered), last_ms
//   holdfast:{CH}:log    stream of the buffered messages, entry id "SEQ-0"
//   holdfast:{CH}:pub    pub/sub channel the publish script PUBLISHes to (not a key)
//   holdfast:channels    sorted set (all scores 0) of channel names, for listing by name
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace holdfast::redis {

std::string metaKey(std::string_view channel);
std::string logKey(std::string_view channel);
std::string pubsubChannel(std::string_view channel);
// The channel list; not slot-tagged (listing is a separate command, see docs/redis.md).
const std::string& channelsKey();
// The holdfast channel a pub/sub channel name belongs to; nullopt for foreign names.
std::optional<std::string> channelOfPubsub(std::string_view pubsub);

} // namespace holdfast::redis
