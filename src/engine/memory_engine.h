// The memory engine: the engine interface over one process's hub::Hub. Every call completes
// before it returns (callbacks run at once), so a read followed by a subscribe in the same
// callback can never miss a message.
//
// Ownership: owns the hub. Persistence across restarts (state_dir) goes through hub(), which
// store/state_file reads and fills.
#pragma once

#include "config/config.h"
#include "engine/engine.h"
#include "hub/hub.h"

namespace holdfast::engine {

class MemoryEngine final : public Engine {
public:
  MemoryEngine(hub::Limits limits, const util::Clock& clock, util::Random& random)
      : hub_(limits, clock, random) {}

  void publish(std::vector<PublishItem> items, PublishDone done) override;
  void read(std::vector<hub::Start> starts, ReadDone done) override;
  void heads(std::vector<std::string> channels, HeadsDone done) override;
  void subscribe(hub::Subscriber& subscriber, const hub::Cursor& from) override;
  void unsubscribe(hub::Subscriber& subscriber, const std::string& channel) override;
  void unsubscribeAll(hub::Subscriber& subscriber) override;
  void info(std::string channel, InfoDone done) override;
  void list(std::string after, size_t limit, ListDone done) override;
  void remove(std::string channel, RemoveDone done) override;
  EngineStats stats() const override;
  void sweep() override { hub_.sweep(); }
  void setLimits(const hub::Limits& limits) override { hub_.setLimits(limits); }

  hub::Hub& hub() { return hub_; }
  const hub::Hub& hub() const { return hub_; }

  // The reason `item` cannot be stored under the current limits, or empty when it fits.
  std::string refusal(const PublishItem& item) const;

private:
  hub::Hub hub_;
};

// The hub limits a configuration sets (buffer_* keys, memory_limit, batch_max).
hub::Limits hubLimits(const config::Config& config);

// Describes a buffered channel (shared by info and list).
ChannelInfo describe(const hub::Channel& channel);

} // namespace holdfast::engine
