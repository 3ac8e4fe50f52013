// Cursor and channel-list parsing. Input is untrusted (query strings, Last-Event-ID): every
// problem is reported as an error message naming the bad entry, never asserted.
#include "hub/cursor.h"

#include <algorithm>
#include <charconv>
#include <unordered_set>

#include "util/base64url.h"

namespace holdfast::hub {
namespace {

constexpr size_t kMaxChannelName = 128;
constexpr size_t kMaxEpoch = 32;
constexpr size_t kMaxQuoted = 64; // longest entry text echoed back in an error

bool isAlnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool isChannelChar(char c) {
  return isAlnum(c) || c == '_' || c == '.' || c == '~' || c == '@' || c == '-';
}

template <typename Pred> bool allOf(std::string_view s, Pred pred) {
  for (char c : s) {
    if (!pred(c))
      return false;
  }
  return true;
}

size_t countEntries(std::string_view text) {
  return 1 + static_cast<size_t>(std::ranges::count(text, ','));
}

// Splits on ',' keeping empty pieces ("a,,b" has three entries, the second empty).
std::vector<std::string_view> splitCommas(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma - start));
    if (comma == std::string_view::npos)
      return parts;
    start = comma + 1;
  }
}

// `what N ("text"): why` with the entry text cut short so errors stay small.
std::string entryError(std::string_view what, size_t index, std::string_view text,
                       std::string_view why) {
  std::string out(what);
  out += ' ';
  out += std::to_string(index);
  out += " (\"";
  out += text.substr(0, kMaxQuoted);
  if (text.size() > kMaxQuoted)
    out += "...";
  out += "\"): ";
  out += why;
  return out;
}

constexpr std::string_view kBadChannel = "invalid channel name (1-128 chars of A-Za-z0-9_.~@-)";
constexpr std::string_view kBadEpoch = "invalid epoch (1-32 chars of A-Za-z0-9_-)";

// Parses one "CHANNEL:EPOCH-SEQ" entry; returns the reason on failure, empty on success.
std::string_view parseEntry(std::string_view entry, Position& out) {
  if (entry.empty())
    return "empty entry";
  size_t colon = entry.find(':');
  if (colon == std::string_view::npos)
    return "missing ':' between channel and id";
  std::string_view channel = entry.substr(0, colon);
  std::string_view id = entry.substr(colon + 1);
  if (!isValidChannelName(channel))
    return kBadChannel;
  // The epoch itself may contain '-' (base64url), the decimal seq cannot: split at the last.
  size_t dash = id.rfind('-');
  if (dash == std::string_view::npos || dash + 1 == id.size())
    return "missing sequence";
  std::string_view epoch = id.substr(0, dash);
  std::string_view seq = id.substr(dash + 1);
  if (!isValidEpoch(epoch))
    return kBadEpoch;
  // Digits only: from_chars alone would accept nothing else either, but say which problem.
  if (!allOf(seq, [](char c) { return c >= '0' && c <= '9'; }))
    return "sequence is not a decimal number";
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(seq.data(), seq.data() + seq.size(), value);
  if (ec == std::errc::result_out_of_range)
    return "sequence out of range (uint64)";
  if (ec != std::errc() || end != seq.data() + seq.size())
    return "sequence is not a decimal number";
  out = Position{std::string(channel), std::string(epoch), value};
  return {};
}

} // namespace

bool isValidChannelName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxChannelName && allOf(name, isChannelChar);
}

bool isValidEpoch(std::string_view epoch) {
  return !epoch.empty() && epoch.size() <= kMaxEpoch && util::isBase64url(epoch);
}

std::optional<Cursor> parseCursor(std::string_view text, std::string& error, size_t max_entries) {
  Cursor cursor;
  if (text.empty())
    return cursor;
  // Counted before splitting so a hostile list of commas costs no memory.
  if (size_t n = countEntries(text); n > max_entries) {
    error = "cursor has " + std::to_string(n) + " entries, at most " + std::to_string(max_entries) +
            " allowed";
    return std::nullopt;
  }
  std::vector<std::string_view> entries = splitCommas(text);
  std::unordered_set<std::string_view> seen;
  for (size_t i = 0; i < entries.size(); ++i) {
    Position p;
    std::string_view why = parseEntry(entries[i], p);
    if (why.empty() && !seen.insert(entries[i].substr(0, entries[i].find(':'))).second)
      why = "channel appears twice";
    if (!why.empty()) {
      error = entryError("cursor entry", i + 1, entries[i], why);
      return std::nullopt;
    }
    cursor.push_back(std::move(p));
  }
  return cursor;
}

std::string formatCursor(const Cursor& cursor) {
  std::string out;
  for (const Position& p : cursor) {
    if (!out.empty())
      out += ',';
    out += p.channel;
    out += ':';
    out += p.epoch;
    out += '-';
    out += std::to_string(p.seq);
  }
  return out;
}

std::optional<std::vector<std::string>> parseChannelList(std::string_view text, std::string& error,
                                                         size_t max_channels) {
  if (text.empty()) {
    error = "no channel given";
    return std::nullopt;
  }
  if (size_t n = countEntries(text); n > max_channels) {
    error =
        std::to_string(n) + " channels given, at most " + std::to_string(max_channels) + " allowed";
    return std::nullopt;
  }
  std::vector<std::string_view> names = splitCommas(text);
  std::vector<std::string> out;
  std::unordered_set<std::string_view> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    std::string_view why;
    if (names[i].empty())
      why = "empty channel name";
    else if (!isValidChannelName(names[i]))
      why = kBadChannel;
    else if (!seen.insert(names[i]).second)
      why = "channel listed twice"; // rejected rather than silently merged: a client bug
    if (!why.empty()) {
      error = entryError("channel", i + 1, names[i], why);
      return std::nullopt;
    }
    out.emplace_back(names[i]);
  }
  return out;
}

} // namespace holdfast::hub
