// Per-subscriber sequence accounting for the load generator (pure: no I/O, no clock).
// Publishers number messages 1..N; each subscriber feeds every sequence it receives here and
// the tracker classifies it, so loss, duplication and reordering are counted on the
// subscriber side, independently of what the server reports.
#pragma once

#include <cstdint>
#include <vector>

namespace loadgen {

/// What one received sequence number was.
enum class SeqResult {
  kInOrder,    ///< first time seen and greater than every sequence seen before
  kOutOfOrder, ///< first time seen but smaller than one seen before
  kDuplicate,  ///< seen before
  kUnexpected, ///< 0 or beyond the expected range (never published in this run)
};

/// Tracks the sequences 1..expected of one subscriber. Cheap: one byte per expected message.
class SeqTracker {
public:
  explicit SeqTracker(uint64_t expected = 0) : expected_(expected), seen_(expected + 1, 0) {}

  SeqResult record(uint64_t seq) {
    ++received_;
    if (seq == 0 || seq > expected_) {
      ++unexpected_;
      return SeqResult::kUnexpected;
    }
    if (seen_[seq]) {
      ++duplicates_;
      return SeqResult::kDuplicate;
    }
    seen_[seq] = 1;
    ++distinct_;
    if (seq < maxSeen_) {
      ++outOfOrder_;
      return SeqResult::kOutOfOrder;
    }
    maxSeen_ = seq;
    return SeqResult::kInOrder;
  }

  uint64_t expected() const { return expected_; }
  uint64_t received() const { return received_; }
  uint64_t distinct() const { return distinct_; }
  uint64_t duplicates() const { return duplicates_; }
  uint64_t outOfOrder() const { return outOfOrder_; }
  uint64_t unexpected() const { return unexpected_; }
  /// Expected sequences never received.
  uint64_t lost() const { return expected_ - distinct_; }
  bool complete() const { return distinct_ == expected_; }
  /// Every expected sequence exactly once, in order, nothing else.
  bool exact() const {
    return complete() && duplicates_ == 0 && outOfOrder_ == 0 && unexpected_ == 0;
  }

private:
  uint64_t expected_;
  std::vector<uint8_t> seen_;
  uint64_t maxSeen_ = 0;
  uint64_t received_ = 0;
  uint64_t distinct_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t outOfOrder_ = 0;
  uint64_t unexpected_ = 0;
};

/// Sum of many trackers (one process, or several processes merged).
struct SeqTotals {
  uint64_t subscribers = 0;
  uint64_t complete = 0; ///< subscribers that got every expected sequence
  uint64_t exact = 0;    ///< subscribers with SeqTracker::exact()
  uint64_t received = 0;
  uint64_t lost = 0;
  uint64_t duplicates = 0;
  uint64_t outOfOrder = 0;
  uint64_t unexpected = 0;

  void add(const SeqTracker& t) {
    ++subscribers;
    complete += t.complete() ? 1 : 0;
    exact += t.exact() ? 1 : 0;
    received += t.received();
    lost += t.lost();
    duplicates += t.duplicates();
    outOfOrder += t.outOfOrder();
    unexpected += t.unexpected();
  }
  void add(const SeqTotals& o) {
    subscribers += o.subscribers;
    complete += o.complete;
    exact += o.exact;
    received += o.received;
    lost += o.lost;
    duplicates += o.duplicates;
    outOfOrder += o.outOfOrder;
    unexpected += o.unexpected;
  }
  /// Zero loss, duplication, reordering and strays over every subscriber.
  bool clean() const { return lost == 0 && duplicates == 0 && outOfOrder == 0 && unexpected == 0; }
};

} // namespace loadgen
