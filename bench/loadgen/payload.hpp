// The bench's message payload and what subscribers extract from responses (pure).
// Every published body is {"seq":N,"t":NS} (NS = publish time, CLOCK_REALTIME nanoseconds).
// Holdfast embeds it as "data" in its JSON, Nchan sends it raw, so subscribers simply scan
// response bytes for the pattern instead of parsing each server's envelope.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace loadgen {

inline std::string makePayload(uint64_t seq, int64_t tNs) {
  return "{\"seq\":" + std::to_string(seq) + ",\"t\":" + std::to_string(tNs) + "}";
}

/// Calls fn(seq, tNs) for every {"seq":N,"t":NS} in text, in order of appearance.
template <class Fn> void forEachPayload(std::string_view text, Fn&& fn) {
  static constexpr std::string_view kSeq = "{\"seq\":";
  static constexpr std::string_view kT = ",\"t\":";
  size_t pos = 0;
  while ((pos = text.find(kSeq, pos)) != std::string_view::npos) {
    pos += kSeq.size();
    uint64_t seq = 0;
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      seq = seq * 10 + static_cast<uint64_t>(text[pos++] - '0');
      ++digits;
    }
    if (digits == 0 || text.substr(pos, kT.size()) != kT)
      continue;
    pos += kT.size();
    int64_t t = 0;
    digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      t = t * 10 + (text[pos++] - '0');
      ++digits;
    }
    if (digits == 0 || pos >= text.size() || text[pos] != '}')
      continue;
    fn(seq, t);
  }
}

/// The last "cursor":"..." value in a Holdfast long-poll body (the top-level cursor comes after
/// the messages), or empty.
inline std::string lastCursor(std::string_view body) {
  static constexpr std::string_view kKey = "\"cursor\":\"";
  size_t at = body.rfind(kKey);
  if (at == std::string_view::npos)
    return {};
  at += kKey.size();
  size_t end = body.find('"', at);
  if (end == std::string_view::npos)
    return {};
  return std::string(body.substr(at, end - at));
}

/// Percent-encodes a query value (cursors contain ':' and ',').
inline std::string urlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

} // namespace loadgen
