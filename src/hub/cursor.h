// Cursors: a client's position in one or more channels, "CH:EPOCH-SEQ,CH2:EPOCH-SEQ".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace holdfast::hub {

struct Position {
  std::string channel;
  std::string epoch;
  uint64_t seq = 0; // last message seen; 0 = none yet
  bool operator==(const Position&) const = default;
};

using Cursor = std::vector<Position>;

// True for 1..128 chars of [A-Za-z0-9_.~@-].
bool isValidChannelName(std::string_view name);
// True for 1..32 chars of [A-Za-z0-9_-] (epochs are base64url tokens).
bool isValidEpoch(std::string_view epoch);

// Parses a cursor. Empty input gives an empty cursor. On error returns nullopt and sets `error`
// to a message naming the bad entry. Duplicate channels are an error. `max_entries` bounds size.
std::optional<Cursor> parseCursor(std::string_view text, std::string& error,
                                  size_t max_entries = 64);
std::string formatCursor(const Cursor& cursor);
// Splits "a,b,c" into channel names, validating each; error names the bad one.
std::optional<std::vector<std::string>> parseChannelList(std::string_view text, std::string& error,
                                                         size_t max_channels);

} // namespace holdfast::hub
