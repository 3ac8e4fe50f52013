// Render once, write many: during a fan-out every subscriber of a transport kind that shares a
// cursor text gets the same bytes, rendered by the first of them and reused by the rest.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "hub/message.h"
#include "transport/transport.h"

namespace holdfast::app {

class FrameCache {
public:
  // Returns the cached bytes for (kind, message, key) or renders them with `render()` (which
  // returns std::string). One slot per kind: a fan-out delivers one message to all
  // subscribers in a row, so one slot is enough. The slot keeps the message alive, so its
  // address cannot be reused while cached.
  template <typename Render>
  const std::string& get(transport::Kind kind, const hub::MessagePtr& message, std::string_view key,
                         Render&& render) {
    Slot& slot = slots_[static_cast<size_t>(kind)];
    if (slot.message == message && slot.key == key) {
      ++hits_;
      return slot.bytes;
    }
    ++misses_;
    slot.message = message;
    slot.key.assign(key);
    slot.bytes = render();
    return slot.bytes;
  }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

private:
  struct Slot {
    hub::MessagePtr message;
    std::string key;
    std::string bytes;
  };
  std::array<Slot, transport::kKindCount> slots_;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

} // namespace holdfast::app
