// util::SecureRandom tokens: URL-safe base64 without padding, of the right length, unique.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "util/random.h"

using holdfast::util::SecureRandom;

namespace {

bool isUrlSafe(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

} // namespace

TEST_CASE("SecureRandom tokens have ceil(8n/6) URL-safe characters", "[util]") {
  SecureRandom random;
  const size_t expected[][2] = {{0, 0}, {1, 2}, {2, 3}, {3, 4}, {16, 22}, {18, 24}, {32, 43}};
  for (const auto& [bytes, chars] : expected) {
    const std::string t = random.token(bytes);
    INFO(bytes << " bytes: " << t);
    CHECK(t.size() == chars);
    for (char c : t)
      CHECK(isUrlSafe(c));
  }
}

TEST_CASE("SecureRandom tokens differ and use the whole alphabet", "[util]") {
  SecureRandom random;
  std::set<std::string> seen;
  std::set<char> chars;
  for (int i = 0; i < 1000; ++i) {
    const std::string t = random.token(18);
    seen.insert(t);
    chars.insert(t.begin(), t.end());
  }
  CHECK(seen.size() == 1000);
  // 24000 uniform characters miss one of 64 with probability ~64 * e^-375.
  CHECK(chars.size() == 64);
  CHECK(chars.count('-') == 1);
  CHECK(chars.count('_') == 1);
}

TEST_CASE("SecureRandom pads the last character with zero bits", "[util]") {
  // 16 bytes = 128 bits = 21 full characters + 2 bits, so the last character carries 2 data
  // bits and 4 zero bits: one of A (000000), Q (010000), g (100000), w (110000).
  SecureRandom random;
  std::set<char> last;
  for (int i = 0; i < 400; ++i)
    last.insert(random.token(16).back());
  CHECK(last == std::set<char>{'A', 'Q', 'g', 'w'});
}
