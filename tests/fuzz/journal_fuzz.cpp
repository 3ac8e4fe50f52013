// libFuzzer target for the journal reader (store::scanJournal; the file replayed at start-up
// from state_dir). The first input byte picks the snapshot history the journal continues (none,
// or channel "a" at some seq) and, with bit 0x40, a framed mode: the rest is a list of
// (u8 length, payload) that the target frames into records with valid checksums, so mutations
// reach the payload decoder and the replay rules instead of failing the CRC. Checks: damage names a
// byte offset; a torn tail lies inside the file; a journal that reads restores into a hub without
// tripping its invariants; and records re-encoded from the restored hub read back.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "hub/hub.h"
#include "store/crc32.h"
#include "store/history.h"
#include "store/journal_format.h"
#include "util/clock.h"
#include "util/random.h"

using holdfast::fuzz::check;
namespace store = holdfast::store;

namespace {

void putLe32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

// Frames (u8 length, payload) pairs into a journal with valid record checksums.
std::string frameAll(std::string_view in) {
  std::string out = store::encodeJournalHeader(0);
  while (!in.empty()) {
    size_t n = std::min<size_t>(static_cast<unsigned char>(in[0]), in.size() - 1);
    std::string_view payload = in.substr(1, n);
    in.remove_prefix(1 + n);
    std::string len;
    putLe32(len, static_cast<uint32_t>(payload.size()));
    out += len;
    putLe32(out, store::crc32(payload, store::crc32(len)));
    out += payload;
  }
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1)
    return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string framed;
  if (data[0] & 0x40) {
    framed = frameAll(text);
    text = framed;
  }
  store::History history(1 + data[0] % 16);
  std::string error;
  if (data[0] & 0x80) {
    store::ChannelHistory a;
    a.epoch = "E1";
    a.last_seq = data[0] & 0x0F;
    check(history.addChannel("a", std::move(a), error));
  }
  store::JournalScan scan;
  if (!store::scanJournal(text, history, scan, error)) {
    check(error.find("at byte ") != std::string::npos);
    return 0;
  }
  check(scan.good_bytes <= text.size());
  check(scan.torn || scan.good_bytes == text.size());
  holdfast::util::FakeClock clock;
  holdfast::util::CountingRandom random;
  holdfast::hub::Hub hub(holdfast::hub::Limits{}, clock, random);
  history.restoreInto(hub);
  // Re-encode what the hub holds as a fresh journal of new histories and read it back.
  std::string journal = store::encodeJournalHeader(scan.generation);
  size_t records = 0;
  hub.forEachChannel([&](const holdfast::hub::Channel& ch) {
    for (const auto& m : ch.messages()) {
      if (m->seq != ch.messages().front()->seq)
        continue; // only the first of each: a new history must start at seq 1
      auto copy = *m;
      copy.seq = 1;
      journal += store::encodePublishRecord(copy);
      ++records;
    }
  });
  store::History replay;
  store::JournalScan again;
  check(store::scanJournal(journal, replay, again, error));
  check(again.records == records && !again.torn);
  return 0;
}
