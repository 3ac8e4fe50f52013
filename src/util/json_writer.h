// JSON output built with RapidJSON's Writer (structure, commas, nesting), with strings escaped
// by util::appendJsonString (one home for the escaping rules: invalid UTF-8 replaced, "</" and
// U+2028/9 escaped) and already-rendered JSON (message objects) embedded as is.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "util/json.h"

namespace holdfast::util {

class JsonWriter {
public:
  JsonWriter() : writer_(buffer_) {}

  JsonWriter& startObject() { return ok(writer_.StartObject()); }
  JsonWriter& endObject() { return ok(writer_.EndObject()); }
  JsonWriter& startArray() { return ok(writer_.StartArray()); }
  JsonWriter& endArray() { return ok(writer_.EndArray()); }
  // An object key; keys are our own ASCII names.
  JsonWriter& key(std::string_view name) {
    return ok(writer_.Key(name.data(), static_cast<rapidjson::SizeType>(name.size())));
  }
  JsonWriter& string(std::string_view text) {
    scratch_.clear();
    appendJsonString(scratch_, text);
    return ok(writer_.RawValue(scratch_.data(), scratch_.size(), rapidjson::kStringType));
  }
  JsonWriter& uint(uint64_t value) { return ok(writer_.Uint64(value)); }
  JsonWriter& boolean(bool value) { return ok(writer_.Bool(value)); }
  JsonWriter& null() { return ok(writer_.Null()); }
  // Embeds `json`, which must be one valid JSON value (a rendered message object).
  JsonWriter& raw(std::string_view json) {
    return ok(writer_.RawValue(json.data(), json.size(), rapidjson::kObjectType));
  }
  // The text so far plus a newline (the house style for response bodies).
  std::string finish() const { return std::string(buffer_.GetString(), buffer_.GetSize()) + "\n"; }

private:
  JsonWriter& ok(bool) { return *this; } // Writer fails only on misuse, caught by tests
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
  std::string scratch_;
};

} // namespace holdfast::util
