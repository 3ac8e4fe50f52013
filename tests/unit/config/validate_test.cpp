// validate(): one failing (and where useful one passing) example per rule.
#include <catch2/catch.hpp>

#include <functional>

#include "config/config.h"

using holdfast::config::Config;
using holdfast::config::validate;

namespace {

std::vector<std::string> errorsOf(const std::function<void(Config&)>& change) {
  Config c;
  change(c);
  std::vector<std::string> errors;
  validate(c, errors);
  return errors;
}

std::string joined(const std::vector<std::string>& errors) {
  std::string all;
  for (const auto& e : errors)
    all += e + "\n";
  return all;
}

// Exactly one error, and it contains `part`.
void expectOne(const std::function<void(Config&)>& change, const std::string& part) {
  auto errors = errorsOf(change);
  INFO(joined(errors));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find(part) != std::string::npos);
}

void expectNone(const std::function<void(Config&)>& change) {
  auto errors = errorsOf(change);
  INFO(joined(errors));
  CHECK(errors.empty());
}

} // namespace

TEST_CASE("validate: the defaults pass", "[config]") {
  expectNone([](Config&) {});
}

TEST_CASE("validate: listener addresses", "[config]") {
  const char* good[] = {"",
                        "unix:/run/x.sock",
                        "unix:relative/x.sock",
                        "tcp:127.0.0.1:9000",
                        "tcp:localhost:1",
                        "tcp:backend-1.example.com:65535",
                        "tcp:[::1]:9000",
                        "tcp:[::]:9000",
                        "fd:0",
                        "fd:3"};
  for (const char* a : good) {
    INFO(a);
    expectNone([&](Config& c) {
      c.control = a;
      c.data = "unix:/other.sock";
    });
  }
  struct Bad {
    const char* address;
    const char* why;
  };
  const Bad bad[] = {
      {"/run/x.sock", "is not unix:PATH, tcp:HOST:PORT or fd:N"},
      {"unix:", "is not a unix socket path"},
      {"tcp:127.0.0.1", "has no :PORT"},
      {"tcp:127.0.0.1:0", "has a bad port"},
      {"tcp:127.0.0.1:65536", "has a bad port"},
      {"tcp:127.0.0.1:http", "has a bad port"},
      {"tcp::9000", "has no host"},
      {"tcp:300.1.1.1:9000", "has a bad IPv4 address"},
      {"tcp:::1:9000", "has an IPv6 host without brackets"},
      {"tcp:[::1:9000", "has an unclosed '['"},
      {"tcp:[zz::1]:9000", "has a bad IPv6 address"},
      {"tcp:[::1]9000", "has text after ']'"},
      {"tcp:bad_host:9000", "has a bad host name"},
      {"tcp:-x:9000", "has a bad host name"},
      {"fd:", "has a bad descriptor number"},
      {"fd:-1", "has a bad descriptor number"},
      {"fd:99999999999", "has a bad descriptor number"},
  };
  for (const auto& b : bad) {
    INFO(b.address);
    expectOne([&](Config& c) { c.control = b.address; },
              std::string("control (--control): \"") + b.address + "\" " + b.why);
  }
  expectOne([](Config& c) { c.data = "unix:/" + std::string(107, 'x'); },
            "is not a unix socket path of 1..107 bytes");
  expectNone([](Config& c) { c.data = "unix:/" + std::string(106, 'x'); });
}

TEST_CASE("validate: control and data differ unless both are empty", "[config]") {
  expectOne([](Config& c) { c.data = c.control; }, "is also the control address");
  expectNone([](Config& c) { c.control = c.data = ""; });
  expectNone([](Config& c) { c.control = ""; });
}

TEST_CASE("validate: mounts", "[config]") {
  struct Bad {
    const char* mount;
    const char* why;
  };
  const Bad bad[] = {
      {"", "does not start with '/'"},
      {"push/ctl", "does not start with '/'"},
      {"/", "ends with '/'"},
      {"/push/ctl/", "ends with '/'"},
      {"/push//ctl", "contains an empty, '.' or '..' segment"},
      {"/push/../ctl", "contains an empty, '.' or '..' segment"},
      {"/push/..", "contains an empty, '.' or '..' segment"},
      {"/push/./ctl", "contains an empty, '.' or '..' segment"},
      {"/push ctl", "contains a space"},
      {"/push?x", "contains a space"},
      {"/push%20", "contains a space"},
  };
  for (const auto& b : bad) {
    INFO(b.mount);
    expectOne([&](Config& c) { c.control_mount = b.mount; },
              std::string("control_mount (--control-mount): \"") + b.mount + "\" " + b.why);
  }
  expectOne([](Config& c) { c.data_mount = c.control_mount; }, "overlaps control_mount");
  expectOne([](Config& c) { c.control_mount = "/push"; }, "overlaps control_mount");
  expectOne([](Config& c) { c.data_mount = "/push/ctl/sub"; }, "overlaps control_mount");
  expectNone([](Config& c) {
    c.control_mount = "/push";
    c.data_mount = "/pushsub"; // a string prefix, not a path prefix
  });
  expectNone([](Config& c) { c.data_mount = "/a.b/sub-1"; });
}

TEST_CASE("validate: log level and redis", "[config]") {
  for (const char* level : {"debug", "info", "warn", "error"})
    expectNone([&](Config& c) { c.log_level = level; });
  for (const char* mode : {"0660", "660", "0600", "0777"})
    expectNone([&](Config& c) { c.socket_mode = mode; });
  for (const char* mode : {"", "0888", "66", "1777", "rw-rw----", "06600"})
    expectOne([&](Config& c) { c.socket_mode = mode; },
              "socket_mode (--socket-mode): \"" + std::string(mode) +
                  "\" is not an octal permission mode such as 0660");
  expectOne([](Config& c) { c.log_level = "warning"; },
            "log_level (--log-level): \"warning\" is not debug, info, warn or error");
  for (const char* format : {"logfmt", "json"})
    expectNone([&](Config& c) { c.log_format = format; });
  expectOne([](Config& c) { c.log_format = "text"; },
            "log_format (--log-format): \"text\" is not logfmt or json");
  for (const char* journal : {"auto", "on", "off"})
    expectNone([&](Config& c) { c.log_journal = journal; });
  expectOne([](Config& c) { c.log_journal = "yes"; },
            "log_journal (--log-journal): \"yes\" is not auto, on or off");
  expectNone([](Config& c) { c.redis = "redis://127.0.0.1:6379"; });
  expectNone([](Config& c) { c.redis = "unix:/run/redis/redis.sock"; });
  expectOne([](Config& c) { c.redis = "http://r"; }, "redis (--redis): \"http://r\" is not");
  expectOne([](Config& c) { c.redis = "redis://:hunter2@r:0"; },
            "redis (--redis): \"redis://***@r:0\" has a bad port");
  expectOne([](Config& c) { c.redis_password_file = "/etc/pw"; }, "is set but redis is not");
}

TEST_CASE("validate: numeric ranges", "[config]") {
  struct Case {
    const char* key;
    uint64_t Config::*field;
    uint64_t lowest_bad; // just below the range
    uint64_t highest_ok;
    uint64_t too_high; // 0 = no upper bound
  };
  const Case cases[] = {
      {"buffer_messages", &Config::buffer_messages, 0, 1, 0},
      {"buffer_age", &Config::buffer_age, 0, 1, 0},
      {"batch_max", &Config::batch_max, 0, 1, 0},
      {"poll_timeout", &Config::poll_timeout, 0, 3600, 3601},
      {"session_ttl", &Config::session_ttl, 0, 1, 0},
      {"max_body", &Config::max_body, 0, 1, 0},
      {"max_channels_per_request", &Config::max_channels_per_request, 0, 1024, 1025},
      {"max_output_buffer", &Config::max_output_buffer, 4095, 4096, 0},
      {"max_connections", &Config::max_connections, 0, 1, 0},
      {"max_channels", &Config::max_channels, 0, 1, 0},
      {"channel_idle", &Config::channel_idle, 0, 1, 0},
      {"max_sessions", &Config::max_sessions, 0, 1, 0},
  };
  for (const auto& k : cases) {
    INFO(k.key);
    std::string flag = std::string("--") + k.key;
    for (char& ch : flag)
      ch = ch == '_' ? '-' : ch;
    expectOne([&](Config& c) { c.*k.field = k.lowest_bad; },
              std::string(k.key) + " (" + flag + "): " + std::to_string(k.lowest_bad) + " is ");
    expectNone([&](Config& c) { c.*k.field = k.highest_ok; });
    if (k.too_high != 0)
      expectOne([&](Config& c) { c.*k.field = k.too_high; }, "is out of range");
  }
}

TEST_CASE("validate: heartbeat, stream age and memory relations", "[config]") {
  expectOne([](Config& c) { c.heartbeat = 0; },
            "heartbeat (--heartbeat): 0 is out of range 1..3600");
  expectOne(
      [](Config& c) {
        c.heartbeat = 3601;
        c.max_stream_age = 4000;
      },
      "heartbeat (--heartbeat): 3601 is out of range 1..3600");
  expectOne([](Config& c) { c.max_stream_age = 24; },
            "max_stream_age (--max-stream-age): 24 is below heartbeat 25");
  expectNone([](Config& c) { c.max_stream_age = 25; });
  expectOne([](Config& c) { c.memory_limit = c.buffer_bytes - 1; },
            "memory_limit (--memory-limit): 4194303 is below buffer_bytes 4194304");
  expectNone([](Config& c) { c.memory_limit = c.buffer_bytes; });
  expectOne([](Config& c) { c.buffer_bytes = 0; }, "buffer_bytes (--buffer-bytes): 0 is below");
}

TEST_CASE("validate: allowed_origins", "[config]") {
  for (const char* good : {"*", "https://example.com", "http://localhost:8080",
                           "https://[::1]:8443", "http://10.0.0.1", "chrome-extension://abc"})
    expectNone([&](Config& c) { c.allowed_origins = {good}; });
  struct Bad {
    const char* origin;
    const char* why;
  };
  const Bad bad[] = {
      {"example.com", "is not \"*\" or scheme://host[:port]"},
      {"", "is not \"*\" or scheme://host[:port]"},
      {"://example.com", "is not \"*\" or scheme://host[:port]"},
      {"HTTPS://example.com", "is not \"*\" or scheme://host[:port]"},
      {"https://example.com/", "has a path or trailing '/'"},
      {"https://example.com/app", "has a path or trailing '/'"},
      {"https://Example.com", "is not lowercase"},
      {"https://example.com:0", "has a bad port"},
      {"https://", "has no host"},
      {"https://exa mple.com", "has a bad host name"},
  };
  for (const auto& b : bad) {
    INFO(b.origin);
    expectOne(
        [&](Config& c) {
          c.allowed_origins = {"*", b.origin};
        },
        std::string("allowed_origins (--allowed-origins): \"") + b.origin + "\" " + b.why);
  }
}

TEST_CASE("validate: client_publish patterns and private_prefix", "[config]") {
  expectNone([](Config& c) { c.client_publish = {"room.*", "*", "a-b_c~d@e", "x*y*"}; });
  for (const char* bad : {"", "room/*", "room?", "ro om", "räum"}) {
    INFO(bad);
    expectOne(
        [&](Config& c) {
          c.client_publish = {"ok", bad};
        },
        std::string("client_publish (--client-publish): \"") + bad + "\" is not a channel pattern");
  }
  expectNone([](Config& c) { c.private_prefix = ""; });
  expectOne([](Config& c) { c.private_prefix = "priv/"; },
            "private_prefix (--private-prefix): \"priv/\" is not empty or up to 128 channel");
  expectOne([](Config& c) { c.private_prefix = std::string(129, 'p'); }, "private_prefix");
}

TEST_CASE("validate: several problems are all reported", "[config]") {
  auto errors = errorsOf([](Config& c) {
    c.control = "tcp:host";
    c.data_mount = "sub";
    c.heartbeat = 0;
    c.poll_timeout = 0;
    c.max_channels_per_request = 2000;
    c.redis = "redis://r:99999";
    c.allowed_origins = {"nope"};
  });
  INFO(joined(errors));
  CHECK(errors.size() == 7);
}

TEST_CASE("validate: journal keys", "[config]") {
  for (const char* policy : {"always", "interval", "off"})
    expectNone([&](Config& c) { c.journal_sync = policy; });
  expectOne([](Config& c) { c.journal_sync = "sometimes"; },
            "journal_sync (--journal-sync): \"sometimes\" is not always, interval or off");
  expectOne([](Config& c) { c.journal_sync_interval = 0; },
            "journal_sync_interval (--journal-sync-interval): 0 is out of range 1..60000");
  expectOne([](Config& c) { c.journal_sync_interval = 60001; }, "out of range 1..60000");
  expectOne([](Config& c) { c.journal_max_bytes = 100; },
            "journal_max_bytes (--journal-max-bytes): 100 is below the minimum 4096");
}
