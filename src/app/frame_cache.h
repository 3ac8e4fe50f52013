// Render once, write many: during a fan-out every subscriber of a transport kind that shares a
// cursor text (and, for long-poll answers, callback and CORS origin) gets the same bytes,
// rendered by the first of them and reused, by reference, by the rest.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "hub/message.h"
#include "transport/transport.h"

namespace holdfast::app {

// What makes two subscribers' bytes for one message differ. Empty `cursor` means "the
// message's channel alone" (the cursor text then follows from the message).
struct FrameKey {
  std::string_view cursor;
  std::string_view callback;
  std::string_view origin; // long-poll answers: the allowed CORS origin, else empty
};

class FrameCache {
public:
  using Bytes = std::shared_ptr<const std::string>;

  // Returns the cached bytes for (kind, message, key) or renders them with `render()` (which
  // returns std::string). One slot per kind: a fan-out delivers one message to all
  // subscribers in a row, so one slot is enough. The slot keeps the message alive, so its
  // address cannot be reused while cached; the bytes are immutable, so a caller may keep a
  // reference after the slot moves on.
  template <typename Render>
  const Bytes& get(transport::Kind kind, const hub::MessagePtr& message, const FrameKey& key,
                   Render&& render) {
    Slot& slot = slots_[static_cast<size_t>(kind)];
    if (slot.message == message && slot.cursor == key.cursor && slot.callback == key.callback &&
        slot.origin == key.origin) {
      ++hits_;
      return slot.bytes;
    }
    ++misses_;
    slot.message = message;
    slot.cursor.assign(key.cursor);
    slot.callback.assign(key.callback);
    slot.origin.assign(key.origin);
    slot.bytes = std::make_shared<const std::string>(render());
    return slot.bytes;
  }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

private:
  struct Slot {
    hub::MessagePtr message;
    std::string cursor;
    std::string callback;
    std::string origin;
    Bytes bytes;
  };
  std::array<Slot, transport::kKindCount> slots_;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

} // namespace holdfast::app
