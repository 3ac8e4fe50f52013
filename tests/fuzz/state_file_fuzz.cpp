// libFuzzer target for the snapshot parser (store::parseState; the file read at start-up from
// state_dir). Checks: damage comes with a message naming a byte offset; a snapshot that parses
// restores into a hub without tripping its invariants, and what the hub then writes parses again
// to the same channels.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "hub/hub.h"
#include "store/history.h"
#include "store/state_file.h"
#include "util/clock.h"
#include "util/random.h"

using holdfast::fuzz::check;
namespace store = holdfast::store;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  store::History history;
  store::SnapshotMeta meta;
  std::string error;
  if (!store::parseState(text, history, meta, error)) {
    check(error.find("at byte ") != std::string::npos);
    return 0;
  }
  if (meta.version == 1)
    return 0; // recognised, never loaded (journal.h)
  holdfast::util::FakeClock clock;
  holdfast::util::CountingRandom random;
  holdfast::hub::Hub hub(holdfast::hub::Limits{}, clock, random);
  history.restoreInto(hub);
  check(hub.stats().channels == history.channelCount());
  store::History again;
  store::SnapshotMeta meta2;
  check(store::parseState(store::serializeState(hub, meta), again, meta2, error));
  check(again.channelCount() == history.channelCount());
  check(meta2.generation == meta.generation && meta2.clean == meta.clean);
  return 0;
}
