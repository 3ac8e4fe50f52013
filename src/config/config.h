// Configuration: one JSON file plus command-line flags that override it. Every key of the file
// is also a flag (buffer_messages <-> --buffer-messages). Validation reports every problem at
// once; start-up fails fast on any.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace holdfast::config {

struct Config {
  // Listeners: unix:PATH, tcp:HOST:PORT, fd:N. Empty string disables (systemd may supply them).
  std::string control = "unix:/run/holdfast/control.sock";
  std::string data = "unix:/run/holdfast/data.sock";
  std::string control_mount = "/push/ctl";
  std::string data_mount = "/push/sub";
  std::string publish_key;         // Bearer key for publishing; empty + !trusted_control = refuse
  bool trusted_control = false;    // control socket reachable only by trusted back ends
  std::string state_dir;           // empty = no persistence
  std::string redis;               // redis://host:port (not implemented yet: rejected if set)
  std::string log_level = "info";  // debug, info, warn, error
  std::string config_file;         // the --config given, for reloads

  // Buffers (hub limits)
  uint64_t buffer_messages = 100;
  uint64_t buffer_age = 3600;                // seconds
  uint64_t buffer_bytes = 4ull << 20;        // per channel
  uint64_t memory_limit = 256ull << 20;      // all buffers
  uint64_t batch_max = 1000;                 // messages in one response

  // Requests
  uint64_t poll_timeout = 25;         // long-poll hold (default and cap), seconds
  uint64_t heartbeat = 25;            // streaming heartbeat interval, seconds
  uint64_t session_ttl = 60;          // seconds
  uint64_t max_stream_age = 3600;     // seconds
  uint64_t max_body = 1ull << 20;     // request body bytes
  uint64_t max_channels_per_request = 64;
  uint64_t max_output_buffer = 1ull << 20;  // per connection unsent bytes before a slow
                                            // subscriber is dropped
  uint64_t max_connections = 60000;   // per listener kind (data); over it: 503
  std::vector<std::string> allowed_origins;  // CORS allow-list ("*" allows any)

  // Page access
  std::vector<std::string> client_publish;   // channel patterns pages may publish to ("room.*")
  std::string private_prefix = "private.";   // channels needing a signed subscribe token
  std::string token_key;                     // HMAC-SHA256 key for subscribe tokens
};

struct LoadResult {
  bool ok = false;
  bool show_help = false;
  bool show_version = false;
  std::vector<std::string> errors;  // every problem found, one line each
};

// Parses `args` (without argv[0]). `--config FILE` is read first wherever it appears; then every
// other flag overrides the file. Sizes accept K/M/G (and KiB/MiB/GiB) suffixes; durations are
// seconds (an "s" suffix is accepted). Unknown keys and flags are errors.
LoadResult load(const std::vector<std::string>& args, Config& out);
// Parses a JSON config text into `out` (used by load and by SIGHUP reloads).
void applyJson(const std::string& text, Config& out, std::vector<std::string>& errors);
// Checks cross-field rules (mounts start with '/', heartbeat >= 1, ...); appends errors.
void validate(const Config& config, std::vector<std::string>& errors);
std::string usage();

} // namespace holdfast::config
