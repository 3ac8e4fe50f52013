// Publishing on the control socket: one or several channels, and batches.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "hub/cursor.h"
#include "server/control.h"
#include "server/server.h"
#include "transport/transport.h"
#include "util/json.h"

namespace holdfast::server {
namespace {

// '*' matches any run of characters. Iterative with one backtrack point: linear in practice
// and never exponential, whatever the number of '*'s.
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

bool openToPages(const Server& server, const std::vector<std::string>& channels) {
  for (const auto& ch : channels) {
    bool open = false;
    for (const auto& pattern : server.config().client_publish)
      open = open || globMatch(pattern, ch);
    if (!open)
      return false;
  }
  return !channels.empty();
}

bool isJsonContentType(std::string_view ct) {
  auto semi = ct.find(';');
  std::string type(ct.substr(0, semi));
  while (!type.empty() && type.back() == ' ')
    type.pop_back();
  for (auto& ch : type)
    ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
  return type == "application/json" || type.ends_with("+json");
}

void appendPublishEntry(std::string& out, const std::string& channel, const hub::PublishResult& r) {
  out += "{\"channel\":";
  util::appendJsonString(out, channel);
  out += ",\"id\":";
  util::appendJsonString(out, r.message->id());
  out += ",\"subscribers\":" + std::to_string(r.subscribers) + "}";
}

struct BatchItem {
  std::string channel;
  std::string event;
  std::string data; // JSON text of the item's data value (compact)
};

// Validates the whole batch before publishing anything (all or nothing).
bool parseBatch(Ctl& c, std::vector<BatchItem>& items) {
  rapidjson::Document doc;
  doc.Parse(c.request.in->body.data(), c.request.in->body.size());
  if (doc.HasParseError()) {
    c.error(400, "bad_json",
            "invalid JSON body at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
                rapidjson::GetParseError_En(doc.GetParseError()));
    return false;
  }
  if (!doc.IsArray() || doc.Empty()) {
    c.error(400, "bad_batch", "batch publish needs a non-empty JSON array of {channel,event,data}");
    return false;
  }
  for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
    const auto& v = doc[i];
    std::string where = "item " + std::to_string(i) + ": ";
    if (!v.IsObject() || !v.HasMember("channel") || !v["channel"].IsString() ||
        !v.HasMember("data")) {
      c.error(400, "bad_batch", where + "needs an object with a string \"channel\" and \"data\"");
      return false;
    }
    BatchItem item;
    item.channel = v["channel"].GetString();
    if (!hub::isValidChannelName(item.channel)) {
      c.error(400, "bad_channel", where + "invalid channel name \"" + item.channel + "\"");
      return false;
    }
    item.event = "message";
    if (v.HasMember("event")) {
      if (!v["event"].IsString() || !transport::isValidEventName(v["event"].GetString())) {
        c.error(400, "bad_event", where + "event must be 1-64 chars of [A-Za-z0-9_.:-]");
        return false;
      }
      item.event = v["event"].GetString();
    }
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    v["data"].Accept(w);
    item.data.assign(sb.GetString(), sb.GetSize());
    items.push_back(std::move(item));
  }
  return true;
}

// The history log (state_dir journal) could not store the message: it was not published, and
// neither was anything after it in this request (earlier channels or items were).
void unavailable(Ctl& c, const std::string& channel, const std::string& error) {
  c.error(503, "unavailable",
          "history could not be stored, " + channel + " and the rest were not published: " + error,
          "Retry-After: 1\r\n");
}

} // namespace

void publish(Ctl& c, std::string_view channel_list) {
  std::string error;
  auto channels =
      hub::parseChannelList(channel_list, error, c.server.config().max_channels_per_request);
  if (!channels) {
    c.error(400, "bad_channel", error);
    return;
  }
  if (!openToPages(c.server, *channels) && !authorize(c))
    return;
  std::string event = "message";
  if (const std::string* e = c.query.get("event")) {
    if (!transport::isValidEventName(*e)) {
      c.error(400, "bad_event", "event must be 1-64 chars of [A-Za-z0-9_.:-]");
      return;
    }
    event = *e;
  }
  bool is_json = isJsonContentType(c.request.in->content_type);
  if (is_json) {
    util::JsonCheck check = util::validateJson(c.request.in->body);
    if (!check.ok) {
      c.error(400, "bad_json",
              "invalid JSON body at offset " + std::to_string(check.offset) + ": " + check.error);
      return;
    }
  }
  // All or nothing: a message costs the most on the longest channel name; if it fits there it
  // fits everywhere, so no channel is published when one would be refused.
  if (channels->size() > 1) {
    const std::string& longest = *std::max_element(
        channels->begin(), channels->end(),
        [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
    hub::MessagePtr probe = hub::makeMessage(longest, std::string(32, 'e'), UINT64_MAX, event,
                                             c.request.in->body, is_json, 0);
    const hub::Limits& limits = c.server.hub().limits();
    if (probe->cost() > limits.max_bytes || probe->cost() > limits.memory_limit) {
      c.error(507, "too_large",
              "message of " + std::to_string(probe->cost()) +
                  " bytes exceeds buffer_bytes or memory_limit; nothing was published");
      return;
    }
  }
  std::string entries;
  size_t delivered = 0;
  for (const auto& ch : *channels) {
    hub::PublishResult r = c.server.hub().publish(ch, event, c.request.in->body, is_json);
    if (r.status == hub::PublishResult::Status::kUnavailable) {
      unavailable(c, ch, r.error);
      return;
    }
    if (r.status != hub::PublishResult::Status::kOk) {
      c.error(507, "too_large", r.error);
      return;
    }
    delivered += r.subscribers;
    if (!entries.empty())
      entries += ',';
    appendPublishEntry(entries, ch, r);
  }
  std::string body;
  if (channels->size() == 1)
    body = entries.substr(0, entries.size() - 1); // the single entry, still open
  else
    body = "{\"results\":[" + entries + "]";
  appendPiggyback(c, body, c.query.get("session"));
  body += "}\n";
  c.json(delivered > 0 ? 201 : 202, body);
}

void publishBatch(Ctl& c) {
  if (!authorize(c))
    return;
  std::vector<BatchItem> items;
  if (!parseBatch(c, items))
    return;
  std::string entries;
  size_t delivered = 0;
  for (const auto& item : items) {
    hub::PublishResult r = c.server.hub().publish(item.channel, item.event, item.data, true);
    if (r.status == hub::PublishResult::Status::kUnavailable) {
      unavailable(c, item.channel, r.error);
      return;
    }
    if (!entries.empty())
      entries += ',';
    if (r.status != hub::PublishResult::Status::kOk) {
      entries += "{\"channel\":";
      util::appendJsonString(entries, item.channel);
      entries += ",\"error\":\"too_large\",\"message\":";
      util::appendJsonString(entries, r.error);
      entries += '}';
      continue;
    }
    delivered += r.subscribers;
    appendPublishEntry(entries, item.channel, r);
  }
  std::string body = "{\"results\":[" + entries + "]";
  appendPiggyback(c, body, c.query.get("session"));
  body += "}\n";
  c.json(delivered > 0 ? 201 : 202, body);
}

} // namespace holdfast::server
