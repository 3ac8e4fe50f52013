// Process-wide counters and gauges behind /stats and /metrics. The event layer counts
// connections; the handlers count held requests, deliveries and responses.
#pragma once

#include <array>
#include <cstdint>
#include <map>

#include "transport/transport.h"

namespace holdfast::metrics {

struct Stats {
  std::array<uint64_t, 2> connections{};              // open now: [0] control, [1] data socket
  std::array<uint64_t, transport::kKindCount> held{}; // held now, by transport
  uint64_t accepted = 0;
  uint64_t delivered = 0;    // message copies written to subscribers
  uint64_t dropped_slow = 0; // subscribers dropped for exceeding the output cap
  uint64_t dropped_gone = 0; // held requests whose client went away
  uint64_t protocol_errors = 0;
  std::map<int, uint64_t> responses; // by HTTP status
  uint64_t output_bytes = 0;         // unsent bytes queued on all connections now
  // Data connections the process can take before answering 503: max_connections, lowered by
  // the event layer to what the file descriptor limit leaves after the control reserve.
  uint64_t data_capacity = UINT64_MAX;
  uint64_t timeouts = 0;         // connections closed by request_timeout
  uint64_t refused_channels = 0; // requests refused: they would create a channel past
                                 // max_channels (503 too_many_channels)
  uint64_t refused_sessions = 0; // session=new refused past max_sessions (503)
  int64_t started_ms = 0;
  uint64_t pid = 0; // this process (it changes across a hand-over restart)

  uint64_t heldTotal() const {
    uint64_t n = 0;
    for (auto h : held)
      n += h;
    return n;
  }
};

} // namespace holdfast::metrics
