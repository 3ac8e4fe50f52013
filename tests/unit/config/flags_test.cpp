// Command-line parsing: every flag, both flag forms, help/version, and argument errors.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>

#include "config/config.h"

using holdfast::config::Config;
using holdfast::config::load;
using holdfast::config::LoadResult;

namespace {

// One non-default value for every flag.
struct FlagCase {
  const char* flag;
  const char* value;
};
const FlagCase kEveryFlag[] = {
    {"--control", "tcp:127.0.0.1:9001"},
    {"--data", "unix:/tmp/hf-data.sock"},
    {"--control-mount", "/a/ctl"},
    {"--data-mount", "/a/sub"},
    {"--publish-key", "sekret"},
    {"--state-dir", "/var/lib/hf"},
    {"--journal-sync", "always"},
    {"--journal-sync-interval", "50"},
    {"--journal-max-bytes", "8M"},
    {"--log-level", "debug"},
    {"--log-format", "json"},
    {"--log-journal", "off"},
    {"--socket-mode", "0600"},
    {"--buffer-messages", "7"},
    {"--buffer-age", "90s"},
    {"--buffer-bytes", "2MiB"},
    {"--memory-limit", "1G"},
    {"--batch-max", "50"},
    {"--max-channels", "500"},
    {"--channel-idle", "30s"},
    {"--poll-timeout", "30"},
    {"--heartbeat", "10s"},
    {"--session-ttl", "120"},
    {"--max-sessions", "700"},
    {"--max-stream-age", "600"},
    {"--max-body", "64K"},
    {"--max-channels-per-request", "8"},
    {"--max-output-buffer", "512KiB"},
    {"--max-output-total", "8MiB"},
    {"--request-timeout", "12"},
    {"--max-connections", "1000"},
    {"--allowed-origins", "https://a.example, http://b.example:8080"},
    {"--client-publish", "room.*,chat"},
    {"--private-prefix", "secret."},
    {"--token-key", "tk"},
    {"--redis", "redis://127.0.0.1:6380/2"},
    {"--redis-password-file", "/etc/holdfast/redis.pw"},
};

void checkEveryFlag(const Config& c) {
  CHECK(c.control == "tcp:127.0.0.1:9001");
  CHECK(c.data == "unix:/tmp/hf-data.sock");
  CHECK(c.control_mount == "/a/ctl");
  CHECK(c.data_mount == "/a/sub");
  CHECK(c.publish_key == "sekret");
  CHECK(c.trusted_control);
  CHECK(c.state_dir == "/var/lib/hf");
  CHECK(c.journal_sync == "always");
  CHECK(c.journal_sync_interval == 50);
  CHECK(c.journal_max_bytes == 8u << 20);
  CHECK(c.log_level == "debug");
  CHECK(c.log_format == "json");
  CHECK(c.log_journal == "off");
  CHECK(c.socket_mode == "0600");
  CHECK(c.buffer_messages == 7);
  CHECK(c.buffer_age == 90);
  CHECK(c.buffer_bytes == 2u << 20);
  CHECK(c.memory_limit == 1u << 30);
  CHECK(c.batch_max == 50);
  CHECK(c.poll_timeout == 30);
  CHECK(c.heartbeat == 10);
  CHECK(c.session_ttl == 120);
  CHECK(c.max_stream_age == 600);
  CHECK(c.max_body == 64u << 10);
  CHECK(c.max_channels_per_request == 8);
  CHECK(c.max_output_buffer == 512u << 10);
  CHECK(c.max_output_total == 8u << 20);
  CHECK(c.request_timeout == 12);
  CHECK(c.max_connections == 1000);
  CHECK(c.allowed_origins ==
        std::vector<std::string>{"https://a.example", "http://b.example:8080"});
  CHECK(c.client_publish == std::vector<std::string>{"room.*", "chat"});
  CHECK(c.private_prefix == "secret.");
  CHECK(c.token_key == "tk");
  CHECK(c.redis == "redis://127.0.0.1:6380/2");
  CHECK(c.redis_password_file == "/etc/holdfast/redis.pw");
}

bool hasError(const LoadResult& r, const std::string& part) {
  for (const auto& e : r.errors) {
    if (e.find(part) != std::string::npos)
      return true;
  }
  return false;
}

std::string joined(const LoadResult& r) {
  std::string all;
  for (const auto& e : r.errors)
    all += e + "\n";
  return all;
}

} // namespace

TEST_CASE("defaults load and validate with no arguments", "[config]") {
  Config c;
  auto r = load({}, c);
  INFO(joined(r));
  CHECK(r.ok);
  CHECK(r.errors.empty());
  CHECK(c.control == "unix:/run/holdfast/control.sock");
  CHECK(c.buffer_bytes == 4u << 20);
  CHECK(c.max_channels_per_request == 64);
}

TEST_CASE("every flag is parsed in the '--flag value' form", "[config]") {
  std::vector<std::string> args = {"--trusted-control"};
  for (const auto& f : kEveryFlag) {
    args.push_back(f.flag);
    args.push_back(f.value);
  }
  Config c;
  auto r = load(args, c);
  INFO(joined(r));
  REQUIRE(r.ok);
  checkEveryFlag(c);
}

TEST_CASE("every flag is parsed in the '--flag=value' form", "[config]") {
  std::vector<std::string> args = {"--trusted-control=true"};
  for (const auto& f : kEveryFlag)
    args.push_back(std::string(f.flag) + "=" + f.value);
  Config c;
  auto r = load(args, c);
  INFO(joined(r));
  REQUIRE(r.ok);
  checkEveryFlag(c);
}

TEST_CASE("the flag table above covers every flag --help lists", "[config]") {
  std::set<std::string> tested = {"--trusted-control", "--config", "--version"};
  for (const auto& f : kEveryFlag)
    tested.insert(f.flag);
  std::set<std::string> listed;
  std::istringstream lines(holdfast::config::usage());
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("  --", 0) == 0)
      listed.insert(line.substr(2, line.find(' ', 2) - 2));
  }
  CHECK(listed == tested);
  CHECK(holdfast::config::usage().find("-h, --help") != std::string::npos);
}

TEST_CASE("--help lists defaults", "[config]") {
  std::string u = holdfast::config::usage();
  CHECK(u.find("--buffer-bytes SIZE") != std::string::npos);
  CHECK(u.find("[4MiB]") != std::string::npos);
  CHECK(u.find("[unix:/run/holdfast/control.sock]") != std::string::npos);
  CHECK(u.find("[25s]") != std::string::npos);
  CHECK(u.find("[60000]") != std::string::npos);
}

TEST_CASE("--trusted-control forms", "[config]") {
  Config c;
  REQUIRE(load({"--trusted-control"}, c).ok);
  CHECK(c.trusted_control);
  REQUIRE(load({"--trusted-control=false"}, c).ok);
  CHECK_FALSE(c.trusted_control);
  REQUIRE(load({"--trusted-control=true"}, c).ok);
  CHECK(c.trusted_control);

  Config d;
  auto r = load({"--trusted-control=yes"}, d);
  CHECK_FALSE(r.ok);
  CHECK(hasError(r, "--trusted-control: \"yes\" is not true or false"));
  // A bare boolean does not take the next argument: "false" is then a stray positional.
  r = load({"--trusted-control", "false"}, d);
  CHECK_FALSE(r.ok);
  CHECK(hasError(r, "unexpected argument \"false\""));
}

TEST_CASE("later flags override earlier ones; values may be empty", "[config]") {
  Config c;
  auto r = load({"--heartbeat", "5", "--heartbeat=7", "--control=", "--data", ""}, c);
  INFO(joined(r));
  REQUIRE(r.ok);
  CHECK(c.heartbeat == 7);
  CHECK(c.control.empty());
  CHECK(c.data.empty());
  REQUIRE(load({"--allowed-origins="}, c).ok);
  CHECK(c.allowed_origins.empty());
}

TEST_CASE("--help, -h and --version short-circuit", "[config]") {
  Config c;
  auto r = load({"--bogus", "--help", "--heartbeat", "0"}, c);
  CHECK(r.ok);
  CHECK(r.show_help);
  CHECK_FALSE(r.show_version);
  CHECK(r.errors.empty());
  r = load({"-h"}, c);
  CHECK((r.ok && r.show_help));
  r = load({"--version", "positional"}, c);
  CHECK((r.ok && r.show_version && !r.show_help));
}

TEST_CASE("argument errors are all reported at once", "[config]") {
  Config c;
  c.publish_key = "untouched";
  auto r = load({"stray", "--bogus=1", "--buffer_messages", "5", "-x", "--heartbeat", "zero",
                 "--poll-timeout", "--publish-key", "k", "--max-body"},
                c);
  INFO(joined(r));
  CHECK_FALSE(r.ok);
  CHECK(hasError(r, "unexpected argument \"stray\""));
  CHECK(hasError(r, "--bogus: unknown flag"));
  CHECK(hasError(r, "--buffer_messages: unknown flag (did you mean --buffer-messages?)"));
  CHECK(hasError(r, "unexpected argument \"5\""));
  CHECK(hasError(r, "unexpected argument \"-x\""));
  CHECK(hasError(r, "--heartbeat: \"zero\" is not a duration"));
  CHECK(hasError(r, "--poll-timeout: needs a value"));
  CHECK(hasError(r, "--max-body: needs a value"));
  CHECK(r.errors.size() == 8);
  CHECK(c.publish_key == "untouched"); // out is assigned only on success
}

TEST_CASE("a value starting with -- needs the = form", "[config]") {
  Config c;
  auto r = load({"--publish-key=--secret"}, c);
  REQUIRE(r.ok);
  CHECK(c.publish_key == "--secret");
  r = load({"--publish-key", "-dash"}, c);
  REQUIRE(r.ok);
  CHECK(c.publish_key == "-dash");
}

TEST_CASE("bad flag values name the flag and the value", "[config]") {
  Config c;
  auto r = load({"--buffer-bytes", "4XB", "--buffer-messages=-1", "--batch-max", "1K",
                 "--session-ttl", "1m", "--client-publish", "a b"},
                c);
  INFO(joined(r));
  CHECK_FALSE(r.ok);
  CHECK(hasError(r, "--buffer-bytes: \"4XB\" is not a size"));
  CHECK(hasError(r, "--buffer-messages: \"-1\" is not a non-negative integer"));
  CHECK(hasError(r, "--batch-max: \"1K\" is not a non-negative integer"));
  CHECK(hasError(r, "--session-ttl: \"1m\" is not a duration"));
  CHECK(hasError(r, "client_publish (--client-publish): \"a b\" is not a channel pattern"));
}

TEST_CASE("--config more than once is an error", "[config]") {
  Config c;
  auto r = load({"--config", "/nonexistent/a.json", "--config=/nonexistent/b.json"}, c);
  CHECK_FALSE(r.ok);
  CHECK(hasError(r, "--config: given more than once"));
}
