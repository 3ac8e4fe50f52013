// One-shot response bodies for longpoll, poll and jsonp.
//
// Wire format (compact, keys in this order, optional keys only when set):
//   {"messages":[<Message::json>,...],"cursor":"C","gap":[{"channel","requested",
//    "first_available","reason"},...],"session":"S","heartbeat":true,"more":true,
//    "reconnect":true,"closed":"<reason>"}
// "messages" is always present (maybe []); "gap" only when non-empty; "session"/"closed" only
// when non-empty; the booleans only when true.
// jsonp:  "/**/<callback>(<escapeForScript(body)>);" — the leading comment defuses content
// sniffing of the first bytes (Rosetta Flash), the escaping closes the U+2028/9 hole of old JS
// engines and any "</script>" in the data.
#include <cassert>

#include "transport/transport.h"
#include "util/json.h"

namespace holdfast::transport {
namespace {

size_t estimateSize(const PollBody& body) {
  size_t n = 96 + body.cursor.size() + body.session.size() + body.closed.size();
  if (body.messages != nullptr) {
    for (const auto& m : *body.messages)
      n += m->json.size() + 1;
  }
  if (body.gaps != nullptr)
    n += body.gaps->size() * 128;
  return n;
}

void appendMessages(std::string& out, const std::vector<hub::MessagePtr>* messages) {
  out += "{\"messages\":[";
  if (messages != nullptr) {
    for (size_t i = 0; i < messages->size(); ++i) {
      if (i != 0)
        out.push_back(',');
      out += (*messages)[i]->json;
    }
  }
  out.push_back(']');
}

void appendGaps(std::string& out, const std::vector<hub::Gap>* gaps) {
  if (gaps == nullptr || gaps->empty())
    return;
  out += ",\"gap\":[";
  for (size_t i = 0; i < gaps->size(); ++i) {
    if (i != 0)
      out.push_back(',');
    appendGapObject(out, (*gaps)[i]);
  }
  out.push_back(']');
}

void appendFlags(std::string& out, const PollBody& body) {
  if (!body.session.empty()) {
    out += ",\"session\":";
    util::appendJsonString(out, body.session);
  }
  if (body.heartbeat)
    out += ",\"heartbeat\":true";
  if (body.more)
    out += ",\"more\":true";
  if (body.reconnect)
    out += ",\"reconnect\":true";
  if (!body.closed.empty()) {
    out += ",\"closed\":";
    util::appendJsonString(out, body.closed);
  }
}

std::string renderJson(const PollBody& body) {
  std::string out;
  out.reserve(estimateSize(body));
  appendMessages(out, body.messages);
  out += ",\"cursor\":";
  util::appendJsonString(out, body.cursor);
  appendGaps(out, body.gaps);
  appendFlags(out, body);
  out.push_back('}');
  return out;
}

} // namespace

std::string renderPollBody(const Context& ctx, const PollBody& body) {
  std::string json = renderJson(body);
  if (ctx.kind != Kind::kJsonp)
    return json;
  assert(ctx.callback.empty() || isValidCallback(ctx.callback));
  const std::string_view callback =
      ctx.callback.empty() ? std::string_view("holdfast") : std::string_view(ctx.callback);
  std::string out;
  out.reserve(json.size() + callback.size() + 16);
  out += "/**/";
  out += callback;
  out.push_back('(');
  appendEscapedForScript(out, json);
  out += ");";
  return out;
}

} // namespace holdfast::transport
