// Unit tests of the load generator's latency statistics (bench/loadgen/latency.hpp).
#include <catch2/catch.hpp>

#include "../../../bench/loadgen/latency.hpp"

using loadgen::LatencyStats;

TEST_CASE("LatencyStats: nearest-rank percentiles", "[loadgen]") {
  LatencyStats l;
  for (int i = 100; i >= 1; --i)
    l.add(1, i); // 1..100, added unsorted
  CHECK(l.count() == 100);
  CHECK(l.percentile(50) == 50);
  CHECK(l.percentile(99) == 99);
  CHECK(l.percentile(100) == 100);
  CHECK(l.percentile(0) == 1);
  CHECK(l.percentile(1) == 1);
}

TEST_CASE("LatencyStats: empty and single sample", "[loadgen]") {
  LatencyStats l;
  CHECK(l.percentile(50) == 0);
  l.add(7, 42);
  CHECK(l.percentile(50) == 42);
  CHECK(l.percentile(99) == 42);
}

TEST_CASE("LatencyStats: per-publish worst latency is the time to reach everyone", "[loadgen]") {
  LatencyStats l;
  l.add(1, 10);
  l.add(1, 30);
  l.add(1, 20);
  l.add(2, 5);
  REQUIRE(l.perSeqMax().size() == 2);
  CHECK(l.perSeqMax().at(1) == 30);
  CHECK(l.perSeqMax().at(2) == 5);
}
