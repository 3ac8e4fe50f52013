// Small JSON helpers shared by renderers and handlers: string escaping and validation.
#pragma once

#include <string>
#include <string_view>

namespace holdfast::util {

// Appends `s` as a JSON string literal (with quotes) to `out`. Invalid UTF-8 bytes are replaced
// by U+FFFD so the output is always valid JSON. '/' after '<' is escaped ("<\/") and U+2028/9 are
// escaped, so the text is also safe inside an HTML <script> element.
void appendJsonString(std::string& out, std::string_view s);

// Result of validating a JSON text.
struct JsonCheck {
  bool ok = false;
  std::string error; // RapidJSON's message when !ok
  size_t offset = 0; // byte offset of the error
};

// Validates that `text` is exactly one JSON value (surrounding whitespace allowed).
JsonCheck validateJson(std::string_view text);

} // namespace holdfast::util
