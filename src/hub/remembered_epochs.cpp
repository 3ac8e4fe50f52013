// Remembered epochs of collected, never-published channels.
#include "hub/remembered_epochs.h"

namespace holdfast::hub {

void RememberedEpochs::remember(std::string_view name, std::string epoch) {
  uint64_t k = key(name);
  entries_[k] = Entry{std::move(epoch), ++generation_};
  order_.emplace_back(k, generation_);
  trim();
}

std::string RememberedEpochs::recall(std::string_view name) {
  auto it = entries_.find(key(name));
  if (it == entries_.end())
    return {};
  std::string epoch = std::move(it->second.epoch);
  entries_.erase(it);
  return epoch;
}

void RememberedEpochs::forget(std::string_view name) {
  entries_.erase(key(name));
}

void RememberedEpochs::setCapacity(size_t capacity) {
  capacity_ = capacity;
  trim();
}

void RememberedEpochs::trim() {
  while (order_.size() > capacity_) {
    auto [k, generation] = order_.front();
    order_.pop_front();
    auto it = entries_.find(k);
    if (it != entries_.end() && it->second.generation == generation)
      entries_.erase(it);
  }
}

} // namespace holdfast::hub
