// Epochs of channels the hub collected before their first message. Re-creating such a channel
// with its old epoch is exact: nothing was ever published in that epoch, so a client whose
// cursor is CH:EPOCH-0 missed nothing and gets no gap (docs/api.md, "Idle channels").
//
// Bounded: at most `capacity` entries, the oldest forgotten first. Keyed by a hash of the
// channel name to stay small (about 100 bytes an entry); a collision can only make the hub
// forget an epoch or give one channel another's never-used epoch, which at worst costs a gap
// report, never a lost message. Pure bookkeeping, no I/O.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace holdfast::hub {

class RememberedEpochs {
public:
  // Remembers `epoch` for `name` (replacing an older entry), forgetting the oldest past
  // capacity.
  void remember(std::string_view name, std::string epoch);
  // The remembered epoch of `name`, forgotten as it is returned; empty when none.
  std::string recall(std::string_view name);
  void forget(std::string_view name);
  void setCapacity(size_t capacity);
  size_t size() const { return entries_.size(); }

private:
  struct Entry {
    std::string epoch;
    uint64_t generation = 0;
  };
  static uint64_t key(std::string_view name) { return std::hash<std::string_view>{}(name); }
  void trim();

  size_t capacity_ = 100000;
  std::unordered_map<uint64_t, Entry> entries_;
  // (key, generation) in the order remembered. An item whose generation no longer matches its
  // entry was recalled or replaced; it still counts towards capacity until it is popped, so
  // neither container grows past capacity.
  std::deque<std::pair<uint64_t, uint64_t>> order_;
  uint64_t generation_ = 0;
};

} // namespace holdfast::hub
