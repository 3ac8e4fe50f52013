// SecureRandom: OpenSSL's CSPRNG, encoded as base64url (util/base64url.h).
#include "util/random.h"

#include <cassert>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <openssl/rand.h>

#include "util/base64url.h"

namespace holdfast::util {

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
