// logfmt lines on stderr.
#include "util/log.h"

#include <cstdio>
#include <ctime>
#include <string>

namespace holdfast::util {
namespace {
LogLevel g_level = LogLevel::kInfo;

const char* levelName(LogLevel level) {
  switch (level) {
  case LogLevel::kDebug: return "debug";
  case LogLevel::kInfo: return "info";
  case LogLevel::kWarn: return "warn";
  case LogLevel::kError: return "error";
  }
  return "info";
}

void appendValue(std::string& out, std::string_view value) {
  bool quote = value.empty() || value.find_first_of(" \"=\t\n\r\\") != std::string_view::npos;
  if (!quote) {
    out.append(value);
    return;
  }
  out.push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '\r') {
      out.append("\\r");
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}
} // namespace

bool parseLogLevel(std::string_view name, LogLevel& out) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (name == levelName(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

void setLogLevel(LogLevel level) { g_level = level; }
bool logEnabled(LogLevel level) { return level >= g_level; }

void logLine(LogLevel level, std::string_view msg, std::string_view fields) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  char stamp[64];
  snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", t.tm_year + 1900,
           t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1'000'000);
  std::string line = "ts=";
  line += stamp;
  line += " level=";
  line += levelName(level);
  line += " msg=";
  appendValue(line, msg);
  line.append(fields);
  line.push_back('\n');
  fwrite(line.data(), 1, line.size(), stderr);
}

std::string logField(std::string_view key, std::string_view value) {
  std::string out = " ";
  out.append(key);
  out.push_back('=');
  appendValue(out, value);
  return out;
}

std::string logField(std::string_view key, long long value) {
  return " " + std::string(key) + "=" + std::to_string(value);
}

} // namespace holdfast::util
