// Parsing script replies (pure).
#include "redis/reply.h"

#include <charconv>

#include "hub/cursor.h"

namespace holdfast::redis {
namespace {

std::string_view text(const redisReply* r) {
  return std::string_view(r->str, r->len);
}

// Null and error replies are failures with a message; otherwise true.
bool usable(const redisReply* r, std::string& error) {
  if (!r) {
    error = "redis connection lost";
    return false;
  }
  if (r->type == REDIS_REPLY_ERROR) {
    error = "redis error: " + std::string(text(r));
    return false;
  }
  return true;
}

bool isArray(const redisReply* r, size_t n) {
  return r && r->type == REDIS_REPLY_ARRAY && r->elements == n && r->element;
}

std::optional<uint64_t> unsignedOf(const redisReply* r) {
  if (r && r->type == REDIS_REPLY_INTEGER && r->integer >= 0)
    return static_cast<uint64_t>(r->integer);
  return std::nullopt;
}

std::optional<std::string> epochOf(const redisReply* r) {
  if (r && r->type == REDIS_REPLY_STRING && hub::isValidEpoch(text(r)))
    return std::string(text(r));
  return std::nullopt;
}

template <typename T> std::optional<T> number(std::string_view s) {
  T value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size())
    return std::nullopt;
  return value;
}

// The value of field `name` in a stream entry's flat [k1, v1, k2, v2, ...] list.
std::optional<std::string_view> field(const redisReply* fields, std::string_view name) {
  for (size_t i = 0; i + 1 < fields->elements; i += 2) {
    const redisReply* k = fields->element[i];
    const redisReply* v = fields->element[i + 1];
    if (k && v && k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING && text(k) == name)
      return text(v);
  }
  return std::nullopt;
}

// A stream entry [ "SEQ-0", [fields...] ] as a message of `channel`/`epoch`.
hub::MessagePtr entryMessage(std::string_view channel, const std::string& epoch,
                             const redisReply* e) {
  if (!isArray(e, 2) || !e->element[0] || e->element[0]->type != REDIS_REPLY_STRING ||
      !e->element[1] || e->element[1]->type != REDIS_REPLY_ARRAY)
    return nullptr;
  std::string_view id = text(e->element[0]);
  auto seq = number<uint64_t>(id.substr(0, id.find('-')));
  auto event = field(e->element[1], "e");
  auto data = field(e->element[1], "d");
  auto json = field(e->element[1], "j");
  auto time = field(e->element[1], "t");
  auto ms = time ? number<int64_t>(*time) : std::nullopt;
  if (!seq || *seq == 0 || !event || !hub::isValidEventName(*event) || !data || !json || !ms)
    return nullptr;
  return hub::makeMessage(std::string(channel), epoch, *seq, std::string(*event), *data,
                          *json == "1", *ms);
}

// The entries of a read reply, each seq above the last; false on any malformed entry.
bool entries(std::string_view channel, const redisReply* list, ChannelRead& out) {
  if (!list || list->type != REDIS_REPLY_ARRAY)
    return false;
  for (size_t i = 0; i < list->elements; ++i) {
    hub::MessagePtr m = entryMessage(channel, out.epoch, list->element[i]);
    if (!m || m->seq < out.from || m->seq > out.last ||
        (!out.messages.empty() && m->seq <= out.messages.back()->seq))
      return false;
    out.messages.push_back(std::move(m));
  }
  return true;
}

} // namespace

std::optional<PublishReply> parsePublish(const redisReply* r, std::string& error) {
  if (!usable(r, error))
    return std::nullopt;
  if (!isArray(r, 5)) {
    error = "malformed publish reply";
    return std::nullopt;
  }
  auto epoch = epochOf(r->element[0]);
  auto seq = unsignedOf(r->element[1]);
  auto receivers = unsignedOf(r->element[2]);
  auto created = unsignedOf(r->element[3]);
  auto evicted = unsignedOf(r->element[4]);
  if (!epoch || !seq || *seq == 0 || !receivers || !created || !evicted) {
    error = "malformed publish reply";
    return std::nullopt;
  }
  return PublishReply{std::move(*epoch), *seq, *receivers, *created != 0, *evicted};
}

std::optional<ChannelRead> parseRead(std::string_view channel, const redisReply* r,
                                     std::string& error) {
  if (!usable(r, error))
    return std::nullopt;
  ChannelRead out;
  auto epoch = isArray(r, 6) ? epochOf(r->element[0]) : std::nullopt;
  auto last = epoch ? unsignedOf(r->element[1]) : std::nullopt;
  auto first = last ? unsignedOf(r->element[2]) : std::nullopt;
  auto from = first ? unsignedOf(r->element[3]) : std::nullopt;
  auto created = from ? unsignedOf(r->element[4]) : std::nullopt;
  if (created) {
    out = ChannelRead{std::move(*epoch), *last, *first, *from, *created != 0, {}};
    if (*first >= 1 && *first <= *last + 1 && *from >= 1 && entries(channel, r->element[5], out))
      return out;
  }
  error = "malformed read reply for channel " + std::string(channel);
  return std::nullopt;
}

bool parseInfo(const redisReply* r, std::optional<InfoReply>& found, std::string& error) {
  found.reset();
  if (!usable(r, error))
    return false;
  if (r->type == REDIS_REPLY_NIL)
    return true;
  std::optional<uint64_t> v[6];
  auto epoch = isArray(r, 7) ? epochOf(r->element[0]) : std::nullopt;
  for (size_t i = 0; epoch && i < 6; ++i)
    v[i] = unsignedOf(r->element[i + 1]);
  for (const auto& x : v) {
    if (!x) {
      error = "malformed info reply";
      return false;
    }
  }
  found =
      InfoReply{std::move(*epoch), *v[0], *v[1], *v[2], *v[3], *v[4], static_cast<int64_t>(*v[5])};
  return true;
}

std::optional<long long> parseInteger(const redisReply* r, std::string& error) {
  if (!usable(r, error))
    return std::nullopt;
  if (r->type != REDIS_REPLY_INTEGER) {
    error = "unexpected reply type";
    return std::nullopt;
  }
  return r->integer;
}

bool isNoScript(const redisReply* r) {
  return r && r->type == REDIS_REPLY_ERROR && text(r).starts_with("NOSCRIPT");
}

} // namespace holdfast::redis
