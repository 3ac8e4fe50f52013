// Publish request validation.
#include "publish/request.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "hub/cursor.h"
#include "hub/message.h"
#include "util/json.h"

namespace holdfast::publish {
namespace {

constexpr const char* kBadEvent = "event must be 1-64 chars of [A-Za-z0-9_.:-]";

Problem badJson(const util::JsonCheck& check) {
  return Problem{400, "bad_json",
                 "invalid JSON body at offset " + std::to_string(check.offset) + ": " +
                     check.error};
}

// One batch entry, or the problem with it (`where` names the item).
std::optional<Problem> parseItem(const rapidjson::Value& v, const std::string& where,
                                 engine::PublishItem& item) {
  if (!v.IsObject() || !v.HasMember("channel") || !v["channel"].IsString() || !v.HasMember("data"))
    return Problem{400, "bad_batch",
                   where + "needs an object with a string \"channel\" and \"data\""};
  item.channel.assign(v["channel"].GetString(), v["channel"].GetStringLength());
  if (!hub::isValidChannelName(item.channel))
    return Problem{400, "bad_channel", where + "invalid channel name \"" + item.channel + "\""};
  if (v.HasMember("event")) {
    const rapidjson::Value& e = v["event"];
    if (!e.IsString() ||
        !hub::isValidEventName(std::string_view(e.GetString(), e.GetStringLength())))
      return Problem{400, "bad_event", where + kBadEvent};
    item.event.assign(e.GetString(), e.GetStringLength());
  }
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v["data"].Accept(w);
  item.data.assign(sb.GetString(), sb.GetSize());
  item.data_is_json = true;
  return std::nullopt;
}

} // namespace

bool isJsonContentType(std::string_view ct) {
  std::string type(ct.substr(0, ct.find(';')));
  while (!type.empty() && type.back() == ' ')
    type.pop_back();
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type == "application/json" || type.ends_with("+json");
}

std::optional<Problem> checkBody(std::string_view body, bool is_json) {
  if (!is_json)
    return std::nullopt;
  util::JsonCheck check = util::validateJson(body);
  return check.ok ? std::nullopt : std::optional<Problem>(badJson(check));
}

std::optional<Problem> parseEvent(const std::string* name, std::string& event) {
  event = "message";
  if (!name)
    return std::nullopt;
  if (!hub::isValidEventName(*name))
    return Problem{400, "bad_event", kBadEvent};
  event = *name;
  return std::nullopt;
}

// The whole text is checked first (depth, UTF-8, one value, no trailing bytes), so the DOM
// parse below cannot recurse deeply or accept what a single publish refuses.
std::optional<Problem> parseBatch(std::string_view body, std::vector<engine::PublishItem>& items) {
  if (auto bad = checkBody(body, true))
    return bad;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(body.data(),
                                                                                    body.size());
  if (doc.HasParseError() || !doc.IsArray() || doc.Empty())
    return Problem{400, "bad_batch",
                   "batch publish needs a non-empty JSON array of {channel,event,data}"};
  items.clear();
  items.reserve(doc.Size());
  for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
    engine::PublishItem item;
    if (auto bad = parseItem(doc[i], "item " + std::to_string(i) + ": ", item))
      return bad;
    items.push_back(std::move(item));
  }
  return std::nullopt;
}

bool globMatch(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

bool openToPages(const std::vector<std::string>& patterns,
                 const std::vector<std::string>& channels) {
  auto open = [&](const std::string& ch) {
    return std::any_of(patterns.begin(), patterns.end(),
                       [&](const std::string& pattern) { return globMatch(pattern, ch); });
  };
  return !channels.empty() && std::all_of(channels.begin(), channels.end(), open);
}

} // namespace holdfast::publish
