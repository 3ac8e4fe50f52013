// Frame JSON: the one-object-per-event payload every streaming transport carries.
//
// Wire format (compact, keys in this order):
//   hello      {"type":"hello","session":"S","cursor":"C","heartbeat":25}
//              (session omitted when empty)
//   message    {"type":"message","channel":..,"id":..,"event":..,"data":..,"time":..,"cursor":"C"}
//              (the fields of Message::json as rendered at publish, then the cursor after it)
//   heartbeat  {"type":"heartbeat","time":1700000000000}                   (wall clock, ms)
//   gap        {"type":"gap","channel":"CH","requested":"E-5","first_available":"E-9"|null,
//               "reason":"evicted"|"epoch"|"unknown"}    (null when nothing is buffered)
//   closed     {"type":"closed","reason":"R"}
//   deleted    {"type":"deleted","channel":"CH"}
//   reconnect  {"type":"reconnect","cursor":"C","reason":"R"}
#include <cassert>

#include "transport/transport.h"
#include "util/json.h"

namespace holdfast::transport {
namespace {

using util::appendJsonString;

// Appends ,"key":"value".
void appendField(std::string& out, std::string_view key, std::string_view value) {
  out.push_back(',');
  appendJsonString(out, key);
  out.push_back(':');
  appendJsonString(out, value);
}

// "channel":..,"requested":..,"first_available":..|null,"reason":.. (no braces).
void appendGapFields(std::string& out, const hub::Gap& gap) {
  out += "\"channel\":";
  appendJsonString(out, gap.channel);
  appendField(out, "requested", gap.requested);
  if (gap.first_available.empty())
    out += ",\"first_available\":null";
  else
    appendField(out, "first_available", gap.first_available);
  appendField(out, "reason", gap.reason);
}

// The text between the outer braces of a rendered JSON object ("" for "{}").
std::string_view objectFields(std::string_view json) {
  assert(json.size() >= 2 && json.front() == '{' && json.back() == '}');
  if (json.size() < 2)
    return {};
  std::string_view inner = json.substr(1, json.size() - 2);
  if (inner.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return {};
  return inner;
}

} // namespace

std::string helloJson(std::string_view session, std::string_view cursor, int heartbeat_s) {
  std::string out;
  out.reserve(64 + session.size() + cursor.size());
  out += "{\"type\":\"hello\"";
  if (!session.empty())
    appendField(out, "session", session);
  appendField(out, "cursor", cursor);
  out += ",\"heartbeat\":";
  out += std::to_string(heartbeat_s);
  out.push_back('}');
  return out;
}

std::string messageFrameJson(const hub::Message& message, std::string_view cursor) {
  const std::string_view fields = objectFields(message.json);
  std::string out;
  out.reserve(32 + fields.size() + cursor.size());
  out += "{\"type\":\"message\"";
  if (!fields.empty()) {
    out.push_back(',');
    out.append(fields);
  }
  appendField(out, "cursor", cursor);
  out.push_back('}');
  return out;
}

std::string heartbeatJson(int64_t time_ms) {
  return "{\"type\":\"heartbeat\",\"time\":" + std::to_string(time_ms) + "}";
}

std::string gapJson(const hub::Gap& gap) {
  std::string out;
  out.reserve(96 + gap.channel.size() + gap.requested.size() + gap.first_available.size());
  out += "{\"type\":\"gap\",";
  appendGapFields(out, gap);
  out.push_back('}');
  return out;
}

void appendGapObject(std::string& out, const hub::Gap& gap) {
  out.push_back('{');
  appendGapFields(out, gap);
  out.push_back('}');
}

std::string closedJson(std::string_view reason) {
  std::string out = "{\"type\":\"closed\"";
  appendField(out, "reason", reason);
  out.push_back('}');
  return out;
}

std::string deletedJson(std::string_view channel) {
  std::string out = "{\"type\":\"deleted\"";
  appendField(out, "channel", channel);
  out.push_back('}');
  return out;
}

std::string reconnectJson(std::string_view cursor, std::string_view reason) {
  std::string out = "{\"type\":\"reconnect\"";
  appendField(out, "cursor", cursor);
  appendField(out, "reason", reason);
  out.push_back('}');
  return out;
}

} // namespace holdfast::transport
