// libFuzzer target for the control messages nodes send each other over Redis pub/sub
// (redis::parseSessionCommand, docs/redis.md "Sessions across nodes"): any node, or anything
// else able to PUBLISH on the node's channel, may send any bytes. Checks: a message parses or
// is refused, never a crash; what parses has a valid session id, at most max_channels entries,
// and formats back to a message that parses to the same command.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "redis/sessions.h"

using holdfast::fuzz::check;
namespace redis = holdfast::redis;

namespace {

bool sameCommand(const holdfast::session::Command& a, const holdfast::session::Command& b) {
  return a.kind == b.kind && a.session == b.session && a.positions == b.positions &&
         a.channels == b.channels;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1)
    return 0;
  size_t max_channels = 1 + data[0] % 16;
  std::string_view payload(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto command = redis::parseSessionCommand(payload, max_channels);
  if (!command)
    return 0;
  check(!command->session.empty());
  check(command->positions.size() <= max_channels && command->channels.size() <= max_channels);
  auto again = redis::parseSessionCommand(redis::formatSessionCommand(*command), max_channels);
  check(again && sameCommand(*command, *again));
  return 0;
}
