// JSON parsing for tests: one helper instead of a copy per file.
#pragma once

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <string_view>

namespace support {

// Parses `json`; the test fails (REQUIRE) when it is not valid JSON.
inline rapidjson::Document parseJson(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  INFO(json);
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

} // namespace support
