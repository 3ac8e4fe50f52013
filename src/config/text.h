// Text helpers shared by the config loader (config.cpp) and its validation (validate.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace holdfast::config::detail {

// "--" + key with '_' -> '-' ("buffer_messages" -> "--buffer-messages").
std::string flagName(std::string_view key);
// `text` in double quotes, with quotes, backslashes and control bytes escaped: safe to print.
std::string quote(std::string_view text);
std::string lower(std::string_view text);
// Decimal digits only (no sign, no spaces); nullopt when empty, not digits, or over uint64.
std::optional<uint64_t> parseDigits(std::string_view text);

} // namespace holdfast::config::detail
