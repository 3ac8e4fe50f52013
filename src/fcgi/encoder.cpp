// FastCGI record encoding: headers, padded streams, END_REQUEST, management replies, and the
// client-side records used by holdfastctl and the tests.
#include "fcgi/encoder.h"

#include <fastcgi.h>

#include <algorithm>
#include <cassert>
#include <cstring>

namespace holdfast::fcgi {
namespace {

static_assert(kMaxContent == FCGI_MAX_LENGTH);
static_assert(sizeof(FCGI_Header) == FCGI_HEADER_LEN);

constexpr char kZeros[8] = {};

template <typename Body> void appendBytes(std::string& out, const Body& body) {
  out.append(reinterpret_cast<const char*>(&body), sizeof body);
}

// One record whose content fits in a record (<= kMaxContent), padded to a multiple of 8.
void appendRecord(std::string& out, uint8_t type, uint16_t id, std::string_view content) {
  assert(content.size() <= kMaxContent);
  const uint8_t padding = paddingFor(content.size());
  const auto header = recordHeader(type, id, static_cast<uint16_t>(content.size()), padding);
  out.append(reinterpret_cast<const char*>(header.data()), header.size());
  out.append(content);
  out.append(kZeros, padding);
}

void appendLength(std::string& out, size_t length) {
  assert(length <= 0x7fffffffu && "a name-value length has 31 bits");
  if (length < 0x80) {
    out.push_back(static_cast<char>(length));
    return;
  }
  out.push_back(static_cast<char>(0x80 | ((length >> 24) & 0x7f)));
  out.push_back(static_cast<char>((length >> 16) & 0xff));
  out.push_back(static_cast<char>((length >> 8) & 0xff));
  out.push_back(static_cast<char>(length & 0xff));
}

std::string encodePairs(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string encoded;
  for (const auto& [name, value] : pairs)
    appendNameValue(encoded, name, value);
  return encoded;
}

} // namespace

std::array<unsigned char, 8> recordHeader(uint8_t type, uint16_t id, uint16_t content_length,
                                          uint8_t padding) {
  FCGI_Header h{};
  h.version = FCGI_VERSION_1;
  h.type = type;
  h.requestIdB1 = static_cast<unsigned char>(id >> 8);
  h.requestIdB0 = static_cast<unsigned char>(id & 0xff);
  h.contentLengthB1 = static_cast<unsigned char>(content_length >> 8);
  h.contentLengthB0 = static_cast<unsigned char>(content_length & 0xff);
  h.paddingLength = padding;
  std::array<unsigned char, 8> bytes;
  std::memcpy(bytes.data(), &h, sizeof h);
  return bytes;
}

uint8_t paddingFor(size_t content_length) {
  return static_cast<uint8_t>((8 - content_length % 8) % 8);
}

void appendStream(std::string& out, uint8_t type, uint16_t id, std::string_view data) {
  if (data.empty()) {
    appendRecord(out, type, id, {});
    return;
  }
  const size_t records = (data.size() + kMaxContent - 1) / kMaxContent;
  out.reserve(out.size() + data.size() + records * (FCGI_HEADER_LEN + 8));
  while (!data.empty()) {
    const size_t n = std::min(data.size(), kMaxContent);
    appendRecord(out, type, id, data.substr(0, n));
    data.remove_prefix(n);
  }
}

void appendStdout(std::string& out, uint16_t id, std::string_view data) {
  if (!data.empty())
    appendStream(out, FCGI_STDOUT, id, data);
}

void appendEndOfStdout(std::string& out, uint16_t id) {
  appendRecord(out, FCGI_STDOUT, id, {});
}

void appendEndRequest(std::string& out, uint16_t id, uint32_t app_status, uint8_t protocol_status) {
  FCGI_EndRequestBody body{};
  body.appStatusB3 = static_cast<unsigned char>((app_status >> 24) & 0xff);
  body.appStatusB2 = static_cast<unsigned char>((app_status >> 16) & 0xff);
  body.appStatusB1 = static_cast<unsigned char>((app_status >> 8) & 0xff);
  body.appStatusB0 = static_cast<unsigned char>(app_status & 0xff);
  body.protocolStatus = protocol_status;
  const auto header = recordHeader(FCGI_END_REQUEST, id, sizeof body, 0);
  out.append(reinterpret_cast<const char*>(header.data()), header.size());
  appendBytes(out, body);
}

void appendUnknownType(std::string& out, uint8_t type) {
  FCGI_UnknownTypeBody body{};
  body.type = type;
  const auto header = recordHeader(FCGI_UNKNOWN_TYPE, FCGI_NULL_REQUEST_ID, sizeof body, 0);
  out.append(reinterpret_cast<const char*>(header.data()), header.size());
  appendBytes(out, body);
}

// A management reply is one record: the owner answers only the few FCGI_* variables, far below
// kMaxContent. appendStream keeps even an oversized reply well-formed (several records).
void appendGetValuesResult(std::string& out,
                           const std::vector<std::pair<std::string, std::string>>& values) {
  appendStream(out, FCGI_GET_VALUES_RESULT, FCGI_NULL_REQUEST_ID, encodePairs(values));
}

void appendBeginRequest(std::string& out, uint16_t id, uint16_t role, bool keep_conn) {
  FCGI_BeginRequestBody body{};
  body.roleB1 = static_cast<unsigned char>(role >> 8);
  body.roleB0 = static_cast<unsigned char>(role & 0xff);
  body.flags = keep_conn ? FCGI_KEEP_CONN : 0;
  const auto header = recordHeader(FCGI_BEGIN_REQUEST, id, sizeof body, 0);
  out.append(reinterpret_cast<const char*>(header.data()), header.size());
  appendBytes(out, body);
}

void appendNameValue(std::string& out, std::string_view name, std::string_view value) {
  appendLength(out, name.size());
  appendLength(out, value.size());
  out.append(name);
  out.append(value);
}

void appendParams(std::string& out, uint16_t id,
                  const std::vector<std::pair<std::string, std::string>>& params) {
  const std::string encoded = encodePairs(params);
  if (!encoded.empty())
    appendStream(out, FCGI_PARAMS, id, encoded);
  appendRecord(out, FCGI_PARAMS, id, {});
}

void appendAbortRequest(std::string& out, uint16_t id) {
  appendRecord(out, FCGI_ABORT_REQUEST, id, {});
}

} // namespace holdfast::fcgi
