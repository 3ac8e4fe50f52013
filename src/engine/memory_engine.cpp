// The memory engine: engine calls answered at once from the hub.
#include "engine/memory_engine.h"

#include <algorithm>
#include <utility>

#include "util/log.h"

namespace holdfast::engine {

hub::Limits hubLimits(const config::Config& c) {
  hub::Limits l;
  l.max_messages = c.buffer_messages;
  l.max_age_ms = static_cast<int64_t>(c.buffer_age) * 1000;
  l.max_bytes = c.buffer_bytes;
  l.memory_limit = c.memory_limit;
  l.batch_max = c.batch_max;
  l.max_channels = c.max_channels;
  l.channel_idle_ms = static_cast<int64_t>(c.channel_idle) * 1000;
  return l;
}

ChannelInfo describe(const hub::Channel& channel) {
  ChannelInfo info;
  info.name = channel.name();
  info.epoch = channel.epoch();
  info.messages = channel.messages().size();
  info.bytes = channel.bytes();
  if (!channel.messages().empty()) {
    info.first_id = channel.messages().front()->id();
    info.last_id = channel.messages().back()->id();
  }
  info.last_seq = channel.lastSeq();
  info.subscribers = channel.subscriberCount();
  info.last_publish_ms = channel.lastPublishMs();
  return info;
}

std::string MemoryEngine::refusal(const PublishItem& item) const {
  return hub_.refusal(item.channel, item.event, item.data, item.data_is_json);
}

namespace {

// The outcome of a publish the hub refused at `channel` (the items before it are stored when
// the refusal is the journal's, see engine.h).
PublishOutcome failure(hub::PublishResult r, const std::string& channel) {
  using S = PublishOutcome::Status;
  PublishOutcome outcome;
  switch (r.status) {
  case hub::PublishResult::Status::kUnavailable:
    outcome.status = S::kUnavailable;
    outcome.error =
        "history could not be stored, " + channel + " and the rest were not published: " + r.error;
    return outcome;
  case hub::PublishResult::Status::kTooManyChannels:
    outcome.status = S::kTooManyChannels;
    break;
  case hub::PublishResult::Status::kTooLarge:
  case hub::PublishResult::Status::kOk:
    outcome.status = S::kTooLarge;
    break;
  }
  outcome.error = std::move(r.error);
  return outcome;
}

} // namespace

bool MemoryEngine::roomFor(const std::vector<PublishItem>& items) const {
  std::vector<std::string_view> names;
  names.reserve(items.size());
  for (const PublishItem& item : items)
    names.push_back(item.channel);
  return hub_.mayCreate(names);
}

// Several items are checked before the first is stored, so a refusal stores nothing. One item
// needs no pre-check: the hub refuses it before consuming anything.
void MemoryEngine::publish(std::vector<PublishItem> items, PublishDone done) {
  PublishOutcome outcome;
  if (!roomFor(items)) {
    outcome.status = PublishOutcome::Status::kTooManyChannels;
    outcome.error = hub_.tooManyChannels() + "; nothing was published";
    return done(std::move(outcome));
  }
  for (size_t i = 0; items.size() > 1 && i < items.size(); ++i) {
    if (std::string why = refusal(items[i]); !why.empty()) {
      outcome.status = PublishOutcome::Status::kTooLarge;
      outcome.error = "item " + std::to_string(i) + " (" + items[i].channel + "): " + why;
      return done(std::move(outcome));
    }
  }
  for (const PublishItem& item : items) {
    hub::PublishResult r = hub_.publish(item.channel, item.event, item.data, item.data_is_json);
    if (r.status != hub::PublishResult::Status::kOk)
      return done(failure(std::move(r), item.channel));
    outcome.results.push_back(Published{item.channel, r.message->id(), r.subscribers});
  }
  done(std::move(outcome));
}

void MemoryEngine::read(std::vector<hub::Start> starts, ReadDone done) {
  done(hub_.read(starts));
}

void MemoryEngine::heads(std::vector<std::string> channels, HeadsDone done) {
  if (!hub_.mayCreate({channels.begin(), channels.end()}))
    return done(std::nullopt);
  hub::Cursor cursor;
  cursor.reserve(channels.size());
  for (const std::string& channel : channels)
    cursor.push_back(hub_.head(channel));
  done(std::move(cursor));
}

// The positions come from a read or heads() answered in this same loop pass, so they are the
// channels' heads: nothing was published in between that the subscriber could have missed.
void MemoryEngine::subscribe(hub::Subscriber& subscriber, const hub::Cursor& from) {
  for (const hub::Position& position : from)
    hub_.subscribe(subscriber, hub_.touch(position.channel));
}

void MemoryEngine::unsubscribe(hub::Subscriber& subscriber, const std::string& channel) {
  if (hub::Channel* ch = hub_.find(channel))
    hub_.unsubscribe(subscriber, *ch);
}

void MemoryEngine::unsubscribeAll(hub::Subscriber& subscriber) {
  hub_.unsubscribeAll(subscriber);
}

void MemoryEngine::info(std::string channel, InfoDone done) {
  const hub::Channel* ch = hub_.find(channel);
  done(ch ? std::optional<ChannelInfo>(describe(*ch)) : std::nullopt);
}

void MemoryEngine::list(std::string after, size_t limit, ListDone done) {
  auto channels = hub_.list(after, limit + 1);
  ChannelPage page;
  bool more = channels.size() > limit;
  if (more)
    channels.pop_back();
  for (const hub::Channel* ch : channels)
    page.channels.push_back(describe(*ch));
  if (more)
    page.next = page.channels.back().name;
  done(std::move(page));
}

void MemoryEngine::remove(std::string channel, RemoveDone done) {
  hub::DeleteResult r = hub_.deleteChannel(channel);
  using S = RemoveOutcome::Status;
  switch (r.status) {
  case hub::DeleteResult::Status::kDeleted:
    return done(RemoveOutcome{S::kDeleted, {}});
  case hub::DeleteResult::Status::kNotFound:
    return done(RemoveOutcome{S::kNotFound, {}});
  case hub::DeleteResult::Status::kUnavailable:
    return done(RemoveOutcome{S::kUnavailable, "delete could not be stored: " + r.error});
  }
}

EngineStats MemoryEngine::stats() const {
  hub::HubStats h = hub_.stats();
  return EngineStats{h.published, h.evicted, h.channels, h.buffered, h.buffered_bytes, {}};
}

// ---- state_dir ----

namespace {

void logRecovery(const store::RecoverStats& stats) {
  using util::logField;
  if (stats.torn)
    HF_WARN("journal: torn last record dropped", logField("notes", stats.notes));
  if (!stats.complete)
    HF_WARN("state not proven complete after an unclean stop; channels start new epochs",
            logField("channels", static_cast<long long>(stats.reset_channels)) +
                logField("notes", stats.notes));
  HF_INFO("state loaded",
          logField("channels", static_cast<long long>(stats.channels)) +
              logField("messages", static_cast<long long>(stats.messages)) +
              logField("journal_records", static_cast<long long>(stats.journal_records)) +
              logField("clean", stats.clean ? "true" : "false") + logField("notes", stats.notes));
}

} // namespace

bool MemoryEngine::openHistory(const config::Config& config, const util::Clock& clock,
                               std::string& error) {
  state_dir_ = config.state_dir;
  clock_ = &clock;
  journal_options_.sync = *store::parseSyncPolicy(config.journal_sync); // validated
  journal_options_.sync_interval_ms = static_cast<int64_t>(config.journal_sync_interval);
  journal_options_.max_bytes = config.journal_max_bytes;
  journal_ = std::make_unique<store::Journal>(state_dir_, journal_options_, clock);
  store::RecoverStats stats;
  if (!journal_->recover(hub_, stats, error) || !journal_->open(hub_, error)) {
    journal_.reset();
    return false;
  }
  logRecovery(stats);
  hub_.setHistoryLog(journal_.get());
  return true;
}

void MemoryEngine::historyTick() {
  if (!journal_)
    return;
  std::string error;
  if (journal_->due() && !journal_->sync(error))
    HF_ERROR("journal sync failed; publishes refused until compaction",
             util::logField("error", error));
  if (!journal_->compactionDue())
    return;
  if (journal_->compact(hub_, error))
    HF_INFO("journal compacted", util::logField("file", journal_->snapshotPath()));
  else
    HF_ERROR("journal compaction failed", util::logField("error", error));
}

int64_t MemoryEngine::historyTickMs() const {
  return std::clamp<int64_t>(journal_options_.sync_interval_ms, 1, 1000);
}

bool MemoryEngine::closeHistory(std::string& error) {
  if (!journal_)
    return true;
  hub_.setHistoryLog(nullptr);
  bool ok = journal_->close(hub_, error);
  journal_.reset(); // releases the directory lock
  return ok;
}

bool MemoryEngine::reopenHistory(std::string& error) {
  if (journal_ || state_dir_.empty())
    return true;
  journal_ = std::make_unique<store::Journal>(state_dir_, journal_options_, *clock_);
  if (!journal_->open(hub_, error)) {
    journal_.reset();
    return false;
  }
  hub_.setHistoryLog(journal_.get());
  return true;
}

} // namespace holdfast::engine
