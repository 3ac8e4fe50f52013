// Recovered channel history and the rules journal records must follow.
#include "store/history.h"

#include <vector>

#include "util/json.h"

namespace holdfast::store {

bool History::addChannel(std::string name, ChannelHistory channel, std::string& error) {
  auto [it, inserted] = channels_.try_emplace(std::move(name), std::move(channel));
  if (!inserted)
    error = "channel " + it->first + " appears twice";
  return inserted;
}

bool History::applyPublish(hub::MessagePtr message, std::string& error) {
  auto it = channels_.find(message->channel);
  bool continues = it != channels_.end() && it->second.epoch == message->epoch;
  if (continues && message->seq != it->second.last_seq + 1) {
    error = "message " + message->channel + ":" + message->id() + " does not follow seq " +
            std::to_string(it->second.last_seq);
    return false;
  }
  if (!continues && message->seq != 1) {
    error = "message " + message->channel + ":" + message->id() +
            " continues a history that is not in the snapshot";
    return false;
  }
  if (!continues) {
    // A new history: first publish of a new channel, or after a delete or idle collection.
    ChannelHistory fresh;
    fresh.epoch = message->epoch;
    it = channels_.insert_or_assign(message->channel, std::move(fresh)).first;
  }
  ChannelHistory& ch = it->second;
  ch.last_seq = message->seq;
  ch.messages.push_back(std::move(message));
  if (ch.messages.size() > keep_)
    ch.messages.pop_front();
  return true;
}

void History::applyDelete(std::string_view channel) {
  auto it = channels_.find(channel);
  if (it != channels_.end())
    channels_.erase(it);
}

size_t History::messageCount() const {
  size_t n = 0;
  for (const auto& entry : channels_)
    n += entry.second.messages.size();
  return n;
}

void History::restoreInto(hub::Hub& hub) const {
  for (const auto& [name, ch] : channels_)
    hub.restore(name, ch.epoch, ch.last_seq,
                std::vector<hub::MessagePtr>(ch.messages.begin(), ch.messages.end()));
}

bool isLoadableMessage(std::string_view event, int64_t time_ms, std::string_view json) {
  return hub::isValidEventName(event) && time_ms >= 0 && !json.empty() && json.front() == '{' &&
         util::validateJson(json).ok;
}

} // namespace holdfast::store
