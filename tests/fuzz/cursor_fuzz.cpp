// libFuzzer target for hub::parseCursor and hub::parseChannelList (the cursor, Last-Event-ID and
// channel list of every subscribe), then Hub::read with the parsed cursor. Checks: errors come
// with a message, a parsed cursor formats and parses back to itself, every entry is valid, and
// reading from it never crashes and returns one position per channel.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "hub/cursor.h"
#include "hub/hub.h"
#include "util/clock.h"
#include "util/random.h"

using holdfast::fuzz::check;
namespace hub = holdfast::hub;

namespace {

void readFrom(const hub::Cursor& cursor, uint8_t shape) {
  holdfast::util::FakeClock clock;
  holdfast::util::CountingRandom random;
  hub::Limits limits;
  limits.max_messages = 1 + shape % 8;
  limits.batch_max = 1 + shape % 5;
  hub::Hub h(limits, clock, random);
  std::vector<hub::Start> starts;
  for (const hub::Position& p : cursor) {
    // Some channels exist with history (epoch "T<n>"), some not.
    for (int i = 0; i < (shape >> 4); ++i)
      h.publish(p.channel, "", "1", true);
    starts.push_back(hub::Start{p.channel, hub::Start::Mode::kCursor, 0, p});
  }
  hub::ReadResult r = h.read(starts);
  check(r.cursor.size() == cursor.size());
  check(r.messages.size() <= limits.batch_max);
  for (size_t i = 0; i < cursor.size(); ++i)
    check(r.cursor[i].channel == cursor[i].channel);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1)
    return 0;
  const uint8_t shape = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string error;
  auto cursor = hub::parseCursor(input, error, 64);
  if (!cursor) {
    check(!error.empty());
  } else {
    check(cursor->size() <= 64);
    for (const hub::Position& p : *cursor)
      check(hub::isValidChannelName(p.channel) && hub::isValidEpoch(p.epoch));
    std::string again_error;
    auto again = hub::parseCursor(hub::formatCursor(*cursor), again_error, 64);
    check(again && *again == *cursor);
    readFrom(*cursor, shape);
  }
  auto channels = hub::parseChannelList(input, error, 64);
  if (channels) {
    check(!channels->empty() && channels->size() <= 64);
    for (const auto& c : *channels)
      check(hub::isValidChannelName(c));
  }
  return 0;
}
