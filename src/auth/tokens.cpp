// HMAC-SHA256 subscribe tokens (OpenSSL libcrypto).
#include "auth/tokens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

#include "util/base64url.h"

namespace holdfast::auth {
namespace {

std::string signature(std::string_view key, std::string_view channel, std::string_view expiry) {
  std::string msg(channel);
  msg.push_back('\n');
  msg.append(expiry);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &mac_len);
  return util::base64url(mac, mac_len);
}

bool checkOne(std::string_view key, std::string_view token, std::string_view channel, int64_t now_s,
              std::string& why) {
  auto dot = token.find('.');
  if (dot == std::string_view::npos) {
    why = "malformed token (want EXPIRY.SIGNATURE)";
    return false;
  }
  std::string_view expiry = token.substr(0, dot);
  int64_t exp = 0;
  auto [p, ec] = std::from_chars(expiry.data(), expiry.data() + expiry.size(), exp);
  if (ec != std::errc() || p != expiry.data() + expiry.size()) {
    why = "malformed token expiry";
    return false;
  }
  std::string expected = signature(key, channel, expiry);
  std::string_view given = token.substr(dot + 1);
  if (given.size() != expected.size() ||
      CRYPTO_memcmp(given.data(), expected.data(), expected.size()) != 0) {
    why = "token signature does not match channel " + std::string(channel);
    return false;
  }
  if (exp < now_s) {
    why = "token for channel " + std::string(channel) + " expired";
    return false;
  }
  return true;
}

} // namespace

std::string makeSubscribeToken(std::string_view key, std::string_view channel, int64_t expiry_s) {
  std::string expiry = std::to_string(expiry_s);
  return expiry + "." + signature(key, channel, expiry);
}

bool verifySubscribeToken(std::string_view key, std::string_view tokens, std::string_view channel,
                          int64_t now_s, std::string& why) {
  if (key.empty()) {
    why = "private channels are disabled (no token_key configured)";
    return false;
  }
  why = "no token given";
  while (!tokens.empty()) {
    auto comma = tokens.find(',');
    std::string_view one = tokens.substr(0, comma);
    if (checkOne(key, one, channel, now_s, why))
      return true;
    if (comma == std::string_view::npos)
      break;
    tokens.remove_prefix(comma + 1);
  }
  return false;
}

} // namespace holdfast::auth
