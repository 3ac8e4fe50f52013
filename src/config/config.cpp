// Configuration loading: the table of keys, value parsers (sizes, durations), the JSON file, the
// command line, cross-field validation and the --help text. Pure apart from reading --config.
#include "config/config.h"

#include <arpa/inet.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstring>
#include <set>
#include <variant>

namespace holdfast::config {
namespace {

// Durations become int64 milliseconds in the server; capping them keeps that arithmetic safe.
constexpr uint64_t kMaxSeconds = 10ull * 365 * 24 * 3600;  // 10 years
constexpr const char* kSizeSyntax =
    "a size (bytes with an optional K, KB, KiB, M, MB, MiB, G, GB or GiB suffix)";

// Size suffixes, matched case-insensitively. All are binary: K = KB = KiB = 1024 bytes.
struct Unit {
  int shift;
  const char* names[3];
};
constexpr Unit kUnits[] = {{30, {"G", "GB", "GiB"}},
                           {20, {"M", "MB", "MiB"}},
                           {10, {"K", "KB", "KiB"}},
                           {0, {"", "B", ""}}};

// How a key's text is parsed and shown in --help.
enum class Kind {
  kString,   // any text
  kBool,     // true/false; a bare flag means true
  kCount,    // non-negative integer
  kSize,     // bytes, optional binary suffix (parseSize)
  kSeconds,  // seconds, optional "s" (parseDuration)
  kList,     // comma-separated on the command line, a JSON array of strings in the file
};

using Member = std::variant<std::string Config::*, bool Config::*, uint64_t Config::*,
                            std::vector<std::string> Config::*>;

struct Key {
  const char* name;  // file key; the flag is "--" + name with '_' -> '-'
  Kind kind;
  Member member;
  const char* arg;   // value placeholder in --help
  const char* help;  // one short line for --help
};

using K = Kind;
using C = Config;
const Key kKeys[] = {
    {"control", K::kString, &C::control, "ADDR", "control listener (publish, admin)"},
    {"data", K::kString, &C::data, "ADDR", "data listener (subscribers)"},
    {"control_mount", K::kString, &C::control_mount, "PATH", "URL path of the control API"},
    {"data_mount", K::kString, &C::data_mount, "PATH", "URL path of the subscribe API"},
    {"publish_key", K::kString, &C::publish_key, "KEY", "Bearer key for control requests"},
    {"trusted_control", K::kBool, &C::trusted_control, "", "control needs no key (=true|false)"},
    {"state_dir", K::kString, &C::state_dir, "DIR", "where history is saved on exit"},
    {"redis", K::kString, &C::redis, "URL", "Redis URL (not implemented yet)"},
    {"log_level", K::kString, &C::log_level, "LEVEL", "debug, info, warn or error"},
    {"socket_mode", K::kString, &C::socket_mode, "MODE", "octal mode of created unix sockets"},
    {"buffer_messages", K::kCount, &C::buffer_messages, "N", "messages kept per channel"},
    {"buffer_age", K::kSeconds, &C::buffer_age, "S", "age after which messages are dropped"},
    {"buffer_bytes", K::kSize, &C::buffer_bytes, "SIZE", "bytes kept per channel"},
    {"memory_limit", K::kSize, &C::memory_limit, "SIZE", "bytes kept by all channels"},
    {"batch_max", K::kCount, &C::batch_max, "N", "messages in one response"},
    {"poll_timeout", K::kSeconds, &C::poll_timeout, "S", "long-poll hold (default and cap)"},
    {"heartbeat", K::kSeconds, &C::heartbeat, "S", "streaming heartbeat interval"},
    {"session_ttl", K::kSeconds, &C::session_ttl, "S", "idle long-poll session lifetime"},
    {"max_stream_age", K::kSeconds, &C::max_stream_age, "S", "streams reconnect after this"},
    {"max_body", K::kSize, &C::max_body, "SIZE", "largest request body"},
    {"max_channels_per_request", K::kCount, &C::max_channels_per_request, "N",
     "channels in one request"},
    {"max_output_buffer", K::kSize, &C::max_output_buffer, "SIZE",
     "unsent bytes before a slow subscriber is dropped"},
    {"max_connections", K::kCount, &C::max_connections, "N", "data connections (then 503)"},
    {"allowed_origins", K::kList, &C::allowed_origins, "LIST", "CORS origins, comma-separated"},
    {"client_publish", K::kList, &C::client_publish, "LIST", "channel patterns pages may publish"},
    {"private_prefix", K::kString, &C::private_prefix, "P", "channels needing a token"},
    {"token_key", K::kString, &C::token_key, "KEY", "HMAC key of subscribe tokens"},
};

std::string flagName(std::string_view key) {
  std::string flag = "--" + std::string(key);
  for (char& c : flag)
    c = c == '_' ? '-' : c;
  return flag;
}

const Key* findKey(std::string_view name) {
  for (const Key& k : kKeys) {
    if (name == k.name)
      return &k;
  }
  return nullptr;
}

const Key* findFlag(std::string_view flag) {
  for (const Key& k : kKeys) {
    if (flag == flagName(k.name))
      return &k;
  }
  return nullptr;
}

// `text` in double quotes, with quotes, backslashes and control bytes escaped: safe to print.
std::string quote(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char hex[8];
      snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::optional<uint64_t> parseDigits(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    return std::nullopt;  // from_chars takes no '+', and "-1" is not a uint64
  return value;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

std::vector<std::string> splitList(std::string_view text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = std::min(text.find(',', start), text.size());
    std::string_view item = text.substr(start, end - start);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (!item.empty())
      items.emplace_back(item);  // "a,,b" and a trailing comma are harmless
    start = end + 1;
  }
  return items;
}

// Stores a number into the key's field, or returns why not ("is not a size ...").
std::string setNumber(const Key& key, std::string_view text, Config& c) {
  std::optional<uint64_t> v;
  const char* want = "a non-negative integer";
  if (key.kind == Kind::kSize) {
    v = parseSize(text);
    want = kSizeSyntax;
  } else if (key.kind == Kind::kSeconds) {
    v = parseDuration(text);
    want = "a duration (whole seconds up to 315360000, optional \"s\" suffix)";
  } else {
    v = parseDigits(text);
  }
  if (!v)
    return std::string("is not ") + want;
  c.*std::get<uint64_t Config::*>(key.member) = *v;
  return {};
}

// Stores `text` into the key's field, or returns why not. Used for flags and JSON strings.
std::string setFromText(const Key& key, std::string_view text, Config& c) {
  switch (key.kind) {
  case Kind::kString:
    c.*std::get<std::string Config::*>(key.member) = std::string(text);
    return {};
  case Kind::kBool:
    if (text != "true" && text != "false")
      return "is not true or false";
    c.*std::get<bool Config::*>(key.member) = text == "true";
    return {};
  case Kind::kList:
    c.*std::get<std::vector<std::string> Config::*>(key.member) = splitList(text);
    return {};
  default:
    return setNumber(key, text, c);
  }
}

// ---- JSON file ----

std::string jsonText(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  std::string text(buffer.GetString(), buffer.GetSize());
  return text.size() > 60 ? text.substr(0, 60) + "..." : text;
}

std::string_view jsonString(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

// Stores a JSON value into the key's field, or returns why not.
std::string setFromJson(const Key& key, const rapidjson::Value& v, Config& c) {
  if (v.IsString() && jsonString(v).find('\0') != std::string_view::npos)
    return "contains a NUL character";
  switch (key.kind) {
  case Kind::kString:
    return v.IsString() ? setFromText(key, jsonString(v), c) : "is not a string";
  case Kind::kBool:
    if (!v.IsBool())
      return "is not a boolean (true or false, without quotes)";
    c.*std::get<bool Config::*>(key.member) = v.GetBool();
    return {};
  case Kind::kList: {
    if (!v.IsArray())
      return "is not an array of strings";
    std::vector<std::string> items;
    for (const auto& item : v.GetArray()) {
      if (!item.IsString())
        return "is not an array of strings";
      items.emplace_back(jsonString(item));
    }
    c.*std::get<std::vector<std::string> Config::*>(key.member) = std::move(items);
    return {};
  }
  default:
    if (v.IsString())
      return setNumber(key, jsonString(v), c);
    if (!v.IsUint64())
      return "is not a non-negative integer or a string such as \"4MiB\" or \"25s\"";
    return setNumber(key, std::to_string(v.GetUint64()), c);
  }
}

// 1-based line and column of byte `offset` in `text`.
std::string lineColumn(std::string_view text, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    column = text[i] == '\n' ? 1 : column + 1;
    line += text[i] == '\n' ? 1 : 0;
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

bool readFile(const std::string& path, std::string& text, std::string& error) {
  FILE* f = fopen(path.c_str(), "rb");
  if (!f) {
    error = std::strerror(errno);
    return false;
  }
  char buffer[8192];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, f)) > 0)
    text.append(buffer, n);
  int read_errno = ferror(f) ? errno : 0;
  fclose(f);
  if (read_errno != 0)
    error = std::strerror(read_errno);  // e.g. EISDIR: fopen accepts a directory
  return read_errno == 0;
}

// ---- command line ----

// One flag of the command line, its value resolved.
struct FlagValue {
  const Key* key;
  std::string flag;  // as written, for error messages
  std::string value;
};

struct ParsedArgs {
  std::vector<FlagValue> flags;
  std::vector<std::string> config_files;
  bool show_help = false;
  bool show_version = false;
};

// "did you mean" for a name written with the other separator ("buffer-messages").
std::string hint(std::string_view name, bool is_flag) {
  std::string fixed(name);
  for (char& c : fixed)
    c = is_flag ? (c == '_' ? '-' : c) : (c == '-' ? '_' : c);
  bool known = is_flag ? findFlag(fixed) || fixed == "--config" : findKey(fixed) != nullptr;
  return known && fixed != name ? " (did you mean " + fixed + "?)" : "";
}

// The value of flag args[i]: after '=', "true" for a bare boolean, or the next argument unless
// that is another --flag. Advances `i` past a consumed value; nullopt when there is none.
std::optional<std::string> takeValue(const std::vector<std::string>& args, size_t& i,
                                     const Key* key) {
  size_t eq = args[i].find('=');
  if (eq != std::string::npos)
    return args[i].substr(eq + 1);
  if (key && key->kind == Kind::kBool)
    return "true";
  if (i + 1 < args.size() && !args[i + 1].starts_with("--"))
    return args[++i];
  return std::nullopt;
}

// Reads args[i] (and maybe args[i+1]). Returns false to stop at --help/--version.
bool parseArg(const std::vector<std::string>& args, size_t& i, ParsedArgs& out,
              std::vector<std::string>& errors) {
  const std::string& arg = args[i];
  if (arg == "--help" || arg == "-h" || arg == "--version") {
    (arg == "--version" ? out.show_version : out.show_help) = true;
    return false;
  }
  if (!arg.starts_with("--") || arg == "--") {
    errors.push_back("unexpected argument " + quote(arg) + " (every option is a --flag)");
    return true;
  }
  std::string flag = arg.substr(0, arg.find('='));
  const Key* key = findFlag(flag);
  if (!key && flag != "--config") {
    errors.push_back(flag + ": unknown flag" + hint(flag, true) + "; see --help");
    return true;
  }
  auto value = takeValue(args, i, key);
  if (!value)
    errors.push_back(flag + ": needs a value (use " + flag + "=VALUE for one starting with --)");
  else if (key)
    out.flags.push_back({key, flag, std::move(*value)});
  else
    out.config_files.push_back(std::move(*value));
  return true;
}

// Reads the --config file into `c`; errors name the file.
void applyFile(const std::string& path, Config& c, std::vector<std::string>& errors) {
  std::string text, why;
  if (!readFile(path, text, why)) {
    errors.push_back("--config: cannot read " + quote(path) + ": " + why);
    return;
  }
  std::vector<std::string> file_errors;
  applyJson(text, c, file_errors);
  for (const auto& e : file_errors)
    errors.push_back("config file " + quote(path) + ": " + e);
  c.config_file = path;
}

// ---- validation ----

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

bool isHostChar(char c) { return isChannelChar(c) && c != '_' && c != '~' && c != '@'; }
bool isIpv4Char(char c) { return (c >= '0' && c <= '9') || c == '.'; }
bool isSchemeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '.' || c == '-';
}

// Why `host` is not an IPv4 address, a host name or a bracketed IPv6 address, or "".
std::string hostProblem(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  if (host.starts_with('[') && host.ends_with(']')) {
    std::string inner = host.substr(1, host.size() - 2);
    return inet_pton(AF_INET6, inner.c_str(), buf) == 1 ? "" : "has a bad IPv6 address";
  }
  if (host.empty())
    return "has no host (use 0.0.0.0 or [::] for every interface)";
  if (host.find(':') != std::string::npos)
    return "has an IPv6 host without brackets (write [::1])";
  if (allOf(host, isIpv4Char))
    return inet_pton(AF_INET, host.c_str(), buf) == 1 ? "" : "has a bad IPv4 address";
  bool edge = host.front() == '-' || host.front() == '.' || host.back() == '-';
  return allOf(host, isHostChar) && !edge ? "" : "has a bad host name";
}

// Splits "HOST:PORT" / "[V6]:PORT" / "HOST" and checks both; the port may be optional.
std::string hostPortProblem(std::string_view text, bool port_required) {
  size_t close = text.starts_with('[') ? text.find(']') : 0;
  if (close == std::string_view::npos)
    return "has an unclosed '['";
  size_t colon = text.find(':', close);
  if (!text.starts_with('[') && colon != std::string_view::npos &&
      text.find(':', colon + 1) != std::string_view::npos)
    return "has an IPv6 host without brackets (write [::1]:PORT)";
  if (text.starts_with('[') && close + 1 != text.size() && text[close + 1] != ':')
    return "has text after ']' that is not :PORT";
  if (colon == std::string_view::npos)
    return port_required ? "has no :PORT" : hostProblem(std::string(text));
  auto port = parseDigits(text.substr(colon + 1));
  if (!port || *port < 1 || *port > 65535)
    return "has a bad port (want 1..65535)";
  return hostProblem(std::string(text.substr(0, colon)));
}

std::string addressProblem(std::string_view a) {
  if (a.empty())
    return {};
  if (a.starts_with("unix:")) {
    size_t n = a.size() - 5;
    if (n == 0 || n > 107 || a.find('\0') != std::string_view::npos)
      return "is not a unix socket path of 1..107 bytes";
    return {};
  }
  if (a.starts_with("tcp:"))
    return hostPortProblem(a.substr(4), true);
  if (a.starts_with("fd:")) {
    auto fd = parseDigits(a.substr(3));
    return fd && *fd <= INT_MAX ? "" : "has a bad descriptor number (want fd:N, N >= 0)";
  }
  return "is not unix:PATH, tcp:HOST:PORT, fd:N or empty";
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
  bool octal = m.size() >= 3 && m.size() <= 4 && allOf(m, [](char ch) { return ch >= '0' && ch <= '7'; });
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
  return hostPortProblem(host_port, false);
}

bool isPatternChar(char c) { return isChannelChar(c) || c == '*'; }

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
  check.range("max_body", c.max_body, 1, UINT64_MAX);
  check.range("max_channels_per_request", c.max_channels_per_request, 1, 1024);
  check.range("max_output_buffer", c.max_output_buffer, 4096, UINT64_MAX);
  check.range("max_connections", c.max_connections, 1, UINT64_MAX);
  if (c.max_stream_age < c.heartbeat)
    check.fail("max_stream_age", std::to_string(c.max_stream_age),
               "is below heartbeat " + std::to_string(c.heartbeat));
  if (c.memory_limit < c.buffer_bytes)
    check.fail("memory_limit", std::to_string(c.memory_limit),
               "is below buffer_bytes " + std::to_string(c.buffer_bytes));
}

void validateAccess(const Config& c, Checker& check) {
  static const std::set<std::string, std::less<>> kLevels = {"debug", "info", "warn", "error"};
  if (!kLevels.contains(c.log_level))
    check.fail("log_level", quote(c.log_level), "is not debug, info, warn or error");
  if (!c.redis.empty())
    check.fail("redis", quote(c.redis),
               "cannot be used: redis support is not implemented yet (it is planned)");
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

std::string showDefault(const Key& key, const Config& d) {
  switch (key.kind) {
  case Kind::kBool:
    return d.*std::get<bool Config::*>(key.member) ? "true" : "false";
  case Kind::kString: {
    const std::string& s = d.*std::get<std::string Config::*>(key.member);
    return s.empty() ? "none" : s;
  }
  case Kind::kList:
    return "none";
  default:
    break;
  }
  uint64_t v = d.*std::get<uint64_t Config::*>(key.member);
  if (key.kind == Kind::kSeconds)
    return std::to_string(v) + "s";
  if (key.kind == Kind::kSize && v != 0) {
    for (const auto& u : kUnits) {
      if (u.shift > 0 && v % (1ull << u.shift) == 0)
        return std::to_string(v >> u.shift) + u.names[2];
    }
  }
  return std::to_string(v);
}

} // namespace

std::optional<uint64_t> parseSize(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
    ++digits;
  auto value = parseDigits(text.substr(0, digits));
  std::string suffix = lower(text.substr(digits));
  int shift = -1;
  for (const auto& u : kUnits) {
    for (const char* name : u.names)
      shift = lower(name) == suffix ? u.shift : shift;
  }
  if (!value || shift < 0 || *value > (UINT64_MAX >> shift))
    return std::nullopt;
  return *value << shift;
}

std::optional<uint64_t> parseDuration(std::string_view text) {
  if (text.ends_with('s'))
    text.remove_suffix(1);
  auto value = parseDigits(text);
  if (!value || *value > kMaxSeconds)
    return std::nullopt;
  return value;
}

void applyJson(const std::string& text, Config& out, std::vector<std::string>& errors) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseCommentsFlag>(text.c_str(), text.size());
  if (doc.HasParseError()) {
    errors.push_back("JSON parse error at offset " + std::to_string(doc.GetErrorOffset()) + " (" +
                     lineColumn(text, doc.GetErrorOffset()) +
                     "): " + rapidjson::GetParseError_En(doc.GetParseError()));
    return;
  }
  if (!doc.IsObject()) {
    errors.push_back("the file must hold a JSON object of keys, not " + jsonText(doc));
    return;
  }
  std::set<std::string, std::less<>> seen;
  for (const auto& member : doc.GetObject()) {
    std::string name(jsonString(member.name));
    const Key* key = findKey(name);
    std::string why = !key                           ? "unknown key" + hint(name, false)
                      : !seen.insert(name).second ? "given more than once"
                                                     : setFromJson(*key, member.value, out);
    if (!why.empty())
      errors.push_back(quote(name) + ": " + (key ? jsonText(member.value) + " " : "") + why);
  }
}

void validate(const Config& config, std::vector<std::string>& errors) {
  Checker check{errors};
  validateListeners(config, check);
  validateLimits(config, check);
  validateAccess(config, check);
}

LoadResult load(const std::vector<std::string>& args, Config& out) {
  LoadResult result;
  ParsedArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    if (!parseArg(args, i, parsed, result.errors)) {
      result = LoadResult{true, parsed.show_help, parsed.show_version, {}};
      return result;  // --help / --version: nothing else matters
    }
  }
  Config c = out;
  if (parsed.config_files.size() > 1)
    result.errors.push_back("--config: given more than once");
  if (!parsed.config_files.empty())
    applyFile(parsed.config_files.back(), c, result.errors);
  for (const auto& f : parsed.flags) {
    std::string why = setFromText(*f.key, f.value, c);
    if (!why.empty())
      result.errors.push_back(f.flag + ": " + quote(f.value) + " " + why);
  }
  validate(c, result.errors);
  result.ok = result.errors.empty();
  if (result.ok)
    out = std::move(c);
  return result;
}

std::string usage() {
  std::string text =
      "Usage: holdfast [--config FILE] [--FLAG VALUE | --FLAG=VALUE]...\n\n"
      "Comet push backend for FastCGI web servers. Every flag is also a key of the JSON config\n"
      "file (--buffer-messages <-> \"buffer_messages\"); flags override the file.\n\n"
      "  --config FILE                     JSON config file, read first\n";
  const Config defaults;
  for (const Key& key : kKeys) {
    std::string left = "  " + flagName(key.name) + (*key.arg ? " " : "") + key.arg;
    left.resize(std::max<size_t>(left.size() + 1, 36), ' ');
    text += left + key.help + " [" + showDefault(key, defaults) + "]\n";
  }
  text += "  -h, --help                        show this help\n"
          "  --version                         show the version\n\n"
          "ADDR  unix:PATH, tcp:HOST:PORT (HOST an IPv4 address, a name or [IPv6]), fd:N, or\n"
          "      empty to disable (systemd socket activation may supply it)\n"
          "SIZE  bytes with an optional suffix K/KB/KiB, M/MB/MiB, G/GB/GiB (all powers of 1024)\n"
          "S     whole seconds, optionally followed by \"s\"\n"
          "LIST  comma-separated; in the file a JSON array of strings\n";
  return text;
}

} // namespace holdfast::config
