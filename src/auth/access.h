// Who may do what: the publish key on the control socket and signed tokens for private
// channels. One home for both rules, used by the data and control paths alike.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace holdfast::auth {

struct Denial {
  int status = 403; // 401 (no credentials) or 403
  std::string code; // "unauthorized", "forbidden"
  std::string message;
  std::string extra; // extra header lines ("WWW-Authenticate: ...\r\n")
};

// Checks "Authorization: Bearer <publish_key>" (scheme case-insensitive, RFC 9110 §11.1)
// unless the control socket is trusted. Returns true when allowed, else fills `denial`.
bool allowControl(const config::Config& config, std::string_view authorization, Denial& denial);

// True when `channel` is private (starts with private_prefix).
bool isPrivate(const config::Config& config, std::string_view channel);

// For every private channel in `channels`, one of the comma-separated `tokens` (nullptr = none
// given) must be valid at `now_s`. Returns true when allowed, else fills `denial` (403
// token_required or bad_token).
bool allowPrivate(const config::Config& config, const std::vector<std::string>& channels,
                  const std::string* tokens, int64_t now_s, Denial& denial);

} // namespace holdfast::auth
