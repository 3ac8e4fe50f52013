// Redis URL parsing and password resolution.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "redis/password.h"
#include "redis/url.h"

using holdfast::redis::Address;
using holdfast::redis::parseUrl;

namespace {

Address ok(const std::string& url) {
  std::string error;
  auto a = parseUrl(url, error);
  INFO(url << ": " << error);
  REQUIRE(a);
  return *a;
}

std::string bad(const std::string& url) {
  std::string error;
  auto a = parseUrl(url, error);
  INFO(url);
  REQUIRE_FALSE(a);
  return error;
}

} // namespace

TEST_CASE("redis url: tcp forms", "[redis]") {
  Address a = ok("redis://127.0.0.1:6380");
  CHECK(a.kind == Address::Kind::kTcp);
  CHECK(a.host == "127.0.0.1");
  CHECK(a.port == 6380);
  CHECK(a.db == 0);
  CHECK(a.password.empty());
  CHECK(ok("redis://cache.internal").port == 6379);
  Address b = ok("redis://:s3cr:et@r.example:7000/3");
  CHECK(b.password == "s3cr:et");
  CHECK(b.host == "r.example");
  CHECK(b.port == 7000);
  CHECK(b.db == 3);
  CHECK(ok("redis://user:pw@h/1").password == "pw");
  Address v6 = ok("redis://[::1]:6390/2");
  CHECK(v6.host == "::1");
  CHECK(v6.port == 6390);
  CHECK(holdfast::redis::describe(v6) == "[::1]:6390/2");
  CHECK(holdfast::redis::describe(b) == "r.example:7000/3");
}

TEST_CASE("redis url: unix socket", "[redis]") {
  Address a = ok("unix:/run/redis/redis.sock");
  CHECK(a.kind == Address::Kind::kUnix);
  CHECK(a.path == "/run/redis/redis.sock");
  CHECK(holdfast::redis::describe(a) == "unix:/run/redis/redis.sock");
  CHECK(bad("unix:relative.sock").find("absolute") != std::string::npos);
  CHECK(bad("unix:/" + std::string(200, 'x')).find("longer") != std::string::npos);
}

TEST_CASE("redis url: errors", "[redis]") {
  CHECK(bad("http://h").find("is not redis://") != std::string::npos);
  CHECK(bad("").find("is not redis://") != std::string::npos);
  CHECK(bad("redis://").find("no host") != std::string::npos);
  CHECK(bad("redis://:pw@:6379").find("no host") != std::string::npos);
  CHECK(bad("redis://h:0").find("bad port") != std::string::npos);
  CHECK(bad("redis://h:65536").find("bad port") != std::string::npos);
  CHECK(bad("redis://h:12ab").find("bad port") != std::string::npos);
  CHECK(bad("redis://h:1/x").find("database") != std::string::npos);
  CHECK(bad("redis://[::1").find("unclosed") != std::string::npos);
  CHECK(bad("redis://[::1]x").find("after the IPv6") != std::string::npos);
  std::string e = bad("redis://:topsecret@h:0");
  CHECK(e.find("topsecret") == std::string::npos);
}

TEST_CASE("redis password: file, then environment, then url", "[redis]") {
  using holdfast::redis::resolvePassword;
  std::string error;
  CHECK(resolvePassword("url", "", nullptr, error) == "url");
  CHECK(resolvePassword("url", "", "", error) == "url");
  CHECK(resolvePassword("url", "", "env", error) == "env");
  std::string path = "/tmp/hf-redis-pw-test-" + std::to_string(::getpid());
  std::ofstream(path) << "from-file\r\nsecond line\n";
  CHECK(resolvePassword("url", path, "env", error) == "from-file");
  std::ofstream(path) << "\n";
  CHECK_FALSE(resolvePassword("url", path, "env", error));
  CHECK(error.find("empty") != std::string::npos);
  std::remove(path.c_str());
  CHECK_FALSE(resolvePassword("url", path, nullptr, error));
  CHECK(error.find("cannot be read") != std::string::npos);
}
