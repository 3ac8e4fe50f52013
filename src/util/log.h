// Structured logging to stderr in logfmt ("ts=... level=info msg=\"...\" key=value").
// Single-threaded by design (one event loop); the level can change at run time (SIGHUP).
#pragma once

#include <string>
#include <string_view>

namespace holdfast::util {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

bool parseLogLevel(std::string_view name, LogLevel& out);
void setLogLevel(LogLevel level);
bool logEnabled(LogLevel level);

// Writes one line: msg plus pre-formatted "key=value" fields (use logField to build them).
void logLine(LogLevel level, std::string_view msg, std::string_view fields = {});
// " key=value" with the value quoted when it holds spaces, quotes or '='.
std::string logField(std::string_view key, std::string_view value);
std::string logField(std::string_view key, long long value);

} // namespace holdfast::util

#define HF_LOG(level, msg, fields)                                                                 \
  do {                                                                                             \
    if (::holdfast::util::logEnabled(level))                                                       \
      ::holdfast::util::logLine(level, msg, fields);                                               \
  } while (0)
#define HF_DEBUG(msg, fields) HF_LOG(::holdfast::util::LogLevel::kDebug, msg, fields)
#define HF_INFO(msg, fields) HF_LOG(::holdfast::util::LogLevel::kInfo, msg, fields)
#define HF_WARN(msg, fields) HF_LOG(::holdfast::util::LogLevel::kWarn, msg, fields)
#define HF_ERROR(msg, fields) HF_LOG(::holdfast::util::LogLevel::kError, msg, fields)
