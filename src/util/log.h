// Structured logging to stderr, one line per event, in logfmt (default:
// `ts=... level=info msg="..." key=value`) or JSON (`{"ts":...,"level":...,"msg":...,...}`).
// Under systemd (stderr is the journal stream) lines carry no timestamp of their own, since
// journald stamps every line, and start with a `<N>` syslog priority that journald turns into
// the entry's priority (`journalctl -p warning` works). Single-threaded by design (one event
// loop); the level can change at run time (SIGHUP).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace holdfast::util {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat {
  kLogfmt, // key=value pairs, values quoted when needed
  kJson,   // one JSON object a line
};

bool parseLogLevel(std::string_view name, LogLevel& out);
bool parseLogFormat(std::string_view name, LogFormat& out);
void setLogLevel(LogLevel level);
bool logEnabled(LogLevel level);
// `journal`: no "ts" field, "<N>" priority prefix (see the file comment).
void setLogFormat(LogFormat format, bool journal);
// True when systemd connected stderr to journald: $JOURNAL_STREAM ("DEV:INODE") names fd 2.
bool stderrIsJournal();
// Applies the log_format / log_journal config values ("logfmt"|"json", "auto"|"on"|"off");
// unknown values (config validation rejects them) leave the current setting.
void configureLogOutput(std::string_view format, std::string_view journal);

// Writes one line: msg plus fields built with logField (concatenated).
void logLine(LogLevel level, std::string_view msg, std::string_view fields = {});
// The line logLine writes, without the trailing newline; `unix_ms` is the time to show.
std::string formatLogLine(LogLevel level, std::string_view msg, std::string_view fields,
                          int64_t unix_ms);
// One field for logLine. The result is an opaque encoding (concatenate fields with +) that
// logLine renders in the chosen format: quoted when needed in logfmt, a string or number in JSON.
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
