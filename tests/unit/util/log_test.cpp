// Log line formatting: logfmt and JSON, with and without journal mode.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "util/log.h"

using namespace holdfast::util;

namespace {
constexpr int64_t kMs = 1764614400123; // 2025-12-01T18:40:00.123Z

struct Restore {
  ~Restore() { setLogFormat(LogFormat::kLogfmt, false); }
};
} // namespace

TEST_CASE("log: logfmt with timestamp (the default)", "[util][log]") {
  Restore restore;
  setLogFormat(LogFormat::kLogfmt, false);
  std::string fields =
      logField("socket", "data") + logField("conns", 12) + logField("error", "bad \"x\"\nnext");
  CHECK(formatLogLine(LogLevel::kWarn, "accept failed", fields, kMs) ==
        "ts=2025-12-01T18:40:00.123Z level=warn msg=\"accept failed\" socket=data conns=12 "
        "error=\"bad \\\"x\\\"\\nnext\"");
}

TEST_CASE("log: journal mode drops ts and adds the syslog priority", "[util][log]") {
  Restore restore;
  setLogFormat(LogFormat::kLogfmt, true);
  CHECK(formatLogLine(LogLevel::kError, "x", {}, kMs) == "<3>level=error msg=x");
  CHECK(formatLogLine(LogLevel::kInfo, "x", {}, kMs).starts_with("<6>"));
  CHECK(formatLogLine(LogLevel::kDebug, "x", {}, kMs).starts_with("<7>"));
  CHECK(formatLogLine(LogLevel::kWarn, "x", {}, kMs).starts_with("<4>"));
}

TEST_CASE("log: json lines are one valid object", "[util][log]") {
  Restore restore;
  setLogFormat(LogFormat::kJson, false);
  std::string line = formatLogLine(LogLevel::kInfo, "listening",
                                   logField("address", "unix:/run/a b.sock") + logField("n", -3) +
                                       logField("odd\x1fkey", "v\x1e"),
                                   kMs);
  rapidjson::Document d;
  d.Parse(line.c_str(), line.size());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(std::string(d["ts"].GetString()) == "2025-12-01T18:40:00.123Z");
  CHECK(std::string(d["level"].GetString()) == "info");
  CHECK(std::string(d["msg"].GetString()) == "listening");
  CHECK(std::string(d["address"].GetString()) == "unix:/run/a b.sock");
  CHECK(d["n"].GetInt() == -3);
  CHECK(std::string(d["odd key"].GetString()) == "v ");
  setLogFormat(LogFormat::kJson, true);
  CHECK(formatLogLine(LogLevel::kInfo, "m", {}, kMs) == "<6>{\"level\":\"info\",\"msg\":\"m\"}");
}

TEST_CASE("log: format names", "[util][log]") {
  LogFormat f = LogFormat::kLogfmt;
  CHECK(parseLogFormat("json", f));
  CHECK(f == LogFormat::kJson);
  CHECK(parseLogFormat("logfmt", f));
  CHECK(f == LogFormat::kLogfmt);
  CHECK_FALSE(parseLogFormat("JSON", f));
}
