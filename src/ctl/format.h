// holdfastctl's terminal output, pure (no I/O): the channels table and the lines `tail` prints
// from long-poll answers. Unit-tested in tests/unit/ctl/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace holdfast::ctl {

// One row of `holdfastctl channels` (from GET <ctl>/channels).
struct ChannelRow {
  std::string channel;
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t subscribers = 0;
  std::string last_id;      // "-" when the channel has no message
  int64_t last_publish = 0; // unix ms, 0 when never
};

// Appends the rows of one page of GET /channels to `rows` and sets `next` to the page cursor
// (empty on the last page). False with `error` when the body is not that JSON.
bool parseChannelsPage(std::string_view body, std::vector<ChannelRow>& rows, std::string& next,
                       std::string& error);
// A table with a header line, columns padded to their widest cell, numbers right-aligned,
// times as UTC ISO 8601 ("2026-12-01T18:40:00Z").
std::string formatChannelsTable(const std::vector<ChannelRow>& rows);

// One long-poll answer (`{"messages":[...],"cursor":...,"gap":[...],...}`), ready to print.
struct PollAnswer {
  std::vector<std::string> lines; // one per message: "CHANNEL ID EVENT DATA" (or JSON)
  std::vector<std::string> gaps;  // one readable sentence per gap entry
  std::string cursor;             // where to continue
  bool reconnect = false;         // the server is restarting: ask again (after a pause)
  std::string closed;             // non-empty when the server ended the subscription
};

// Parses a long-poll body. `json`: each line is the message object as compact JSON instead of
// the readable form. Text data is printed as is, with newlines shown as "\n" so each message
// stays one line; JSON data as compact JSON. False with `error` on a malformed body.
bool parsePollAnswer(std::string_view body, bool json, PollAnswer& out, std::string& error);

} // namespace holdfast::ctl
