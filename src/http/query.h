// Query strings and request paths: percent-decoding and key/value splitting. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace holdfast::http {

// Percent-decodes `in` ('+' becomes ' ' when `plus_is_space`). Returns nullopt on a bad escape
// ("%G1", truncated "%4") or a decoded NUL byte.
std::optional<std::string> percentDecode(std::string_view in, bool plus_is_space);

struct Query {
  std::vector<std::pair<std::string, std::string>> items;
  // First value of `key`, or nullptr.
  const std::string* get(std::string_view key) const;
};

// Parses "a=1&b=2&c" (c has an empty value). Returns nullopt with `error` naming the bad item.
std::optional<Query> parseQuery(std::string_view text, std::string& error);

// Splits REQUEST_URI into its decoded path and raw query. nullopt on a bad escape in the path.
struct Target {
  std::string path;
  std::string query;
};
std::optional<Target> splitTarget(std::string_view request_uri);

} // namespace holdfast::http
