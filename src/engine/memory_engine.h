// The memory engine: the engine interface over one process's hub::Hub. Every call completes
// before it returns (callbacks run at once), so a read followed by a subscribe in the same
// callback can never miss a message.
//
// Ownership: owns the hub and, with state_dir, the journal that makes its history crash-safe
// (store/journal.h): every publish and delete is journaled before it takes effect.
#pragma once

#include "config/config.h"
#include "engine/engine.h"
#include "hub/hub.h"
#include "store/journal.h"

#include <memory>

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

  // ---- state_dir (store/journal.h) ----
  // Recovers snapshot + journal into the hub and starts journaling. False with `error` (naming
  // the file and offset) when the history is damaged: the server must not start. Logs what
  // was found.
  bool openHistory(const config::Config& config, const util::Clock& clock, std::string& error);
  // The journal's periodic work: fsync under journal_sync=interval, compaction when due. Call
  // every historyTickMs().
  void historyTick();
  int64_t historyTickMs() const;
  // Clean stop: a final snapshot marked clean, the journal emptied and the directory lock
  // released (a hand-over successor takes it). No publish may follow until reopenHistory().
  bool closeHistory(std::string& error);
  // Journals again after closeHistory() (a hand-over whose successor died): a fresh snapshot of
  // the hub as it is.
  bool reopenHistory(std::string& error);
  bool journaling() const { return journal_ != nullptr; }

  // The reason `item` cannot be stored under the current limits, or empty when it fits.
  std::string refusal(const PublishItem& item) const;
  // Whether the channels `items` would create fit under max_channels.
  bool roomFor(const std::vector<PublishItem>& items) const;

private:
  hub::Hub hub_;
  // Declared after hub_ and so destroyed first: the hub points at it as its HistoryLog.
  std::unique_ptr<store::Journal> journal_;
  std::string state_dir_;
  store::JournalOptions journal_options_;
  const util::Clock* clock_ = nullptr;
};

// The hub limits a configuration sets (buffer_* keys, memory_limit, batch_max, max_channels,
// channel_idle).
hub::Limits hubLimits(const config::Config& config);

// Describes a buffered channel (shared by info and list).
ChannelInfo describe(const hub::Channel& channel);

} // namespace holdfast::engine
