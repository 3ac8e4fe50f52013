// Publish key and private-channel checks.
#include "auth/access.h"

#include <openssl/crypto.h>
#include <strings.h>

#include "auth/tokens.h"

namespace holdfast::auth {
namespace {

// The credentials after a "Bearer" scheme (any letter case), or empty.
std::string_view bearerCredentials(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() || authorization[kScheme.size()] != ' ' ||
      strncasecmp(authorization.data(), kScheme.data(), kScheme.size()) != 0)
    return {};
  std::string_view key = authorization.substr(kScheme.size());
  while (!key.empty() && key.front() == ' ')
    key.remove_prefix(1);
  return key;
}

bool deny(Denial& denial, int status, std::string code, std::string message,
          std::string extra = {}) {
  denial = Denial{status, std::move(code), std::move(message), std::move(extra)};
  return false;
}

} // namespace

bool allowControl(const config::Config& config, std::string_view authorization, Denial& denial) {
  if (config.trusted_control)
    return true;
  if (config.publish_key.empty())
    return deny(denial, 403, "forbidden",
                "control requests are disabled: configure publish_key or trusted_control");
  if (authorization.empty())
    return deny(denial, 401, "unauthorized", "missing Authorization: Bearer <publish key>",
                "WWW-Authenticate: Bearer realm=\"holdfast\"\r\n");
  std::string_view key = bearerCredentials(authorization);
  if (key.size() != config.publish_key.size() ||
      CRYPTO_memcmp(key.data(), config.publish_key.data(), key.size()) != 0)
    return deny(denial, 403, "forbidden", "wrong publish key");
  return true;
}

bool isPrivate(const config::Config& config, std::string_view channel) {
  return !config.private_prefix.empty() && channel.starts_with(config.private_prefix);
}

bool allowPrivate(const config::Config& config, const std::vector<std::string>& channels,
                  const std::string* tokens, int64_t now_s, Denial& denial) {
  for (const std::string& channel : channels) {
    if (!isPrivate(config, channel))
      continue;
    if (!tokens)
      return deny(denial, 403, "token_required",
                  "channel " + channel + " is private: a token is needed");
    std::string why;
    if (!verifySubscribeToken(config.token_key, *tokens, channel, now_s, why))
      return deny(denial, 403, "bad_token", why);
  }
  return true;
}

} // namespace holdfast::auth
