// libFuzzer target for the Redis reply parsers (src/redis/reply.h, parseSessionFetch): replies
// come off the network, so the input is raw RESP bytes read by hiredis's own reader into the
// same redisReply trees the engine receives. The first byte picks the parser. Checks: a reply
// parses or gives an error message, never a crash; what parses obeys the parser's contract (a
// read's entries lie in (from - 1, last] in rising order, a publish's seq is at least 1, a
// missing session has no record).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <hiredis/read.h>

#include "fuzz_check.h"
#include "redis/reply.h"
#include "redis/sessions.h"

using holdfast::fuzz::check;
namespace redis = holdfast::redis;

namespace {

struct ReaderFree {
  void operator()(redisReader* r) const { redisReaderFree(r); }
};
// True when some "*N" in the input announces more elements than the input has bytes. Such a
// reply can never complete here, so it reaches no parser; it only makes hiredis allocate N
// pointers at once (Debian 12's hiredis 0.14 has no bound on that, and the reply's size comes
// from the Redis server the operator runs), which libFuzzer's malloc limit reports as a crash.
bool announcesTooMuch(std::string_view in) {
  for (size_t i = in.find('*'); i != std::string_view::npos; i = in.find('*', i + 1)) {
    uint64_t n = 0;
    for (size_t j = i + 1; j < in.size() && in[j] >= '0' && in[j] <= '9' && n <= in.size(); ++j)
      n = n * 10 + static_cast<uint64_t>(in[j] - '0');
    if (n > in.size())
      return true;
  }
  return false;
}

struct ReplyFree {
  void operator()(void* r) const { freeReplyObject(r); }
};

// Runs the parser `which` picks over one reply tree.
void parseOne(uint8_t which, const redisReply* reply) {
  std::string error;
  switch (which % 6) {
  case 0: {
    auto p = redis::parsePublish(reply, error);
    check(p ? p->seq >= 1 && !p->epoch.empty() : !error.empty());
    break;
  }
  case 1: {
    auto r = redis::parseRead("ch", reply, error);
    if (!r) {
      check(!error.empty());
      break;
    }
    check(r->first >= 1 && r->first <= r->last + 1 && r->from >= 1);
    uint64_t previous = 0;
    for (const auto& m : r->messages) {
      check(m && m->seq >= r->from && m->seq <= r->last && m->seq > previous);
      previous = m->seq;
    }
    break;
  }
  case 2: {
    std::optional<redis::InfoReply> info;
    bool ok = redis::parseInfo(reply, info, error);
    check(ok || (!info && !error.empty()));
    break;
  }
  case 3: {
    auto n = redis::parseInteger(reply, error);
    check(n || !error.empty());
    break;
  }
  case 4:
    (void)redis::isNoScript(reply);
    break;
  default: {
    auto lookup = redis::parseSessionFetch(reply, 8);
    if (lookup.status != holdfast::session::Lookup::Status::kFound)
      check(lookup.record.node.empty() && lookup.record.cursor.empty());
    check(lookup.record.cursor.size() <= 8);
    break;
  }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1)
    return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (announcesTooMuch(input))
    return 0;
  std::unique_ptr<redisReader, ReaderFree> reader(redisReaderCreate());
  check(reader != nullptr);
  if (redisReaderFeed(reader.get(), input.data(), input.size()) != REDIS_OK)
    return 0;
  // Every complete reply in the input, as a connection would deliver them one after another.
  for (int i = 0; i < 64; ++i) {
    void* raw = nullptr;
    if (redisReaderGetReply(reader.get(), &raw) != REDIS_OK || !raw)
      break; // a protocol error (hiredis drops the connection) or an incomplete reply
    std::unique_ptr<void, ReplyFree> reply(raw);
    parseOne(static_cast<uint8_t>(data[0] + i), static_cast<const redisReply*>(raw));
  }
  // A lost connection hands the parsers a null reply.
  parseOne(data[0], nullptr);
  return 0;
}
