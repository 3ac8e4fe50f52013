// Cross-field validation of a Config: every problem is reported, one line each, naming the
// key, its flag and the bad value.
#include <climits>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/text.h"
#include "redis/url.h"
#include "util/address.h"

namespace holdfast::config {
namespace {

using detail::flagName;
using detail::lower;
using detail::quote;

bool isChannelChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::strchr("_.~@-", c) != nullptr;
}

bool allOf(std::string_view text, bool (*pred)(char)) {
  for (char c : text) {
    if (c == '\0' || !pred(c))
      return false;
  }
  return true;
}

bool isSchemeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '.' || c == '-';
}

// Empty disables a listener; anything else must parse (util/address.h has the syntax).
std::string addressProblem(std::string_view a) {
  return a.empty() ? std::string() : util::parseAddress(a).error;
}

std::string mountProblem(std::string_view m) {
  if (!m.starts_with('/'))
    return "does not start with '/'";
  if (m.ends_with('/'))
    return "ends with '/' (write /push/sub, not /push/sub/)";
  for (char c : m) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || std::strchr("?#%", c))
      return "contains a space, control character, '?', '#' or '%'";
  }
  std::string segments = std::string(m) + "/";
  if (segments.find("//") != std::string::npos || segments.find("/../") != std::string::npos ||
      segments.find("/./") != std::string::npos)
    return "contains an empty, '.' or '..' segment";
  return {};
}

std::string socketModeProblem(std::string_view m) {
  bool octal =
      m.size() >= 3 && m.size() <= 4 && allOf(m, [](char ch) { return ch >= '0' && ch <= '7'; });
  if (!octal || (m.size() == 4 && m[0] != '0'))
    return "is not an octal permission mode such as 0660";
  return "";
}

bool isPathPrefix(std::string_view prefix, std::string_view path) {
  return path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/');
}

std::string originProblem(std::string_view o) {
  if (o == "*")
    return {};
  size_t sep = o.find("://");
  if (sep == std::string_view::npos || sep == 0 || !allOf(o.substr(0, sep), isSchemeChar) ||
      !(o[0] >= 'a' && o[0] <= 'z'))
    return "is not \"*\" or scheme://host[:port] in lowercase";
  std::string_view host_port = o.substr(sep + 3);
  if (host_port.find('/') != std::string_view::npos)
    return "has a path or trailing '/' (browsers send scheme://host[:port] only)";
  if (lower(host_port) != host_port)
    return "is not lowercase (origins are compared exactly; browsers send lowercase)";
  return util::hostPortProblem(host_port, false);
}

bool isPatternChar(char c) {
  return isChannelChar(c) || c == '*';
}

// Collects validation errors as "key (--flag): value reason".
struct Checker {
  std::vector<std::string>& errors;

  void fail(const char* key, const std::string& shown, std::string_view reason) {
    errors.push_back(std::string(key) + " (" + flagName(key) + "): " + shown + " " +
                     std::string(reason));
  }
  void text(const char* key, const std::string& value, const std::string& problem) {
    if (!problem.empty())
      fail(key, quote(value), problem);
  }
  void range(const char* key, uint64_t value, uint64_t lo, uint64_t hi) {
    if (value < lo || value > hi)
      fail(key, std::to_string(value),
           hi == UINT64_MAX ? "is below the minimum " + std::to_string(lo)
                            : "is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
  }
};

void validateListeners(const Config& c, Checker& check) {
  check.text("control", c.control, addressProblem(c.control));
  check.text("data", c.data, addressProblem(c.data));
  check.text("socket_mode", c.socket_mode, socketModeProblem(c.socket_mode));
  if (!c.control.empty() && c.control == c.data)
    check.fail("data", quote(c.data), "is also the control address; they must differ");
  std::string control_problem = mountProblem(c.control_mount);
  std::string data_problem = mountProblem(c.data_mount);
  check.text("control_mount", c.control_mount, control_problem);
  check.text("data_mount", c.data_mount, data_problem);
  if (!control_problem.empty() || !data_problem.empty())
    return;
  if (isPathPrefix(c.control_mount, c.data_mount) || isPathPrefix(c.data_mount, c.control_mount))
    check.fail("data_mount", quote(c.data_mount),
               "overlaps control_mount " + quote(c.control_mount) +
                   " (they must differ and neither may contain the other)");
}

void validateLimits(const Config& c, Checker& check) {
  check.range("buffer_messages", c.buffer_messages, 1, UINT64_MAX);
  check.range("buffer_age", c.buffer_age, 1, UINT64_MAX);
  check.range("buffer_bytes", c.buffer_bytes, 1, UINT64_MAX);
  check.range("batch_max", c.batch_max, 1, UINT64_MAX);
  check.range("poll_timeout", c.poll_timeout, 1, 3600);
  check.range("heartbeat", c.heartbeat, 1, 3600);
  check.range("session_ttl", c.session_ttl, 1, UINT64_MAX);
  check.range("max_sessions", c.max_sessions, 1, UINT64_MAX);
  check.range("max_channels", c.max_channels, 1, UINT64_MAX);
  check.range("channel_idle", c.channel_idle, 1, UINT64_MAX);
  check.range("max_body", c.max_body, 1, UINT64_MAX);
  check.range("max_channels_per_request", c.max_channels_per_request, 1, 1024);
  check.range("max_output_buffer", c.max_output_buffer, 4096, UINT64_MAX);
  check.range("max_connections", c.max_connections, 1, UINT64_MAX);
  check.range("request_timeout", c.request_timeout, 1, 3600);
  check.range("max_output_total", c.max_output_total, 4096, UINT64_MAX);
  if (c.max_stream_age < c.heartbeat)
    check.fail("max_stream_age", std::to_string(c.max_stream_age),
               "is below heartbeat " + std::to_string(c.heartbeat));
  if (c.memory_limit < c.buffer_bytes)
    check.fail("memory_limit", std::to_string(c.memory_limit),
               "is below buffer_bytes " + std::to_string(c.buffer_bytes));
}

// The URL is quoted without its password part so errors never print it.
void validateRedis(const Config& c, Checker& check) {
  std::string error;
  if (!c.redis.empty() && !redis::parseUrl(c.redis, error)) {
    size_t at = c.redis.rfind('@');
    std::string shown = at == std::string::npos ? c.redis : "redis://***@" + c.redis.substr(at + 1);
    check.fail("redis", quote(shown), error);
  }
  if (c.redis.empty() && !c.redis_password_file.empty())
    check.fail("redis_password_file", quote(c.redis_password_file), "is set but redis is not");
}

void validateAccess(const Config& c, Checker& check) {
  static const std::set<std::string, std::less<>> kLevels = {"debug", "info", "warn", "error"};
  if (!kLevels.contains(c.log_level))
    check.fail("log_level", quote(c.log_level), "is not debug, info, warn or error");
  if (c.log_format != "logfmt" && c.log_format != "json")
    check.fail("log_format", quote(c.log_format), "is not logfmt or json");
  if (c.log_journal != "auto" && c.log_journal != "on" && c.log_journal != "off")
    check.fail("log_journal", quote(c.log_journal), "is not auto, on or off");
  validateRedis(c, check);
  for (const auto& origin : c.allowed_origins)
    check.text("allowed_origins", origin, originProblem(origin));
  for (const auto& pattern : c.client_publish) {
    if (pattern.empty() || !allOf(pattern, isPatternChar))
      check.fail("client_publish", quote(pattern),
                 "is not a channel pattern ([A-Za-z0-9_.~@-] and '*')");
  }
  if (c.private_prefix.size() > 128 || !allOf(c.private_prefix, isChannelChar))
    check.fail("private_prefix", quote(c.private_prefix),
               "is not empty or up to 128 channel characters [A-Za-z0-9_.~@-]");
}

void validateStore(const Config& c, Checker& check) {
  if (c.journal_sync != "always" && c.journal_sync != "interval" && c.journal_sync != "off")
    check.fail("journal_sync", quote(c.journal_sync), "is not always, interval or off");
  check.range("journal_sync_interval", c.journal_sync_interval, 1, 60000);
  check.range("journal_max_bytes", c.journal_max_bytes, 4096, UINT64_MAX);
}

} // namespace

void validate(const Config& config, std::vector<std::string>& errors) {
  Checker check{errors};
  validateListeners(config, check);
  validateLimits(config, check);
  validateAccess(config, check);
  validateStore(config, check);
}

} // namespace holdfast::config
