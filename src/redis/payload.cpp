// Parsing pub/sub payloads (pure).
#include "redis/payload.h"

#include <charconv>
#include <cstdint>
#include <vector>

#include "hub/cursor.h"

namespace holdfast::redis {
namespace {

// Takes the text up to the next '\n' from `rest`; nullopt when there is none.
std::optional<std::string_view> line(std::string_view& rest) {
  size_t nl = rest.find('\n');
  if (nl == std::string_view::npos)
    return std::nullopt;
  std::string_view out = rest.substr(0, nl);
  rest.remove_prefix(nl + 1);
  return out;
}

template <typename T> std::optional<T> integer(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

std::optional<Notice> parseMessage(std::string_view channel, std::string_view rest) {
  std::vector<std::string_view> f;
  for (int i = 0; i < 5; ++i) {
    auto l = line(rest);
    if (!l)
      return std::nullopt;
    f.push_back(*l);
  }
  auto seq = integer<uint64_t>(f[1]);
  auto time = integer<int64_t>(f[3]);
  if (!hub::isValidEpoch(f[0]) || !seq || *seq == 0 || !hub::isValidEventName(f[2]) || !time ||
      (f[4] != "0" && f[4] != "1"))
    return std::nullopt;
  return hub::makeMessage(std::string(channel), std::string(f[0]), *seq, std::string(f[2]), rest,
                          f[4] == "1", *time);
}

} // namespace

std::optional<Notice> parseNotice(std::string_view channel, std::string_view payload) {
  if (!hub::isValidChannelName(channel))
    return std::nullopt;
  if (payload.starts_with("M\n"))
    return parseMessage(channel, payload.substr(2));
  if (payload.starts_with("D\n") && hub::isValidEpoch(payload.substr(2)))
    return Deleted{std::string(channel), std::string(payload.substr(2))};
  return std::nullopt;
}

} // namespace holdfast::redis
