// What the scripts PUBLISH on a channel's pub/sub channel, and its parsing. Every node renders
// the message from these fields with hub::makeMessage, so all nodes produce the same bytes.
//
//   "M\nEPOCH\nSEQ\nEVENT\nTIME_MS\nJ\nDATA"   a published message (J is 1 for JSON data)
//   "D\nEPOCH"                                 the channel (that epoch) was deleted
// DATA is last and may contain anything, newlines included; the other fields cannot.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "hub/message.h"

namespace holdfast::redis {

struct Deleted {
  std::string channel;
  std::string epoch;
};

using Notice = std::variant<hub::MessagePtr, Deleted>;

// Parses a payload received for `channel`. nullopt for anything malformed (bad epoch, seq 0,
// bad event name, ...): untrusted bytes never assert.
std::optional<Notice> parseNotice(std::string_view channel, std::string_view payload);

} // namespace holdfast::redis
