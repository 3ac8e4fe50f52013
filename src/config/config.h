// Configuration: one JSON file plus command-line flags that override it. Every key of the file
// is also a flag (buffer_messages <-> --buffer-messages). Validation reports every problem at
// once; start-up fails fast on any.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace holdfast::config {

struct Config {
  // Listeners: unix:PATH, tcp:HOST:PORT, fd:N. Empty string disables (systemd may supply them).
  std::string control = "unix:/run/holdfast/control.sock";
  std::string data = "unix:/run/holdfast/data.sock";
  std::string control_mount = "/push/ctl";
  std::string data_mount = "/push/sub";
  std::string publish_key;      // Bearer key for publishing; empty + !trusted_control = refuse
  bool trusted_control = false; // control socket reachable only by trusted back ends
  std::string state_dir;        // empty = no persistence
  std::string journal_sync = "interval";    // always | interval | off (state_dir journal)
  uint64_t journal_sync_interval = 200;     // ms between fsyncs under "interval"
  uint64_t journal_max_bytes = 64ull << 20; // journal size that triggers compaction
  std::string redis;                 // redis://[:pw@]host:port[/db] or unix:PATH; empty = memory
  std::string redis_password_file;   // file whose first line is the Redis password (not in `ps`)
  std::string log_level = "info";    // debug, info, warn, error
  std::string log_format = "logfmt"; // logfmt or json
  std::string log_journal = "auto";  // auto (stderr is journald's stream), on, off
  std::string socket_mode = "0660";  // permissions of unix sockets holdfast creates (octal)
  std::string config_file;           // the --config given, for reloads

  // Buffers (hub limits)
  uint64_t buffer_messages = 100;
  uint64_t buffer_age = 3600;           // seconds
  uint64_t buffer_bytes = 4ull << 20;   // per channel
  uint64_t memory_limit = 256ull << 20; // all buffers
  uint64_t batch_max = 1000;            // messages in one response
  uint64_t max_channels = 100000;       // channels in memory; past it creating one is a 503
  uint64_t channel_idle = 60;           // seconds before an empty, unsubscribed channel never
                                        // published to is collected

  // Requests
  uint64_t poll_timeout = 25;     // long-poll hold (default and cap), seconds
  uint64_t heartbeat = 25;        // streaming heartbeat interval, seconds
  uint64_t session_ttl = 60;      // seconds
  uint64_t max_sessions = 100000; // live sessions; past it session=new is a 503
  uint64_t max_stream_age = 3600; // seconds
  uint64_t max_body = 1ull << 20; // request body bytes
  uint64_t max_channels_per_request = 64;
  uint64_t max_output_buffer = 1ull << 20;  // per connection unsent bytes before a slow
                                            // subscriber is dropped
  uint64_t max_output_total = 64ull << 20;  // unsent bytes across all connections before a
                                            // blocked (slow) subscriber is dropped
  uint64_t max_connections = 60000;         // per listener kind (data); over it: 503
  uint64_t request_timeout = 30;            // seconds a FastCGI connection may hold a partial
                                            // record or an unfinished request
  std::vector<std::string> allowed_origins; // CORS allow-list ("*" allows any)

  // Page access
  std::vector<std::string> client_publish; // channel patterns pages may publish to ("room.*")
  std::string private_prefix = "private."; // channels needing a signed subscribe token
  std::string token_key;                   // HMAC-SHA256 key for subscribe tokens
};

struct LoadResult {
  bool ok = false;
  bool show_help = false;
  bool show_version = false;
  std::vector<std::string> errors; // every problem found, one line each
};

// Parses `args` (without argv[0]) on top of `out`'s current values (normally the defaults).
// `--config FILE` is read first wherever it appears; then every other flag overrides the file, in
// order. Flags take "--flag VALUE" or "--flag=VALUE"; a following argument starting with "--" is
// not taken as a value. Sizes accept K/M/G (and KB/KiB/...) suffixes, all binary; durations are
// seconds (an "s" suffix is accepted). Unknown keys and flags, positional arguments and bad values
// are errors; every error found (parsing and validate()) is reported, one line each, and `out` is
// assigned only when ok. --help/-h and --version return at once with ok = true.
LoadResult load(const std::vector<std::string>& args, Config& out);
// Parses a JSON config text into `out` (used by load and by SIGHUP reloads). Keys not in the
// text keep their values. Appends one error per bad key (unknown, wrong type, bad value) or the
// parse error with its offset; does not run validate().
void applyJson(const std::string& text, Config& out, std::vector<std::string>& errors);
// Checks every field and cross-field rule (addresses, mounts, ranges, ...); appends one line per
// problem naming the key, its flag and the bad value.
void validate(const Config& config, std::vector<std::string>& errors);
// The --help text: every flag with its placeholder, meaning and default.
std::string usage();

// "4096", "4K", "4KB", "4KiB" (case-insensitive; K = KB = KiB = 1024; also M, G) -> bytes.
// nullopt on empty text, a sign, spaces, an unknown suffix or overflow.
std::optional<uint64_t> parseSize(std::string_view text);
// "25" or "25s" -> 25. nullopt on garbage, a sign, or more than 10 years (315360000 s), which
// keeps the server's millisecond arithmetic from overflowing.
std::optional<uint64_t> parseDuration(std::string_view text);

} // namespace holdfast::config
