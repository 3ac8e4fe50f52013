// Splitting stream bodies back into frames for assertions: SSE events and ndjson lines.
// Header-only.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <vector>

namespace holdfast::support {

struct SseEvent {
  std::string id;    // empty when the event had no id: line
  std::string event; // empty when no event: line
  std::string data;  // data: lines joined with '\n'
  std::string retry; // the retry: value, when the block had one
};

// Parses complete SSE events (blocks ended by a blank line); a trailing partial block is
// ignored, as EventSource would until it completes.
inline std::vector<SseEvent> sseEvents(std::string_view text) {
  std::vector<SseEvent> events;
  SseEvent current;
  bool any = false;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    if (eol == std::string_view::npos)
      break;
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol + 1);
    if (line.empty()) {
      if (any)
        events.push_back(current);
      current = SseEvent{};
      any = false;
      continue;
    }
    any = true;
    auto field = [&](std::string_view name) -> bool { return line.starts_with(name); };
    if (field("id: "))
      current.id = line.substr(4);
    else if (field("event: "))
      current.event = line.substr(7);
    else if (field("retry: "))
      current.retry = line.substr(7);
    else if (field("data: ")) {
      if (!current.data.empty())
        current.data += '\n';
      current.data += line.substr(6);
    }
  }
  return events;
}

// Complete lines of an ndjson body.
inline std::vector<std::string> lines(std::string_view text) {
  std::vector<std::string> out;
  size_t eol;
  while ((eol = text.find('\n')) != std::string_view::npos) {
    out.emplace_back(text.substr(0, eol));
    text.remove_prefix(eol + 1);
  }
  return out;
}

inline rapidjson::Document parseJson(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  return doc;
}

} // namespace holdfast::support
