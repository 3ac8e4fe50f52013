// /stats (JSON) and /metrics (Prometheus text exposition), both rendered from one table of
// rows (metrics::collect) so the two can never disagree.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "metrics/stats.h"

namespace holdfast::metrics {

// Everything the two renderings read, taken at one moment.
struct Snapshot {
  const Stats& stats;
  engine::EngineStats engine;
  size_t sessions = 0;
  uint64_t uptime_s = 0;
};

// One value. `json_path` ("messages.published") places it in /stats (empty: not there);
// `name` + `labels` in /metrics (empty name: not there). Rows of one Prometheus metric and of
// one JSON object are adjacent.
struct Row {
  std::string json_path;
  const char* name = "";
  const char* type = "gauge";
  const char* help = "";
  std::string labels;
  uint64_t value = 0;
};

std::vector<Row> collect(const Snapshot& snapshot);
std::string renderStatsJson(const std::vector<Row>& rows);
std::string renderPrometheus(const std::vector<Row>& rows);

} // namespace holdfast::metrics
