// The JSON config file: value types, override order with flags, and every kind of file error.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "config/config.h"

using holdfast::config::applyJson;
using holdfast::config::Config;
using holdfast::config::load;
using holdfast::config::LoadResult;

namespace {

// A file under $TMPDIR (or /tmp) holding `text`, removed on destruction.
class TempFile {
public:
  explicit TempFile(const std::string& text) {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir && *dir ? dir : "/tmp") + "/holdfast-config-XXXXXX";
    int fd = mkstemp(path_.data());
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    close(fd);
  }
  ~TempFile() { unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

std::vector<std::string> jsonErrors(const std::string& text, Config& c) {
  std::vector<std::string> errors;
  applyJson(text, c, errors);
  return errors;
}

bool contains(const std::vector<std::string>& errors, const std::string& part) {
  for (const auto& e : errors) {
    if (e.find(part) != std::string::npos)
      return true;
  }
  return false;
}

std::string joined(const std::vector<std::string>& errors) {
  std::string all;
  for (const auto& e : errors)
    all += e + "\n";
  return all;
}

} // namespace

TEST_CASE("file: every value type", "[config]") {
  Config c;
  auto errors = jsonErrors(R"({
    // comments are allowed
    "control": "tcp:[::1]:9000",
    "trusted_control": true,
    "buffer_messages": 5,
    "buffer_bytes": "8MiB",
    "memory_limit": 1073741824,
    "heartbeat": "15s",
    "poll_timeout": 20,
    "allowed_origins": ["https://x.example"],
    "client_publish": [],
    "private_prefix": "" /* no private channels */
  })",
                           c);
  INFO(joined(errors));
  REQUIRE(errors.empty());
  CHECK(c.control == "tcp:[::1]:9000");
  CHECK(c.trusted_control);
  CHECK(c.buffer_messages == 5);
  CHECK(c.buffer_bytes == 8u << 20);
  CHECK(c.memory_limit == 1u << 30);
  CHECK(c.heartbeat == 15);
  CHECK(c.poll_timeout == 20);
  CHECK(c.allowed_origins == std::vector<std::string>{"https://x.example"});
  CHECK(c.client_publish.empty());
  CHECK(c.private_prefix.empty());
  CHECK(c.data == "unix:/run/holdfast/data.sock"); // absent keys keep their values
}

TEST_CASE("file: flags override the file wherever --config appears", "[config]") {
  TempFile file(R"({"heartbeat": 10, "poll_timeout": 30, "publish_key": "from-file"})");
  for (bool config_last : {false, true}) {
    std::vector<std::string> args = {"--heartbeat", "20"};
    if (config_last)
      args.insert(args.end(), {"--config", file.path()});
    else
      args.insert(args.begin(), "--config=" + file.path());
    Config c;
    auto r = load(args, c);
    INFO(joined(r.errors));
    REQUIRE(r.ok);
    CHECK(c.heartbeat == 20);    // flag wins
    CHECK(c.poll_timeout == 30); // file value kept
    CHECK(c.publish_key == "from-file");
    CHECK(c.config_file == file.path());
  }
}

TEST_CASE("file: an unreadable file names the path and the errno text", "[config]") {
  Config c;
  auto r = load({"--config", "/nonexistent-holdfast/x.json"}, c);
  CHECK_FALSE(r.ok);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0] ==
        "--config: cannot read \"/nonexistent-holdfast/x.json\": No such file or directory");

  r = load({"--config", "/"}, c); // fopen accepts a directory; the read fails
  CHECK_FALSE(r.ok);
  CHECK(contains(r.errors, "--config: cannot read \"/\": Is a directory"));
}

TEST_CASE("file: a JSON syntax error gives RapidJSON's message and offset", "[config]") {
  Config c;
  auto errors = jsonErrors("{\n  \"heartbeat\": 10\n  \"poll_timeout\": 5\n}", c);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "JSON parse error at offset 22 (line 3, column 3): Missing a comma or '}' "
                     "after an object member.");

  errors = jsonErrors("", c);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("at offset 0") != std::string::npos);
  CHECK(errors[0].find("The document is empty.") != std::string::npos);
}

TEST_CASE("file: errors through load name the file", "[config]") {
  TempFile file("{\"heartbeat\": }");
  Config c;
  auto r = load({"--config", file.path()}, c);
  CHECK_FALSE(r.ok);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].rfind("config file \"" + file.path() + "\": JSON parse error at offset 14",
                          0) == 0);
}

TEST_CASE("file: wrong types, unknown and repeated keys are all reported", "[config]") {
  Config c;
  auto errors = jsonErrors(R"({
    "heartbeat": true,
    "publish_key": 5,
    "allowed_origins": "https://a.example",
    "client_publish": ["room.*", 7],
    "trusted_control": "true",
    "buffer_messages": -1,
    "batch_max": 1.5,
    "buffer_bytes": "4 MiB",
    "session_ttl": null,
    "buffer-age": 10,
    "bogus": 1,
    "token_key": "a",
    "token_key": "b",
    "state_dir": "a\u0000b"
  })",
                           c);
  INFO(joined(errors));
  CHECK(contains(errors, "\"heartbeat\": true is not a non-negative integer"));
  CHECK(contains(errors, "\"publish_key\": 5 is not a string"));
  CHECK(contains(errors, "\"allowed_origins\": \"https://a.example\" is not an array of strings"));
  CHECK(contains(errors, "\"client_publish\": [\"room.*\",7] is not an array of strings"));
  CHECK(contains(errors, "\"trusted_control\": \"true\" is not a boolean"));
  CHECK(contains(errors, "\"buffer_messages\": -1 is not a non-negative integer"));
  CHECK(contains(errors, "\"batch_max\": 1.5 is not a non-negative integer"));
  CHECK(contains(errors, "\"buffer_bytes\": \"4 MiB\" is not a size"));
  CHECK(contains(errors, "\"session_ttl\": null is not"));
  CHECK(contains(errors, "\"buffer-age\": unknown key (did you mean buffer_age?)"));
  CHECK(contains(errors, "\"bogus\": unknown key"));
  CHECK(contains(errors, "\"token_key\": \"b\" given more than once"));
  CHECK(contains(errors, "\"state_dir\": \"a\\u0000b\" contains a NUL character"));
  CHECK(errors.size() == 13);
  CHECK(c.token_key == "a");
}

TEST_CASE("file: the top level must be an object; config_file is not a key", "[config]") {
  Config c;
  auto errors = jsonErrors(R"(["heartbeat", 5])", c);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "the file must hold a JSON object of keys, not [\"heartbeat\",5]");
  errors = jsonErrors(R"({"config_file": "/x"})", c);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "\"config_file\": unknown key");
}

TEST_CASE("file: file errors, flag errors and validation errors come together", "[config]") {
  TempFile file(R"({"heartbeat": "x", "poll_timeout": 0})");
  Config c;
  auto r = load({"--config", file.path(), "--max-body", "huge", "--log-level", "loud"}, c);
  INFO(joined(r.errors));
  CHECK_FALSE(r.ok);
  CHECK(contains(r.errors, "\"heartbeat\": \"x\" is not a duration"));
  CHECK(contains(r.errors, "--max-body: \"huge\" is not a size"));
  CHECK(contains(r.errors, "poll_timeout (--poll-timeout): 0 is out of range 1..3600"));
  CHECK(contains(r.errors, "log_level (--log-level): \"loud\" is not debug, info, warn or error"));
  CHECK(r.errors.size() == 4);
}
