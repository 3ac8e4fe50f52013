// Configuration loading: the table of keys, value parsers (sizes, durations), the JSON file, the
// command line, cross-field validation and the --help text. Pure apart from reading --config.
#include "config/config.h"
#include "config/text.h"

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
namespace detail {

std::string flagName(std::string_view key) {
  std::string flag = "--" + std::string(key);
  for (char& c : flag)
    c = c == '_' ? '-' : c;
  return flag;
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

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

std::optional<uint64_t> parseDigits(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    return std::nullopt; // from_chars takes no '+', and "-1" is not a uint64
  return value;
}
} // namespace detail

using detail::flagName;
using detail::lower;
using detail::parseDigits;
using detail::quote;

namespace {

// Durations become int64 milliseconds in the server; capping them keeps that arithmetic safe.
constexpr uint64_t kMaxSeconds = 10ull * 365 * 24 * 3600; // 10 years
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
  kString,  // any text
  kBool,    // true/false; a bare flag means true
  kCount,   // non-negative integer
  kSize,    // bytes, optional binary suffix (parseSize)
  kSeconds, // seconds, optional "s" (parseDuration)
  kList,    // comma-separated on the command line, a JSON array of strings in the file
};

using Member = std::variant<std::string Config::*, bool Config::*, uint64_t Config::*,
                            std::vector<std::string> Config::*>;

struct Key {
  const char* name; // file key; the flag is "--" + name with '_' -> '-'
  Kind kind;
  Member member;
  const char* arg;  // value placeholder in --help
  const char* help; // one short line for --help
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
    {"state_dir", K::kString, &C::state_dir, "DIR", "where history is kept (snapshot + journal)"},
    {"journal_sync", K::kString, &C::journal_sync, "POLICY",
     "fsync of the journal: always, interval or off"},
    {"journal_sync_interval", K::kCount, &C::journal_sync_interval, "MS",
     "milliseconds between fsyncs (journal_sync=interval)"},
    {"journal_max_bytes", K::kSize, &C::journal_max_bytes, "SIZE",
     "journal size that triggers compaction"},
    {"redis", K::kString, &C::redis, "URL",
     "Redis engine: redis://[:pw@]host:port[/db], unix:PATH"},
    {"redis_password_file", K::kString, &C::redis_password_file, "FILE",
     "file holding the Redis password"},
    {"log_level", K::kString, &C::log_level, "LEVEL", "debug, info, warn or error"},
    {"log_format", K::kString, &C::log_format, "FORMAT", "log lines as logfmt or json"},
    {"log_journal", K::kString, &C::log_journal, "WHEN",
     "journald lines, no own timestamp: auto, on, off"},
    {"socket_mode", K::kString, &C::socket_mode, "MODE", "octal mode of created unix sockets"},
    {"buffer_messages", K::kCount, &C::buffer_messages, "N", "messages kept per channel"},
    {"buffer_age", K::kSeconds, &C::buffer_age, "S", "age after which messages are dropped"},
    {"buffer_bytes", K::kSize, &C::buffer_bytes, "SIZE", "bytes kept per channel"},
    {"memory_limit", K::kSize, &C::memory_limit, "SIZE", "bytes kept by all channels"},
    {"batch_max", K::kCount, &C::batch_max, "N", "messages in one response"},
    {"max_channels", K::kCount, &C::max_channels, "N", "channels in memory (then 503)"},
    {"channel_idle", K::kSeconds, &C::channel_idle, "S",
     "an empty channel never published to is dropped after this"},
    {"poll_timeout", K::kSeconds, &C::poll_timeout, "S", "long-poll hold (default and cap)"},
    {"heartbeat", K::kSeconds, &C::heartbeat, "S", "streaming heartbeat interval"},
    {"session_ttl", K::kSeconds, &C::session_ttl, "S", "idle long-poll session lifetime"},
    {"max_sessions", K::kCount, &C::max_sessions, "N", "live sessions (then 503)"},
    {"max_stream_age", K::kSeconds, &C::max_stream_age, "S", "streams reconnect after this"},
    {"max_body", K::kSize, &C::max_body, "SIZE", "largest request body"},
    {"max_channels_per_request", K::kCount, &C::max_channels_per_request, "N",
     "channels in one request"},
    {"max_output_buffer", K::kSize, &C::max_output_buffer, "SIZE",
     "unsent bytes before a slow subscriber is dropped"},
    {"max_output_total", K::kSize, &C::max_output_total, "SIZE",
     "unsent bytes of all connections before slow subscribers are dropped"},
    {"max_connections", K::kCount, &C::max_connections, "N", "data connections (then 503)"},
    {"request_timeout", K::kSeconds, &C::request_timeout, "S",
     "a partial FastCGI record or request is closed after this"},
    {"allowed_origins", K::kList, &C::allowed_origins, "LIST", "CORS origins, comma-separated"},
    {"client_publish", K::kList, &C::client_publish, "LIST", "channel patterns pages may publish"},
    {"private_prefix", K::kString, &C::private_prefix, "P", "channels needing a token"},
    {"token_key", K::kString, &C::token_key, "KEY", "HMAC key of subscribe tokens"},
};

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
      items.emplace_back(item); // "a,,b" and a trailing comma are harmless
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
    error = std::strerror(read_errno); // e.g. EISDIR: fopen accepts a directory
  return read_errno == 0;
}

// ---- command line ----

// One flag of the command line, its value resolved.
struct FlagValue {
  const Key* key;
  std::string flag; // as written, for error messages
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
    std::string why = !key                        ? "unknown key" + hint(name, false)
                      : !seen.insert(name).second ? "given more than once"
                                                  : setFromJson(*key, member.value, out);
    if (!why.empty())
      errors.push_back(quote(name) + ": " + (key ? jsonText(member.value) + " " : "") + why);
  }
}

LoadResult load(const std::vector<std::string>& args, Config& out) {
  LoadResult result;
  ParsedArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    if (!parseArg(args, i, parsed, result.errors)) {
      result = LoadResult{true, parsed.show_help, parsed.show_version, {}};
      return result; // --help / --version: nothing else matters
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
          "LIST  comma-separated; in the file a JSON array of strings\n"
          "\n"
          "Signals:\n"
          "  SIGTERM, SIGINT  stop: answer held requests with a reconnect, save state_dir, exit\n"
          "  SIGHUP           re-read the config file and flags (listeners and mounts change\n"
          "                   only on restart; an invalid config is logged and ignored)\n"
          "\n"
          "Logging:\n"
          "  One line per event on stderr, logfmt or json (--log-format). With --log-journal\n"
          "  auto (the default) lines have no timestamp of their own and start with a syslog\n"
          "  priority (<3> error ... <7> debug) when stderr is systemd's journal stream\n"
          "  ($JOURNAL_STREAM): journald adds the time and keeps the priority.\n"
          "\n"
          "Exit status:\n"
          "  0  stopped cleanly (SIGTERM/SIGINT), or --help / --version\n"
          "  1  a listener could not be opened, or the state could not be saved on exit\n"
          "  2  configuration error: every problem is printed, one per line\n"
          "\n"
          "Files:\n"
          "  /etc/holdfast/holdfast.json\n"
          "         the configuration the packaged systemd service passes with --config\n";
  return text;
}

} // namespace holdfast::config
