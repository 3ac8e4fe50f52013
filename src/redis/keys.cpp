// Redis key names (pure).
#include "redis/keys.h"

#include "hub/cursor.h"

namespace holdfast::redis {
namespace {

std::string tagged(std::string_view channel, std::string_view suffix) {
  std::string key = "holdfast:{";
  key += channel;
  key += "}:";
  key += suffix;
  return key;
}

} // namespace

std::string metaKey(std::string_view channel) {
  return tagged(channel, "meta");
}
std::string logKey(std::string_view channel) {
  return tagged(channel, "log");
}
std::string pubsubChannel(std::string_view channel) {
  return tagged(channel, "pub");
}

const std::string& channelsKey() {
  static const std::string key = "holdfast:channels";
  return key;
}

std::optional<std::string> channelOfPubsub(std::string_view pubsub) {
  constexpr std::string_view kHead = "holdfast:{";
  constexpr std::string_view kTail = "}:pub";
  if (!pubsub.starts_with(kHead) || !pubsub.ends_with(kTail))
    return std::nullopt;
  std::string_view name = pubsub.substr(kHead.size(), pubsub.size() - kHead.size() - kTail.size());
  if (!hub::isValidChannelName(name))
    return std::nullopt;
  return std::string(name);
}

} // namespace holdfast::redis
