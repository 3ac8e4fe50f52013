// Publish requests, pure: body validation (single and batch), event names, and which channels
// pages may publish to. No I/O; the control handlers turn a Problem into an error response.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"

namespace holdfast::publish {

// Why a publish request is refused: HTTP status, error code, message.
struct Problem {
  int status = 400;
  std::string code;
  std::string message;
};

// application/json or any */*+json type (parameters and letter case ignored).
bool isJsonContentType(std::string_view content_type);

// A single publish body: with `is_json` it must be exactly one JSON value (valid UTF-8, at most
// 128 levels deep); other bodies are stored as text.
std::optional<Problem> checkBody(std::string_view body, bool is_json);

// "?event=NAME": nullptr keeps "message".
std::optional<Problem> parseEvent(const std::string* name, std::string& event);

// A batch body: a non-empty JSON array of {"channel", "event"?, "data"}. Validates everything
// before returning any item (all or nothing): the body as a JSON text like checkBody, every
// channel name and event. Each item's data is the compact JSON of its value.
std::optional<Problem> parseBatch(std::string_view body, std::vector<engine::PublishItem>& items);

// '*' matches any run of characters (linear time, never exponential).
bool globMatch(std::string_view pattern, std::string_view text);
// True when every channel matches one of the client_publish patterns (and there is one).
bool openToPages(const std::vector<std::string>& patterns,
                 const std::vector<std::string>& channels);

} // namespace holdfast::publish
