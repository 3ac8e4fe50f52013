// The Lua scripts and their command lines.
#include "redis/scripts.h"

#include <openssl/sha.h>

#include "redis/keys.h"

namespace holdfast::redis {
namespace {

// Shared by every script: field lookup, channel creation (the epoch on first touch), trimming
// by count, age (wall ms of the node that published) and bytes, and key expiry. The expiry is
// renewed only once half of it has passed (or the log has none yet), so a read that finds
// nothing to trim writes nothing: no AOF write (and, with appendfsync always, no fsync) per
// subscribe.
constexpr std::string_view kPrelude = R"lua(
local function field(entry, name)
  local f = entry[2]
  for i = 1, #f, 2 do if f[i] == name then return f[i + 1] end end
  return nil
end
local function touch(meta, new_epoch)
  local epoch = redis.call('HGET', meta, 'epoch')
  if epoch then return epoch, 0 end
  redis.call('HSET', meta, 'epoch', new_epoch, 'seq', 0, 'bytes', 0, 'last_ms', 0)
  return new_epoch, 1
end
local function trim(meta, log, max_n, max_age, max_bytes, now)
  local evicted = 0
  while true do
    local len = redis.call('XLEN', log)
    if len == 0 then break end
    local first = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)[1]
    local bytes = tonumber(redis.call('HGET', meta, 'bytes') or '0')
    local t = tonumber(field(first, 't') or '0')
    if len <= max_n and bytes <= max_bytes and now - t <= max_age then break end
    redis.call('XDEL', log, first[1])
    redis.call('HINCRBY', meta, 'bytes', -tonumber(field(first, 'c') or '0'))
    evicted = evicted + 1
  end
  return evicted
end
local function expire(ttl)
  ttl = tonumber(ttl)
  if redis.call('PTTL', KEYS[1]) < ttl / 2 or redis.call('PTTL', KEYS[2]) == -1 then
    redis.call('PEXPIRE', KEYS[1], ttl)
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
end
local function seqOf(id) return tonumber(string.match(id, '^(%d+)')) end
)lua";

// ARGV: new_epoch event now json data cost max_n max_age max_bytes pubsub ttl
constexpr std::string_view kPublish = R"lua(
local epoch, created = touch(KEYS[1], ARGV[1])
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], string.format('%d-0', seq), 'e', ARGV[2], 't', ARGV[3],
           'j', ARGV[4], 'd', ARGV[5], 'c', ARGV[6])
redis.call('HINCRBY', KEYS[1], 'bytes', tonumber(ARGV[6]))
redis.call('HSET', KEYS[1], 'last_ms', ARGV[3])
local evicted = trim(KEYS[1], KEYS[2], tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]),
                     tonumber(ARGV[3]))
expire(ARGV[11])
local payload = 'M\n' .. epoch .. '\n' .. string.format('%d', seq) .. '\n' .. ARGV[2] .. '\n' ..
                ARGV[3] .. '\n' .. ARGV[4] .. '\n' .. ARGV[5]
local receivers = redis.call('PUBLISH', ARGV[10], payload)
return {epoch, seq, receivers, created, evicted}
)lua";

// ARGV: new_epoch mode n cursor_epoch batch max_n max_age max_bytes now ttl
// mode: new | oldest | last (n messages) | after (cursor_epoch-n), the resume rules of DESIGN §2;
// the node derives the gap entry from the state returned.
constexpr std::string_view kRead = R"lua(
local epoch, created = touch(KEYS[1], ARGV[1])
trim(KEYS[1], KEYS[2], tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]))
expire(ARGV[10])
local last = tonumber(redis.call('HGET', KEYS[1], 'seq'))
local first = last + 1
local head = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
if head then first = seqOf(head[1]) end
local mode, n = ARGV[2], tonumber(ARGV[3])
local from = last + 1
if mode == 'oldest' then from = first
elseif mode == 'last' then from = math.max(first, last - n + 1)
elseif mode == 'after' then
  if ARGV[4] ~= epoch then from = first
  elseif n > last then from = last + 1
  elseif n + 1 < first then from = first
  else from = n + 1 end
end
local entries = {}
if from <= last then
  entries = redis.call('XRANGE', KEYS[2], string.format('%d', from), '+', 'COUNT', tonumber(ARGV[5]))
end
return {epoch, last, first, from, created, entries}
)lua";

// ARGV: max_n max_age max_bytes now
constexpr std::string_view kInfo = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
trim(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
local m = redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'bytes', 'last_ms')
local count = redis.call('XLEN', KEYS[2])
local first, last = 0, 0
if count > 0 then
  first = seqOf(redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1][1])
  last = seqOf(redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1][1])
end
return {m[1], tonumber(m[2]), tonumber(m[3]), count, first, last, tonumber(m[4])}
)lua";

// ARGV: pubsub
constexpr std::string_view kDelete = R"lua(
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('PUBLISH', ARGV[1], 'D\n' .. epoch)
return 1
)lua";

std::string sha1Hex(std::string_view text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

Script make(std::string name, std::string_view main) {
  std::string body(kPrelude);
  body += main;
  std::string sha = sha1Hex(body);
  return Script{std::move(name), std::move(body), std::move(sha)};
}

Command evalsha(const Script& script, std::string_view channel) {
  return Command{"EVALSHA", script.sha, "2", metaKey(channel), logKey(channel)};
}

void addLimits(Command& c, const hub::Limits& l, int64_t now_ms) {
  c.push_back(std::to_string(l.max_messages));
  c.push_back(std::to_string(l.max_age_ms));
  c.push_back(std::to_string(l.max_bytes));
  c.push_back(std::to_string(now_ms));
}

// The mode, n and cursor-epoch arguments of the read script.
void addStart(Command& c, const hub::Start& s) {
  using Mode = hub::Start::Mode;
  const char* mode = s.mode == Mode::kOldest   ? "oldest"
                     : s.mode == Mode::kLast   ? "last"
                     : s.mode == Mode::kCursor ? "after"
                                               : "new";
  c.push_back(mode);
  c.push_back(std::to_string(s.mode == Mode::kLast ? s.last_n : s.position.seq));
  c.push_back(s.mode == Mode::kCursor ? s.position.epoch : std::string());
}

} // namespace

const Script& publishScript() {
  static const Script s = make("publish", kPublish);
  return s;
}
const Script& readScript() {
  static const Script s = make("read", kRead);
  return s;
}
const Script& infoScript() {
  static const Script s = make("info", kInfo);
  return s;
}
const Script& deleteScript() {
  static const Script s = make("delete", kDelete);
  return s;
}
const std::vector<const Script*>& allScripts() {
  static const std::vector<const Script*> all = {&publishScript(), &readScript(), &infoScript(),
                                                 &deleteScript()};
  return all;
}

int64_t keyTtlMs(const hub::Limits& limits) {
  return limits.max_age_ms * 2 + 60000;
}

Command publishCommand(const PublishArgs& a, const hub::Limits& limits) {
  Command c = evalsha(publishScript(), a.channel);
  c.insert(c.end(), {std::string(a.new_epoch), std::string(a.event), std::to_string(a.now_ms),
                     a.data_is_json ? "1" : "0", std::string(a.data), std::to_string(a.cost)});
  c.push_back(std::to_string(limits.max_messages));
  c.push_back(std::to_string(limits.max_age_ms));
  c.push_back(std::to_string(limits.max_bytes));
  c.push_back(pubsubChannel(a.channel));
  c.push_back(std::to_string(keyTtlMs(limits)));
  return c;
}

Command readCommand(const hub::Start& start, std::string_view new_epoch, const hub::Limits& limits,
                    int64_t now_ms) {
  Command c = evalsha(readScript(), start.channel);
  c.emplace_back(new_epoch);
  addStart(c, start);
  c.push_back(std::to_string(limits.batch_max));
  addLimits(c, limits, now_ms);
  c.push_back(std::to_string(keyTtlMs(limits)));
  return c;
}

Command infoCommand(std::string_view channel, const hub::Limits& limits, int64_t now_ms) {
  Command c = evalsha(infoScript(), channel);
  addLimits(c, limits, now_ms);
  return c;
}

Command deleteCommand(std::string_view channel) {
  Command c = evalsha(deleteScript(), channel);
  c.push_back(pubsubChannel(channel));
  return c;
}

bool toEval(Command& command) {
  if (command.size() < 2 || command[0] != "EVALSHA")
    return false;
  for (const Script* s : allScripts()) {
    if (s->sha == command[1]) {
      command[0] = "EVAL";
      command[1] = s->body;
      return true;
    }
  }
  return false;
}

} // namespace holdfast::redis
