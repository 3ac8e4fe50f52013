// Random tokens (epochs, session ids) from the OS CSPRNG via OpenSSL.
#pragma once

#include <string>

namespace holdfast::util {

class Random {
public:
  virtual ~Random() = default;
  // Returns `bytes` random bytes encoded as URL-safe base64 without padding.
  virtual std::string token(size_t bytes) = 0;
};

// OpenSSL RAND_bytes. Aborts the process if the CSPRNG fails (it never should).
class SecureRandom final : public Random {
public:
  std::string token(size_t bytes) override;
};

// Deterministic tokens for tests: "t1", "t2", ... padded to look like tokens.
class CountingRandom final : public Random {
public:
  std::string token(size_t) override { return "T" + std::to_string(++n_); }

private:
  unsigned n_ = 0;
};

} // namespace holdfast::util
