// metrics::collect and its two renderings, /stats JSON and Prometheus text, from one table.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <string>

#include "metrics/render.h"
#include "support/app_fixture.h"

using namespace holdfast;
using metrics::Snapshot;

namespace {

metrics::Stats sampleStats() {
  metrics::Stats s;
  s.connections = {3, 2000};
  s.held[static_cast<size_t>(transport::Kind::kLongpoll)] = 1500;
  s.held[static_cast<size_t>(transport::Kind::kSse)] = 400;
  s.held[static_cast<size_t>(transport::Kind::kNdjson)] = 7;
  s.accepted = 12345;
  s.delivered = 987654;
  s.dropped_slow = 4;
  s.dropped_gone = 9;
  s.protocol_errors = 2;
  s.output_bytes = 8192;
  s.pid = 777;
  s.responses[200] = 50;
  s.responses[404] = 6;
  return s;
}

engine::EngineStats sampleEngine() {
  return engine::EngineStats{77, 5, 11, 66, 4321, {}};
}

} // namespace

TEST_CASE("renderStatsJson has the documented shape", "[metrics]") {
  metrics::Stats s = sampleStats();
  std::string json = metrics::renderStatsJson(metrics::collect(Snapshot{s, sampleEngine(), 8, 42}));
  rapidjson::Document d;
  d.Parse(json.c_str());
  REQUIRE_FALSE(d.HasParseError());
  REQUIRE(d.IsObject());
  CHECK(d["connections"]["control"].GetUint64() == 3);
  CHECK(d["connections"]["data"].GetUint64() == 2000);
  CHECK(d["held"]["total"].GetUint64() == 1907);
  CHECK(d["held"]["longpoll"].GetUint64() == 1500);
  CHECK(d["held"]["sse"].GetUint64() == 400);
  CHECK(d["held"]["ndjson"].GetUint64() == 7);
  for (const char* k : {"jsonp", "iframe", "multipart"})
    CHECK(d["held"][k].GetUint64() == 0);
  CHECK_FALSE(d["held"].HasMember("poll"));
  CHECK(d["sessions"].GetUint64() == 8);
  CHECK(d["channels"].GetUint64() == 11);
  CHECK(d["messages"]["published"].GetUint64() == 77);
  CHECK(d["messages"]["delivered"].GetUint64() == 987654);
  CHECK(d["messages"]["buffered"].GetUint64() == 66);
  CHECK(d["messages"]["buffered_bytes"].GetUint64() == 4321);
  CHECK(d["messages"]["evicted"].GetUint64() == 5);
  CHECK(d["dropped"]["slow"].GetUint64() == 4);
  CHECK(d["dropped"]["gone"].GetUint64() == 9);
  CHECK(d["protocol_errors"].GetUint64() == 2);
  CHECK(d["output_bytes"].GetUint64() == 8192);
  CHECK(d["pid"].GetUint64() == 777);
  CHECK(d["uptime"].GetUint64() == 42);
}

TEST_CASE("renderPrometheus writes HELP/TYPE once per metric and one line per series",
          "[metrics]") {
  metrics::Stats s = sampleStats();
  std::string text =
      metrics::renderPrometheus(metrics::collect(Snapshot{s, sampleEngine(), 8, 42}));
  for (const char* line : {
           "holdfast_connections{socket=\"control\"} 3\n",
           "holdfast_connections{socket=\"data\"} 2000\n",
           "holdfast_connections_accepted_total 12345\n",
           "holdfast_held_requests{transport=\"longpoll\"} 1500\n",
           "holdfast_held_requests{transport=\"multipart\"} 0\n",
           "holdfast_sessions 8\n",
           "holdfast_channels 11\n",
           "holdfast_published_total 77\n",
           "holdfast_delivered_total 987654\n",
           "holdfast_buffered_messages 66\n",
           "holdfast_buffered_bytes 4321\n",
           "holdfast_evicted_total 5\n",
           "holdfast_dropped_total{reason=\"slow\"} 4\n",
           "holdfast_dropped_total{reason=\"gone\"} 9\n",
           "holdfast_protocol_errors_total 2\n",
           "holdfast_responses_total{status=\"200\"} 50\n",
           "holdfast_responses_total{status=\"404\"} 6\n",
           "holdfast_uptime_seconds 42\n",
           "holdfast_output_bytes 8192\n",
           "# TYPE holdfast_dropped_total counter\n",
           "# TYPE holdfast_held_requests gauge\n",
           "# HELP holdfast_held_requests Held subscriber requests by transport.\n",
       }) {
    CAPTURE(line);
    CHECK_THAT(text, Catch::Contains(line));
  }
  // One HELP/TYPE per metric name, even with several series.
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
      ++n;
    return n;
  };
  CHECK(count("# TYPE holdfast_connections gauge\n") == 1);
  CHECK(count("# TYPE holdfast_responses_total counter\n") == 1);
  CHECK(count("# HELP holdfast_dropped_total") == 1);
  // The held total is a JSON-only convenience (sum() in Prometheus).
  CHECK_THAT(text, !Catch::Contains("1907"));
  CHECK_THAT(text, !Catch::Contains(" 777\n")); // pid is in /stats only
  CHECK(text.back() == '\n');
}

TEST_CASE("a value set in Stats shows in both /stats and /metrics", "[metrics][app]") {
  support::AppFixture fx;
  fx.stats.dropped_slow = 31337;
  fx.stats.connections[1] = 4242;
  fx.clock.advance(90'000);
  fx.publish("a", "1");
  auto stats = fx.control("GET", "/push/ctl/stats").bodyJson();
  std::string prom = fx.control("GET", "/push/ctl/metrics").body();
  CHECK(stats["dropped"]["slow"].GetUint64() == 31337);
  CHECK_THAT(prom, Catch::Contains("holdfast_dropped_total{reason=\"slow\"} 31337\n"));
  CHECK(stats["connections"]["data"].GetUint64() == 4242);
  CHECK_THAT(prom, Catch::Contains("holdfast_connections{socket=\"data\"} 4242\n"));
  CHECK(stats["messages"]["published"].GetUint64() == 1);
  CHECK_THAT(prom, Catch::Contains("holdfast_published_total 1\n"));
  CHECK(stats["uptime"].GetUint64() == 90);
  CHECK_THAT(prom, Catch::Contains("holdfast_uptime_seconds 90\n"));
  // Responses counted so far: the publish (202) and the /stats answer (200).
  CHECK_THAT(prom, Catch::Contains("holdfast_responses_total{status=\"202\"} 1\n"));
  CHECK_THAT(prom, Catch::Contains("holdfast_responses_total{status=\"200\"} 1\n"));
}

TEST_CASE("held gauges follow held requests in /stats", "[metrics][app]") {
  support::AppFixture fx;
  fx.get("/push/sub/a");
  fx.get("/push/sub/a?transport=iframe");
  fx.get("/push/sub/a?transport=poll&session=new");
  auto d = fx.control("GET", "/push/ctl/stats").bodyJson();
  CHECK(d["held"]["total"].GetUint64() == 2);
  CHECK(d["held"]["longpoll"].GetUint64() == 1);
  CHECK(d["held"]["iframe"].GetUint64() == 1);
  CHECK(d["sessions"].GetUint64() == 1);
  CHECK(d["channels"].GetUint64() == 1);
}
