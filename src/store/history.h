// Channel history as recovered from disk (snapshot, then journal records applied in order),
// held apart from the hub until all of it has been read and checked, so a damaged file is never
// half-loaded. Pure.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>

#include "hub/hub.h"

namespace holdfast::store {

struct ChannelHistory {
  std::string epoch;
  uint64_t last_seq = 0;
  std::deque<hub::MessagePtr> messages; // ascending seq, each <= last_seq
};

class History {
public:
  // `keep` bounds the messages kept per channel while replaying (the hub's max_messages): older
  // ones could not be restored anyway, and a long journal must not need memory for all of it.
  explicit History(size_t keep = SIZE_MAX) : keep_(keep == 0 ? 1 : keep) {}

  // A snapshot channel. False (error set) if the channel is already known.
  bool addChannel(std::string name, ChannelHistory channel, std::string& error);
  // A journal publish record. It must continue the channel (same epoch, seq = last_seq + 1) or
  // start a new history (seq 1, with an epoch other than the current one); anything else means
  // the journal does not follow the snapshot, and false is returned with `error`.
  bool applyPublish(hub::MessagePtr message, std::string& error);
  // A journal delete record: the channel's history is gone (absent channels are fine).
  void applyDelete(std::string_view channel);

  size_t channelCount() const { return channels_.size(); }
  size_t messageCount() const;
  const std::map<std::string, ChannelHistory, std::less<>>& channels() const { return channels_; }
  // Recreates every channel in `hub` (Hub::restore, which applies the hub's limits).
  void restoreInto(hub::Hub& hub) const;

private:
  size_t keep_;
  std::map<std::string, ChannelHistory, std::less<>> channels_;
};

// What is loaded is sent to clients as is, so a stored message is checked the way a publish
// is: a valid event name, a time not before 1970, and a message object that is valid JSON.
// One rule for the snapshot and the journal.
bool isLoadableMessage(std::string_view event, int64_t time_ms, std::string_view json);

} // namespace holdfast::store
