// Channels table and tail lines for holdfastctl (see format.h).
#include "ctl/format.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <ctime>

namespace holdfast::ctl {
namespace {

std::string compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

std::string text(const rapidjson::Value& v, std::string_view key, std::string fallback = "") {
  auto it =
      v.FindMember(rapidjson::Value(key.data(), static_cast<rapidjson::SizeType>(key.size())));
  if (it == v.MemberEnd() || !it->value.IsString())
    return fallback;
  return {it->value.GetString(), it->value.GetStringLength()};
}

uint64_t number(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsUint64() ? it->value.GetUint64() : 0;
}

std::string isoTime(int64_t unix_ms) {
  if (unix_ms <= 0)
    return "-";
  time_t secs = static_cast<time_t>(unix_ms / 1000);
  tm t{};
  gmtime_r(&secs, &t);
  char out[32];
  strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &t);
  return out;
}

// Text with newlines and other control bytes made visible, so a message stays one line.
std::string oneLine(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (static_cast<unsigned char>(c) < 0x20)
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string messageLine(const rapidjson::Value& m, bool json) {
  if (json)
    return compact(m);
  auto data = m.FindMember("data");
  std::string shown = data == m.MemberEnd() ? ""
                      : data->value.IsString()
                          ? oneLine({data->value.GetString(), data->value.GetStringLength()})
                          : compact(data->value);
  return text(m, "channel") + " " + text(m, "id") + " " + text(m, "event", "message") + " " + shown;
}

std::string gapSentence(const rapidjson::Value& g) {
  return "gap in " + text(g, "channel") + ": asked for " + text(g, "requested", "?") +
         ", continuing from " + text(g, "first_available", "?") + " (" +
         text(g, "reason", "unknown") + ")";
}

} // namespace

bool parseChannelsPage(std::string_view body, std::vector<ChannelRow>& rows, std::string& next,
                       std::string& error) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("channels") || !d["channels"].IsArray()) {
    error = "the channel list is not the expected JSON";
    return false;
  }
  for (const auto& c : d["channels"].GetArray()) {
    if (!c.IsObject())
      continue;
    ChannelRow r;
    r.channel = text(c, "channel");
    r.messages = number(c, "messages");
    r.bytes = number(c, "bytes");
    r.subscribers = number(c, "subscribers");
    r.last_id = text(c, "last_id", "-");
    r.last_publish = static_cast<int64_t>(number(c, "last_publish"));
    rows.push_back(std::move(r));
  }
  next = d.HasMember("next") && d["next"].IsString() ? d["next"].GetString() : "";
  return true;
}

std::string formatChannelsTable(const std::vector<ChannelRow>& rows) {
  std::vector<std::vector<std::string>> cells = {
      {"CHANNEL", "MESSAGES", "BYTES", "SUBSCRIBERS", "LAST ID", "LAST PUBLISH"}};
  for (const auto& r : rows)
    cells.push_back({r.channel, std::to_string(r.messages), std::to_string(r.bytes),
                     std::to_string(r.subscribers), r.last_id, isoTime(r.last_publish)});
  std::vector<size_t> width(cells[0].size(), 0);
  for (const auto& row : cells) {
    for (size_t i = 0; i < row.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (size_t r = 0; r < cells.size(); ++r) {
    std::string line;
    for (size_t i = 0; i < cells[r].size(); ++i) {
      const std::string& cell = cells[r][i];
      std::string pad(width[i] - cell.size(), ' ');
      bool numeric = r > 0 && i >= 1 && i <= 3;
      line += i ? "  " : "";
      line += numeric ? pad + cell : cell + pad;
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    out += line + "\n";
  }
  return out;
}

bool parsePollAnswer(std::string_view body, bool json, PollAnswer& out, std::string& error) {
  out = PollAnswer{};
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("messages") || !d["messages"].IsArray()) {
    error = "the long-poll answer is not the expected JSON";
    return false;
  }
  for (const auto& m : d["messages"].GetArray()) {
    if (m.IsObject())
      out.lines.push_back(messageLine(m, json));
  }
  if (d.HasMember("gap") && d["gap"].IsArray()) {
    for (const auto& g : d["gap"].GetArray()) {
      if (g.IsObject())
        out.gaps.push_back(json ? compact(g) : gapSentence(g));
    }
  }
  out.cursor = text(d, "cursor");
  out.reconnect = d.HasMember("reconnect") && d["reconnect"].IsTrue();
  if (d.HasMember("closed"))
    out.closed = d["closed"].IsString() ? d["closed"].GetString() : "closed";
  return true;
}

} // namespace holdfast::ctl
