// Builds published messages and renders their JSON object once, at publish time.
#include "hub/message.h"

#include <algorithm>

#include <malloc.h>

#include "util/json.h"

namespace holdfast::hub {
namespace {

bool isJsonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Trims JSON insignificant whitespace around a value: a trailing newline from `curl -d @file`
// would otherwise end up inside every rendering. The value itself is kept byte for byte.
std::string_view trimJson(std::string_view text) {
  while (!text.empty() && isJsonSpace(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && isJsonSpace(text.back()))
    text.remove_suffix(1);
  return text;
}

// {"channel":"..","id":"EPOCH-SEQ","event":"..","data":<data>,"time":<ms>}
// The fixed text of the object (keys, quotes, braces: 49 bytes) plus a 20-digit seq, a '-' and
// a 20-digit time, rounded up.
constexpr size_t kJsonFrame = 96;

std::string renderJson(const Message& m, std::string_view data, bool data_is_json) {
  std::string out;
  out.reserve(kJsonFrame + m.channel.size() + m.epoch.size() + m.event.size() + data.size());
  out += "{\"channel\":";
  util::appendJsonString(out, m.channel);
  out += ",\"id\":";
  util::appendJsonString(out, m.id());
  out += ",\"event\":";
  util::appendJsonString(out, m.event);
  out += ",\"data\":";
  std::string_view value = trimJson(data);
  // The caller validated JSON bodies; an empty one cannot be valid JSON, so it falls back to a
  // string rather than producing a broken object.
  if (data_is_json && !value.empty())
    out += value;
  else
    util::appendJsonString(out, data);
  out += ",\"time\":";
  out += std::to_string(m.time_ms);
  out += '}';
  // Escaping a non-JSON body can outgrow the reservation, and the string then doubles its
  // capacity: keep only what the message needs, it is buffered for a long time (and a copy,
  // as restore() makes, then costs the same).
  out.shrink_to_fit();
  return out;
}

// Heap bytes behind `s`: none inside the small-string buffer, else the chunk malloc handed out
// and its size word.
size_t heapBytes(const std::string& s) {
  static const size_t kInline = std::string().capacity();
  if (s.capacity() <= kInline)
    return 0;
  return malloc_usable_size(const_cast<char*>(s.data())) + sizeof(size_t);
}

// make_shared's one chunk: the control block (vtable pointer, two counts) and the Message, with
// the chunk's size word, rounded to malloc's 16-byte granule.
constexpr size_t kBlockBytes =
    (sizeof(Message) + 2 * sizeof(void*) + sizeof(size_t) + 15) / 16 * 16;

} // namespace

MessagePtr makeMessage(std::string channel, std::string epoch, uint64_t seq, std::string event,
                       std::string_view data, bool data_is_json, int64_t time_ms, int64_t mono_ms,
                       uint64_t order) {
  auto m = std::make_shared<Message>();
  m->channel = std::move(channel);
  m->epoch = std::move(epoch);
  m->seq = seq;
  m->event = event.empty() ? std::string("message") : std::move(event);
  m->time_ms = time_ms;
  m->mono_ms = mono_ms;
  m->order = order;
  m->json = renderJson(*m, data, data_is_json);
  return m;
}

size_t Message::cost() const {
  return kBlockBytes + heapBytes(channel) + heapBytes(epoch) + heapBytes(event) + heapBytes(json);
}

bool isValidEventName(std::string_view name) {
  auto allowed = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == ':' || c == '-';
  };
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), allowed);
}

} // namespace holdfast::hub
