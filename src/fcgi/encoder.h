// FastCGI record encoding (both directions: responder output, and client input for holdfastctl
// and tests). Pure functions appending bytes to a std::string.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace holdfast::fcgi {

constexpr size_t kMaxContent = 65535;

// The 8-byte record header for `content_length` bytes of content followed by `padding` bytes.
std::array<unsigned char, 8> recordHeader(uint8_t type, uint16_t id, uint16_t content_length,
                                          uint8_t padding);
// Padding that brings `content_length` to a multiple of 8.
uint8_t paddingFor(size_t content_length);

// Appends `data` as one or more records of `type` (split at 65535 bytes, padded to 8). An empty
// `data` appends one empty record (the stream terminator).
void appendStream(std::string& out, uint8_t type, uint16_t id, std::string_view data);
// STDOUT records for `data`; empty data appends nothing (use appendEndOfStdout for the end).
void appendStdout(std::string& out, uint16_t id, std::string_view data);
void appendEndOfStdout(std::string& out, uint16_t id);
void appendEndRequest(std::string& out, uint16_t id, uint32_t app_status, uint8_t protocol_status);
void appendUnknownType(std::string& out, uint8_t type);
void appendGetValuesResult(std::string& out,
                           const std::vector<std::pair<std::string, std::string>>& values);

// Client side.
void appendBeginRequest(std::string& out, uint16_t id, uint16_t role, bool keep_conn);
void appendNameValue(std::string& out, std::string_view name, std::string_view value);
void appendParams(std::string& out, uint16_t id,
                  const std::vector<std::pair<std::string, std::string>>& params); // + terminator
void appendAbortRequest(std::string& out, uint16_t id);

} // namespace holdfast::fcgi
