// Stats and metrics rendering.
#include "server/metrics.h"

#include "server/server.h"
#include "server/sessions.h"
#include "transport/transport.h"

namespace holdfast::server {
namespace {

using transport::Kind;

constexpr Kind kKinds[] = {Kind::kLongpoll, Kind::kPoll,      Kind::kJsonp, Kind::kSse,
                           Kind::kIframe,   Kind::kMultipart, Kind::kNdjson};

std::string num(uint64_t v) { return std::to_string(v); }

void metric(std::string& out, const char* name, const char* type, const char* help,
            const std::string& samples) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += samples;
}

std::string sample(const char* name, const std::string& labels, uint64_t value) {
  std::string s = name;
  if (!labels.empty())
    s += "{" + labels + "}";
  return s + " " + num(value) + "\n";
}

} // namespace

std::string renderStatsJson(Server& server) {
  const Stats& s = server.stats();
  hub::HubStats h = server.hub().stats();
  std::string out = "{\"connections\":{\"control\":" + num(s.connections[0]) +
                    ",\"data\":" + num(s.connections[1]) + "},\"held\":{\"total\":" +
                    num(s.heldTotal());
  for (Kind k : kKinds) {
    if (k == Kind::kPoll)
      continue;  // poll is never held
    out += ",\"";
    out += transport::kindName(k);
    out += "\":" + num(s.held[static_cast<size_t>(k)]);
  }
  out += "},\"sessions\":" + num(server.sessions().size());
  out += ",\"channels\":" + num(h.channels);
  out += ",\"messages\":{\"published\":" + num(h.published) + ",\"delivered\":" + num(s.delivered) +
         ",\"buffered\":" + num(h.buffered) + ",\"buffered_bytes\":" + num(h.buffered_bytes) +
         ",\"evicted\":" + num(h.evicted) + "}";
  out += ",\"dropped\":{\"slow\":" + num(s.dropped_slow) + ",\"gone\":" + num(s.dropped_gone) + "}";
  out += ",\"protocol_errors\":" + num(s.protocol_errors);
  out += ",\"uptime\":" + num(static_cast<uint64_t>((server.clock().nowMs() - s.started_ms) / 1000));
  out += "}\n";
  return out;
}

std::string renderMetrics(Server& server) {
  const Stats& s = server.stats();
  hub::HubStats h = server.hub().stats();
  std::string out;
  metric(out, "holdfast_connections", "gauge", "Open FastCGI connections by socket.",
         sample("holdfast_connections", "socket=\"control\"", s.connections[0]) +
             sample("holdfast_connections", "socket=\"data\"", s.connections[1]));
  metric(out, "holdfast_connections_accepted_total", "counter", "FastCGI connections accepted.",
         sample("holdfast_connections_accepted_total", "", s.accepted));
  std::string held;
  for (Kind k : kKinds) {
    if (k != Kind::kPoll)
      held += sample("holdfast_held_requests", "transport=\"" + std::string(transport::kindName(k)) + "\"",
                     s.held[static_cast<size_t>(k)]);
  }
  metric(out, "holdfast_held_requests", "gauge", "Held subscriber requests by transport.", held);
  metric(out, "holdfast_sessions", "gauge", "Live sessions.",
         sample("holdfast_sessions", "", server.sessions().size()));
  metric(out, "holdfast_channels", "gauge", "Channels in memory.",
         sample("holdfast_channels", "", h.channels));
  metric(out, "holdfast_buffered_messages", "gauge", "Messages buffered in all channels.",
         sample("holdfast_buffered_messages", "", h.buffered));
  metric(out, "holdfast_buffered_bytes", "gauge", "Bytes charged to channel buffers.",
         sample("holdfast_buffered_bytes", "", h.buffered_bytes));
  metric(out, "holdfast_published_total", "counter", "Messages published.",
         sample("holdfast_published_total", "", h.published));
  metric(out, "holdfast_delivered_total", "counter", "Message copies delivered to subscribers.",
         sample("holdfast_delivered_total", "", s.delivered));
  metric(out, "holdfast_evicted_total", "counter", "Messages evicted from buffers.",
         sample("holdfast_evicted_total", "", h.evicted));
  metric(out, "holdfast_dropped_total", "counter", "Subscribers dropped, by reason.",
         sample("holdfast_dropped_total", "reason=\"slow\"", s.dropped_slow) +
             sample("holdfast_dropped_total", "reason=\"gone\"", s.dropped_gone));
  metric(out, "holdfast_protocol_errors_total", "counter", "Connections closed for bad FastCGI.",
         sample("holdfast_protocol_errors_total", "", s.protocol_errors));
  std::string responses;
  for (auto [status, count] : s.responses)
    responses += sample("holdfast_responses_total", "status=\"" + num(static_cast<uint64_t>(status)) + "\"", count);
  metric(out, "holdfast_responses_total", "counter", "Responses by HTTP status.", responses);
  metric(out, "holdfast_uptime_seconds", "gauge", "Seconds since start.",
         sample("holdfast_uptime_seconds", "",
                static_cast<uint64_t>((server.clock().nowMs() - s.started_ms) / 1000)));
  return out;
}

} // namespace holdfast::server
