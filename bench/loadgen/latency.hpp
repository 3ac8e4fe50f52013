// Latency samples and their percentiles (pure). Nearest-rank percentiles over exact samples:
// runs are bounded (at most subscribers x publishes samples), so no histogram approximation.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <vector>

namespace loadgen {

/// Per-delivery latencies in nanoseconds, plus the worst latency of each publish (the time
/// until that publish reached 100% of the subscribers that got it).
class LatencyStats {
public:
  void add(uint64_t seq, int64_t ns) {
    samples_.push_back(ns);
    auto [it, inserted] = perSeqMax_.emplace(seq, ns);
    if (!inserted && ns > it->second)
      it->second = ns;
  }
  size_t count() const { return samples_.size(); }
  const std::vector<int64_t>& samples() const { return samples_; }
  const std::map<uint64_t, int64_t>& perSeqMax() const { return perSeqMax_; }

  /// Nearest-rank percentile, p in [0, 100]; 0 when there are no samples.
  int64_t percentile(double p) const { return percentileOf(samples_, p); }

  static int64_t percentileOf(std::vector<int64_t> v, double p) {
    if (v.empty())
      return 0;
    std::sort(v.begin(), v.end());
    double rank = std::ceil(p / 100.0 * static_cast<double>(v.size()));
    size_t idx = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
    if (idx >= v.size())
      idx = v.size() - 1;
    return v[idx];
  }

private:
  std::vector<int64_t> samples_;
  std::map<uint64_t, int64_t> perSeqMax_;
};

} // namespace loadgen
