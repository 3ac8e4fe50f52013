// Unit tests of the load generator's sequence accounting (bench/loadgen/seq_tracker.hpp).
#include <catch2/catch.hpp>

#include "../../../bench/loadgen/seq_tracker.hpp"

using loadgen::SeqResult;
using loadgen::SeqTotals;
using loadgen::SeqTracker;

TEST_CASE("SeqTracker: every sequence once in order is exact", "[loadgen]") {
  SeqTracker t(5);
  for (uint64_t s = 1; s <= 5; ++s)
    REQUIRE(t.record(s) == SeqResult::kInOrder);
  CHECK(t.complete());
  CHECK(t.exact());
  CHECK(t.lost() == 0);
  CHECK(t.received() == 5);
}

TEST_CASE("SeqTracker: missing sequences are lost", "[loadgen]") {
  SeqTracker t(5);
  t.record(1);
  t.record(2);
  t.record(5);
  CHECK(t.lost() == 2);
  CHECK_FALSE(t.complete());
  CHECK_FALSE(t.exact());
  CHECK(t.outOfOrder() == 0);
}

TEST_CASE("SeqTracker: duplicates are counted once each and not as distinct", "[loadgen]") {
  SeqTracker t(3);
  t.record(1);
  CHECK(t.record(1) == SeqResult::kDuplicate);
  t.record(2);
  t.record(3);
  CHECK(t.record(3) == SeqResult::kDuplicate);
  CHECK(t.duplicates() == 2);
  CHECK(t.distinct() == 3);
  CHECK(t.received() == 5);
  CHECK(t.complete());
  CHECK_FALSE(t.exact());
}

TEST_CASE("SeqTracker: a late first delivery is out of order, not lost", "[loadgen]") {
  SeqTracker t(4);
  t.record(1);
  t.record(3);
  CHECK(t.record(2) == SeqResult::kOutOfOrder);
  t.record(4);
  CHECK(t.outOfOrder() == 1);
  CHECK(t.lost() == 0);
  CHECK(t.complete());
  CHECK_FALSE(t.exact());
}

TEST_CASE("SeqTracker: zero and beyond-range sequences are unexpected", "[loadgen]") {
  SeqTracker t(2);
  CHECK(t.record(0) == SeqResult::kUnexpected);
  CHECK(t.record(3) == SeqResult::kUnexpected);
  t.record(1);
  t.record(2);
  CHECK(t.unexpected() == 2);
  CHECK(t.complete());
  CHECK_FALSE(t.exact());
}

TEST_CASE("SeqTracker: expecting nothing is trivially complete", "[loadgen]") {
  SeqTracker t(0);
  CHECK(t.complete());
  CHECK(t.exact());
  CHECK(t.record(1) == SeqResult::kUnexpected);
  CHECK_FALSE(t.exact());
}

TEST_CASE("SeqTotals sums trackers and merges totals", "[loadgen]") {
  SeqTracker good(3), lossy(3);
  for (uint64_t s = 1; s <= 3; ++s)
    good.record(s);
  lossy.record(1);
  lossy.record(1);
  SeqTotals a;
  a.add(good);
  CHECK(a.clean());
  a.add(lossy);
  CHECK(a.subscribers == 2);
  CHECK(a.complete == 1);
  CHECK(a.exact == 1);
  CHECK(a.lost == 2);
  CHECK(a.duplicates == 1);
  CHECK(a.received == 5);
  CHECK_FALSE(a.clean());
  SeqTotals b;
  b.add(a);
  b.add(a);
  CHECK(b.subscribers == 4);
  CHECK(b.lost == 4);
}
