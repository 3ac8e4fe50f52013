// Size and duration syntax: suffixes, edge values, garbage, negatives and overflow.
#include <catch2/catch.hpp>

#include <optional>

#include "config/config.h"

using holdfast::config::parseDuration;
using holdfast::config::parseSize;

TEST_CASE("sizes: accepted forms", "[config]") {
  struct Case {
    const char* text;
    uint64_t bytes;
  };
  const Case cases[] = {
      {"0", 0},
      {"4096", 4096},
      {"16B", 16},
      {"16b", 16},
      {"4K", 4096},
      {"4k", 4096},
      {"4KB", 4096},
      {"4kb", 4096},
      {"4KiB", 4096},
      {"4kib", 4096},
      {"1M", 1u << 20},
      {"1MB", 1u << 20},
      {"1MiB", 1u << 20},
      {"2G", 2ull << 30},
      {"2GB", 2ull << 30},
      {"2GiB", 2ull << 30},
      {"007", 7},
      {"18446744073709551615", UINT64_MAX},
      {"17179869183G", 17179869183ull << 30},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto v = parseSize(c.text);
    REQUIRE(v.has_value());
    CHECK(*v == c.bytes);
  }
}

TEST_CASE("sizes: rejected forms", "[config]") {
  const char* bad[] = {
      "",
      "-1",
      "+1",
      " 1",
      "1 ",
      "1 K",
      "K",
      "1T",
      "1KK",
      "1.5M",
      "0x10",
      "1e3",
      "1iB",
      "1Ki",
      "1Kib2",
      "abc",
      "1,000",
      "18446744073709551616", // 2^64
      "17179869184G",         // 2^34 GiB = 2^64 bytes
      "18014398509481984K",   // 2^54 KiB = 2^64 bytes
  };
  for (const char* text : bad) {
    INFO(text);
    CHECK_FALSE(parseSize(text).has_value());
  }
}

TEST_CASE("durations: accepted and rejected forms", "[config]") {
  CHECK(parseDuration("0") == std::optional<uint64_t>(0));
  CHECK(parseDuration("25") == std::optional<uint64_t>(25));
  CHECK(parseDuration("25s") == std::optional<uint64_t>(25));
  CHECK(parseDuration("315360000") == std::optional<uint64_t>(315360000));
  CHECK(parseDuration("315360000s") == std::optional<uint64_t>(315360000));
  const char* bad[] = {"",    "s",    "-1",   "+1",        "25ss",
                       "25S", "25ms", "1m",   "1h",        "1.5",
                       " 1",  "1 s",  "0x10", "315360001", "99999999999999999999"};
  for (const char* text : bad) {
    INFO(text);
    CHECK_FALSE(parseDuration(text).has_value());
  }
}
