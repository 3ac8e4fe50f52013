// parseAddress: each form, and one failing example per rule.
#include <catch2/catch.hpp>

#include "util/address.h"

using holdfast::util::Address;
using holdfast::util::parseAddress;

TEST_CASE("address: unix paths", "[util][address]") {
  auto r = parseAddress("unix:/run/holdfast/data.sock");
  REQUIRE(r.address);
  CHECK(r.error.empty());
  CHECK(r.address->kind == Address::Kind::kUnix);
  CHECK(r.address->path == "/run/holdfast/data.sock");
  CHECK(parseAddress("unix:relative.sock").address->path == "relative.sock");
  CHECK(parseAddress("unix:").error == "is not a unix socket path of 1..107 bytes");
  CHECK(parseAddress("unix:" + std::string(107, 'a')).address);
  CHECK_FALSE(parseAddress("unix:" + std::string(108, 'a')).address);
  CHECK_FALSE(parseAddress(std::string("unix:/a\0b", 9)).address);
}

TEST_CASE("address: tcp hosts and ports", "[util][address]") {
  auto r = parseAddress("tcp:127.0.0.1:9000");
  REQUIRE(r.address);
  CHECK(r.address->kind == Address::Kind::kTcp);
  CHECK(r.address->host == "127.0.0.1");
  CHECK(r.address->port == 9000);
  auto v6 = parseAddress("tcp:[::1]:65535");
  REQUIRE(v6.address);
  CHECK(v6.address->host == "::1"); // brackets removed, ready for getaddrinfo
  CHECK(v6.address->port == 65535);
  CHECK(parseAddress("tcp:backend-1.example.com:1").address->host == "backend-1.example.com");
  CHECK(parseAddress("tcp:host").error == "has no :PORT");
  CHECK(parseAddress("tcp:host:0").error == "has a bad port (want 1..65535)");
  CHECK(parseAddress("tcp:host:65536").error == "has a bad port (want 1..65535)");
  CHECK(parseAddress("tcp:host:+1").error == "has a bad port (want 1..65535)");
  CHECK(parseAddress("tcp::9000").error.starts_with("has no host"));
  CHECK(parseAddress("tcp:::1:9000").error.starts_with("has an IPv6 host without brackets"));
  CHECK(parseAddress("tcp:[::1:9000").error == "has an unclosed '['");
  CHECK(parseAddress("tcp:[::1]x:9000").error == "has text after ']' that is not :PORT");
  CHECK(parseAddress("tcp:[zz]:9000").error == "has a bad IPv6 address");
  CHECK(parseAddress("tcp:300.1.1.1:9000").error == "has a bad IPv4 address");
  CHECK(parseAddress("tcp:-bad:9000").error == "has a bad host name");
  CHECK(parseAddress("tcp:a_b:9000").error == "has a bad host name");
}

TEST_CASE("address: inherited descriptors", "[util][address]") {
  auto r = parseAddress("fd:0");
  REQUIRE(r.address);
  CHECK(r.address->kind == Address::Kind::kFd);
  CHECK(r.address->fd == 0);
  CHECK(parseAddress("fd:3").address->fd == 3);
  CHECK_FALSE(parseAddress("fd:").address);
  CHECK_FALSE(parseAddress("fd:-1").address);
  CHECK_FALSE(parseAddress("fd:2147483648").address);
  CHECK(parseAddress("fd:x").error == "has a bad descriptor number (want fd:N, N >= 0)");
}

TEST_CASE("address: unknown forms and empty text", "[util][address]") {
  CHECK(parseAddress("").error == "is empty");
  CHECK(parseAddress("/run/x.sock").error == "is not unix:PATH, tcp:HOST:PORT or fd:N");
  CHECK(parseAddress("127.0.0.1:9000").error == "is not unix:PATH, tcp:HOST:PORT or fd:N");
  CHECK(holdfast::util::hostPortProblem("example.com", false).empty());
  CHECK(holdfast::util::hostPortProblem("example.com", true) == "has no :PORT");
}
