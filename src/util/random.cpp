// SecureRandom: OpenSSL's CSPRNG, encoded as URL-safe base64 without padding.
#include "util/random.h"

#include <cassert>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <openssl/rand.h>

namespace holdfast::util {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// RFC 4648 §5 base64url, no '=' padding: ceil(8 * n / 6) characters.
std::string base64url(const unsigned char* p, size_t n) {
  std::string out;
  out.reserve((n * 8 + 5) / 6);
  uint32_t bits = 0;
  int count = 0;
  for (size_t i = 0; i < n; ++i) {
    bits = (bits << 8) | p[i];
    count += 8;
    while (count >= 6) {
      count -= 6;
      out.push_back(kAlphabet[(bits >> count) & 0x3F]);
    }
  }
  if (count > 0)
    out.push_back(kAlphabet[(bits << (6 - count)) & 0x3F]);
  return out;
}

} // namespace

std::string SecureRandom::token(size_t bytes) {
  assert(bytes <= static_cast<size_t>(INT_MAX));
  std::vector<unsigned char> buf(bytes);
  if (bytes > 0 && RAND_bytes(buf.data(), static_cast<int>(bytes)) != 1) {
    std::fputs("holdfast: RAND_bytes failed; refusing to issue guessable tokens\n", stderr);
    std::abort();
  }
  return base64url(buf.data(), bytes);
}

} // namespace holdfast::util
