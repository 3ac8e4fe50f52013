// Log lines on stderr in logfmt or JSON, journald-aware (see log.h).
#include "util/log.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "util/json.h"

namespace holdfast::util {
namespace {

// Field encoding inside the string logField returns: kFieldStart KEY kValueStart TYPE VALUE,
// TYPE 's' (text) or 'n' (number). Both separators are removed from keys and values.
constexpr char kFieldStart = '\x1f';
constexpr char kValueStart = '\x1e';

LogLevel g_level = LogLevel::kInfo;
LogFormat g_format = LogFormat::kLogfmt;
bool g_journal = false;

const char* levelName(LogLevel level) {
  switch (level) {
  case LogLevel::kDebug:
    return "debug";
  case LogLevel::kInfo:
    return "info";
  case LogLevel::kWarn:
    return "warn";
  case LogLevel::kError:
    return "error";
  }
  return "info";
}

// syslog priorities (sd-daemon.h's SD_DEBUG ... SD_ERR) for the journal prefix.
char syslogPriority(LogLevel level) {
  switch (level) {
  case LogLevel::kDebug:
    return '7';
  case LogLevel::kInfo:
    return '6';
  case LogLevel::kWarn:
    return '4';
  case LogLevel::kError:
    return '3';
  }
  return '6';
}

void appendLogfmtValue(std::string& out, std::string_view value) {
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

void appendField(std::string& out, std::string_view key, char type, std::string_view value) {
  if (g_format == LogFormat::kJson) {
    out.push_back(',');
    appendJsonString(out, key);
    out.push_back(':');
    if (type == 'n')
      out.append(value);
    else
      appendJsonString(out, value);
    return;
  }
  out.push_back(' ');
  out.append(key);
  out.push_back('=');
  appendLogfmtValue(out, value);
}

// Renders the encoded `fields` (see kFieldStart) in the current format.
void appendFields(std::string& out, std::string_view fields) {
  while (!fields.empty()) {
    size_t start = fields.find(kFieldStart);
    if (start == std::string_view::npos)
      return;
    size_t next = fields.find(kFieldStart, start + 1);
    std::string_view field = fields.substr(
        start + 1, next == std::string_view::npos ? std::string_view::npos : next - start - 1);
    size_t sep = field.find(kValueStart);
    if (sep != std::string_view::npos && sep + 1 < field.size())
      appendField(out, field.substr(0, sep), field[sep + 1], field.substr(sep + 2));
    fields = next == std::string_view::npos ? std::string_view() : fields.substr(next);
  }
}

std::string stamp(int64_t unix_ms) {
  time_t secs = static_cast<time_t>(unix_ms / 1000);
  tm t{};
  gmtime_r(&secs, &t);
  char text[64];
  snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900, t.tm_mon + 1,
           t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, static_cast<int>(unix_ms % 1000));
  return text;
}

std::string clean(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = (c == kFieldStart || c == kValueStart) ? ' ' : c;
  return out;
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

bool parseLogFormat(std::string_view name, LogFormat& out) {
  if (name != "logfmt" && name != "json")
    return false;
  out = name == "json" ? LogFormat::kJson : LogFormat::kLogfmt;
  return true;
}

void setLogLevel(LogLevel level) {
  g_level = level;
}
bool logEnabled(LogLevel level) {
  return level >= g_level;
}

void setLogFormat(LogFormat format, bool journal) {
  g_format = format;
  g_journal = journal;
}

bool stderrIsJournal() {
  const char* env = getenv("JOURNAL_STREAM");
  struct stat st {};
  if (!env || fstat(2, &st) != 0)
    return false;
  unsigned long long dev = 0, ino = 0;
  if (sscanf(env, "%llu:%llu", &dev, &ino) != 2)
    return false;
  return dev == static_cast<unsigned long long>(st.st_dev) &&
         ino == static_cast<unsigned long long>(st.st_ino);
}

void configureLogOutput(std::string_view format, std::string_view journal) {
  LogFormat f = g_format;
  parseLogFormat(format, f);
  bool j = g_journal;
  if (journal == "auto")
    j = stderrIsJournal();
  else if (journal == "on" || journal == "off")
    j = journal == "on";
  setLogFormat(f, j);
}

std::string formatLogLine(LogLevel level, std::string_view msg, std::string_view fields,
                          int64_t unix_ms) {
  std::string line;
  if (g_journal) {
    line += '<';
    line += syslogPriority(level);
    line += '>';
  }
  if (g_format == LogFormat::kJson) {
    line += '{';
    if (!g_journal)
      line += "\"ts\":\"" + stamp(unix_ms) + "\",";
    line += "\"level\":\"";
    line += levelName(level);
    line += "\",\"msg\":";
    appendJsonString(line, msg);
    appendFields(line, fields);
    line += '}';
    return line;
  }
  if (!g_journal)
    line += "ts=" + stamp(unix_ms) + " ";
  line += "level=";
  line += levelName(level);
  line += " msg=";
  appendLogfmtValue(line, msg);
  appendFields(line, fields);
  return line;
}

void logLine(LogLevel level, std::string_view msg, std::string_view fields) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t ms = static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
  std::string line = formatLogLine(level, msg, fields, ms);
  line.push_back('\n');
  fwrite(line.data(), 1, line.size(), stderr);
}

std::string logField(std::string_view key, std::string_view value) {
  return std::string(1, kFieldStart) + clean(key) + kValueStart + 's' + clean(value);
}

std::string logField(std::string_view key, long long value) {
  return std::string(1, kFieldStart) + clean(key) + kValueStart + 'n' + std::to_string(value);
}

} // namespace holdfast::util
