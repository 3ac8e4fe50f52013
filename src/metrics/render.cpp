// The metrics table and its two renderings.
#include "metrics/render.h"

#include <string_view>

#include "transport/transport.h"
#include "util/json_writer.h"

namespace holdfast::metrics {
namespace {

using transport::Kind;

constexpr Kind kHeldKinds[] = {Kind::kLongpoll, Kind::kJsonp,     Kind::kSse,
                               Kind::kIframe,   Kind::kMultipart, Kind::kNdjson};

std::string label(std::string_view name, std::string_view value) {
  return std::string(name) + "=\"" + std::string(value) + "\"";
}

void connectionRows(std::vector<Row>& rows, const Stats& s) {
  const char* help = "Open FastCGI connections by socket.";
  rows.push_back({"connections.control", "holdfast_connections", "gauge", help,
                  label("socket", "control"), s.connections[0]});
  rows.push_back({"connections.data", "holdfast_connections", "gauge", help,
                  label("socket", "data"), s.connections[1]});
  rows.push_back({"", "holdfast_connections_accepted_total", "counter",
                  "FastCGI connections accepted.", "", s.accepted});
}

void heldRows(std::vector<Row>& rows, const Stats& s) {
  rows.push_back({"held.total", "", "gauge", "", "", s.heldTotal()});
  for (Kind k : kHeldKinds)
    rows.push_back({"held." + std::string(transport::kindName(k)), "holdfast_held_requests",
                    "gauge", "Held subscriber requests by transport.",
                    label("transport", transport::kindName(k)), s.held[static_cast<size_t>(k)]});
}

void messageRows(std::vector<Row>& rows, const Snapshot& snap) {
  const engine::EngineStats& e = snap.engine;
  rows.push_back({"sessions", "holdfast_sessions", "gauge", "Live sessions.", "", snap.sessions});
  rows.push_back({"channels", "holdfast_channels", "gauge", "Channels in memory.", "", e.channels});
  rows.push_back({"messages.published", "holdfast_published_total", "counter",
                  "Messages published.", "", e.published});
  rows.push_back({"messages.delivered", "holdfast_delivered_total", "counter",
                  "Message copies delivered to subscribers.", "", snap.stats.delivered});
  rows.push_back({"messages.buffered", "holdfast_buffered_messages", "gauge",
                  "Messages buffered in all channels.", "", e.buffered});
  rows.push_back({"messages.buffered_bytes", "holdfast_buffered_bytes", "gauge",
                  "Bytes charged to channel buffers.", "", e.buffered_bytes});
  rows.push_back({"messages.evicted", "holdfast_evicted_total", "counter",
                  "Messages evicted from buffers.", "", e.evicted});
}

void dropRows(std::vector<Row>& rows, const Stats& s) {
  const char* help = "Subscribers dropped, by reason.";
  rows.push_back({"dropped.slow", "holdfast_dropped_total", "counter", help,
                  label("reason", "slow"), s.dropped_slow});
  rows.push_back({"dropped.gone", "holdfast_dropped_total", "counter", help,
                  label("reason", "gone"), s.dropped_gone});
  rows.push_back({"protocol_errors", "holdfast_protocol_errors_total", "counter",
                  "Connections closed for bad FastCGI.", "", s.protocol_errors});
  rows.push_back({"timeouts", "holdfast_request_timeouts_total", "counter",
                  "Connections closed with a partial request after request_timeout.", "",
                  s.timeouts});
  rows.push_back({"output_bytes", "holdfast_output_bytes", "gauge",
                  "Unsent bytes queued on all connections.", "", s.output_bytes});
}

// Only for engines over network storage (Redis).
void storageRows(std::vector<Row>& rows, const Snapshot& snap) {
  if (!snap.engine.storage)
    return;
  const engine::StorageHealth& h = *snap.engine.storage;
  rows.push_back({"redis.connected", "holdfast_redis_connected", "gauge",
                  "1 while both Redis links are ready.", "", h.connected ? 1u : 0u});
  rows.push_back({"redis.latency_ms", "holdfast_redis_latency_ms", "gauge",
                  "Last Redis PING round trip in milliseconds.", "", h.latency_ms});
  rows.push_back({"redis.reconnects", "holdfast_redis_reconnects_total", "counter",
                  "Redis links ready again after a loss.", "", h.reconnects});
  const char* help = "Channel reads by where they were answered: from the messages this node "
                     "received over pub/sub, or by Redis.";
  rows.push_back({"redis.reads_from_memory", "holdfast_redis_channel_reads_total", "counter", help,
                  label("from", "memory"), h.reads_from_memory});
  rows.push_back({"redis.reads_from_redis", "holdfast_redis_channel_reads_total", "counter", help,
                  label("from", "redis"), h.reads_from_storage});
}

void refusedRows(std::vector<Row>& rows, const Stats& s) {
  const char* help = "Requests refused at a capacity cap, by cap.";
  rows.push_back({"refused.channels", "holdfast_refused_total", "counter", help,
                  label("cap", "max_channels"), s.refused_channels});
  rows.push_back({"refused.sessions", "holdfast_refused_total", "counter", help,
                  label("cap", "max_sessions"), s.refused_sessions});
}

void responseRows(std::vector<Row>& rows, const Stats& s) {
  for (auto [status, count] : s.responses)
    rows.push_back({"", "holdfast_responses_total", "counter", "Responses by HTTP status.",
                    label("status", std::to_string(status)), count});
}

// The object part of a path ("messages" of "messages.published"); empty for top-level keys.
std::string_view objectOf(std::string_view path) {
  auto dot = path.find('.');
  return dot == std::string_view::npos ? std::string_view() : path.substr(0, dot);
}

} // namespace

std::vector<Row> collect(const Snapshot& snap) {
  std::vector<Row> rows;
  connectionRows(rows, snap.stats);
  heldRows(rows, snap.stats);
  messageRows(rows, snap);
  dropRows(rows, snap.stats);
  storageRows(rows, snap);
  refusedRows(rows, snap.stats);
  responseRows(rows, snap.stats);
  rows.push_back(
      {"uptime", "holdfast_uptime_seconds", "gauge", "Seconds since start.", "", snap.uptime_s});
  rows.push_back({"pid", "", "gauge", "", "", snap.stats.pid});
  return rows;
}

std::string renderStatsJson(const std::vector<Row>& rows) {
  util::JsonWriter w;
  w.startObject();
  std::string_view open; // the nested object being written, if any
  for (const Row& row : rows) {
    if (row.json_path.empty())
      continue;
    std::string_view object = objectOf(row.json_path);
    if (object != open && !open.empty())
      w.endObject();
    if (object != open && !object.empty())
      w.key(object).startObject();
    open = object;
    w.key(object.empty() ? std::string_view(row.json_path)
                         : std::string_view(row.json_path).substr(object.size() + 1))
        .uint(row.value);
  }
  if (!open.empty())
    w.endObject();
  w.endObject();
  return w.finish();
}

std::string renderPrometheus(const std::vector<Row>& rows) {
  std::string out;
  std::string_view last;
  for (const Row& row : rows) {
    if (!*row.name)
      continue;
    if (last != row.name) {
      out += std::string("# HELP ") + row.name + ' ' + row.help + "\n# TYPE " + row.name + ' ' +
             row.type + '\n';
      last = row.name;
    }
    out += row.name;
    if (!row.labels.empty())
      out += '{' + row.labels + '}';
    out += ' ' + std::to_string(row.value) + '\n';
  }
  return out;
}

} // namespace holdfast::metrics
