// Signed subscribe tokens for private channels: "EXPIRY.SIGNATURE" where EXPIRY is Unix
// seconds and SIGNATURE = base64url(HMAC-SHA256(token_key, CHANNEL "\n" EXPIRY)). A request
// for several private channels passes one token per channel, comma-separated.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace holdfast::auth {

std::string makeSubscribeToken(std::string_view key, std::string_view channel, int64_t expiry_s);

// True when one of the comma-separated `tokens` is valid for `channel` and not expired at
// `now_s`. Otherwise `why` says what was wrong (expired, bad signature, malformed, no key).
bool verifySubscribeToken(std::string_view key, std::string_view tokens, std::string_view channel,
                          int64_t now_s, std::string& why);

} // namespace holdfast::auth
