// Sessions in Redis: key names, commands and control messages (pure).
#include "redis/sessions.h"

#include "session/session_table.h"

namespace holdfast::redis {
namespace {

// KEYS[1] session; ARGV: field, value, ttl_ms, create (1: may create the key). Never shortens
// the ttl: a piggyback read of a held session must not let it expire under its node's long
// hold. Only issuing and touching create the key; a claim racing a close does not bring the
// closed session back.
const char* const kSetScript =
    "if ARGV[4] ~= '1' and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end "
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) "
    "if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then "
    "redis.call('PEXPIRE', KEYS[1], ARGV[3]) end "
    "return 1";
// KEYS[1] session; ARGV: node, cursor, ttl_ms. A closed (deleted) session stays deleted; a
// claim another node made since keeps its node and its longer ttl.
const char* const kReleaseScript =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end "
    "local n = redis.call('HGET', KEYS[1], 'node') "
    "if n == ARGV[1] then redis.call('HDEL', KEYS[1], 'node') n = false end "
    "redis.call('HSET', KEYS[1], 'cursor', ARGV[2]) "
    "if not n then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end "
    "return 1";

std::string text(const redisReply* r) {
  return std::string(r->str, r->len);
}

std::optional<hub::Cursor> cursorOf(std::string_view text, size_t max_channels) {
  if (text.empty())
    return hub::Cursor{};
  std::string error;
  return hub::parseCursor(text, error, max_channels);
}

Command setField(std::string_view id, std::string_view field, std::string value, int64_t ttl,
                 bool create) {
  return {"EVAL",
          kSetScript,
          "1",
          sessionKey(id),
          std::string(field),
          std::move(value),
          std::to_string(ttl),
          create ? "1" : "0"};
}

} // namespace

std::string sessionKey(std::string_view id) {
  return "holdfast:session:{" + std::string(id) + "}";
}

std::string nodeChannel(std::string_view node) {
  return "holdfast:node:{" + std::string(node) + "}:ctl";
}

Command putSessionCommand(std::string_view id, const hub::Cursor& cursor, int64_t ttl_ms) {
  return setField(id, "cursor", hub::formatCursor(cursor), ttl_ms, true);
}

Command claimSessionCommand(std::string_view id, std::string_view node, int64_t ttl_ms) {
  return setField(id, "node", std::string(node), ttl_ms, false);
}

Command releaseSessionCommand(std::string_view id, std::string_view node, const hub::Cursor& cursor,
                              int64_t ttl_ms) {
  return {"EVAL",
          kReleaseScript,
          "1",
          sessionKey(id),
          std::string(node),
          hub::formatCursor(cursor),
          std::to_string(ttl_ms)};
}

Command eraseSessionCommand(std::string_view id) {
  return {"DEL", sessionKey(id)};
}

Command fetchSessionCommand(std::string_view id) {
  return {"HGETALL", sessionKey(id)};
}

session::Lookup parseSessionFetch(const redisReply* reply, size_t max_channels) {
  using Status = session::Lookup::Status;
  session::Lookup out;
  if (!reply || reply->type != REDIS_REPLY_ARRAY) {
    out.status = Status::kUnavailable;
    return out;
  }
  out.status = reply->elements == 0 ? Status::kMissing : Status::kFound;
  for (size_t i = 0; i + 1 < reply->elements; i += 2) {
    const redisReply* k = reply->element[i];
    const redisReply* v = reply->element[i + 1];
    if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
      continue;
    if (text(k) == "node")
      out.record.node = text(v);
    else if (text(k) == "cursor")
      out.record.cursor = cursorOf(text(v), max_channels).value_or(hub::Cursor{});
  }
  return out;
}

std::string formatSessionCommand(const session::Command& command) {
  using Kind = session::Command::Kind;
  std::string out(1, static_cast<char>(command.kind));
  out += '\n';
  out += command.session;
  if (command.kind == Kind::kSubscribe) {
    out += '\n';
    out += hub::formatCursor(command.positions);
  } else if (command.kind == Kind::kUnsubscribe) {
    out += '\n';
    for (size_t i = 0; i < command.channels.size(); ++i)
      out += (i ? "," : "") + command.channels[i];
  }
  return out;
}

namespace {

// Splits "K\nID[\nREST]"; false when the shape or the id is wrong.
bool splitCommand(std::string_view payload, char& kind, std::string_view& id,
                  std::string_view& rest) {
  if (payload.size() < 3 || payload[1] != '\n')
    return false;
  kind = payload[0];
  std::string_view tail = payload.substr(2);
  size_t nl = tail.find('\n');
  id = tail.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : tail.substr(nl + 1);
  return session::SessionTable::isValidId(id) && (nl == std::string_view::npos) == rest.empty();
}

} // namespace

std::optional<session::Command> parseSessionCommand(std::string_view payload, size_t max_channels) {
  using Kind = session::Command::Kind;
  char kind = 0;
  std::string_view id, rest;
  if (!splitCommand(payload, kind, id, rest))
    return std::nullopt;
  session::Command c;
  c.session = std::string(id);
  c.kind = static_cast<Kind>(kind);
  std::string error;
  if ((kind == 'C' || kind == 'X') && rest.empty())
    return c;
  if (kind == 'S' && !rest.empty()) {
    auto cursor = hub::parseCursor(rest, error, max_channels);
    if (!cursor)
      return std::nullopt;
    c.positions = std::move(*cursor);
    return c;
  }
  if (kind == 'U' && !rest.empty()) {
    auto channels = hub::parseChannelList(rest, error, max_channels);
    if (!channels)
      return std::nullopt;
    c.channels = std::move(*channels);
    return c;
  }
  return std::nullopt;
}

} // namespace holdfast::redis
