// The snapshot: every channel's history written atomically to <state_dir>/holdfast.state
// (at start-up, at journal compaction and at clean shutdown). The journal (journal.h) holds what
// happened after it. Pure serialization; the file I/O is in journal.cpp.
//
// Format (text headers, length-prefixed bodies, so message JSON may hold any bytes):
//   HOLDFAST-STATE 2
//   G <generation> <clean|unclean> <journal_sync policy> <boot id, or ->
//   C <channel> <epoch> <last_seq> <message count>
//   M <seq> <time_ms> <event> <json length>\n<message json>\n      (count times)
//   END <crc32 of every byte before "END", 8 lowercase hex digits>
// `generation` names the journal that continues this snapshot (journal header, same number).
// `clean` is written only by a clean shutdown; every snapshot written while running says
// `unclean`, so finding it at start-up means the last run did not stop cleanly. The policy and
// boot id are those of the run that writes the journal, so recovery can tell whether records
// acknowledged but not yet fsynced can have been lost (journal.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "hub/hub.h"
#include "store/history.h"

namespace holdfast::store {

struct SnapshotMeta {
  int version = 2; // 1: the old format without G line or checksum (read, not trusted)
  uint64_t generation = 0;
  bool clean = false;
  std::string sync;    // "always", "interval" or "off"
  std::string boot_id; // empty when unknown
};

std::string serializeState(const hub::Hub& hub, const SnapshotMeta& meta);
// Parses a snapshot into `history`. On any damage returns false with `error` naming the byte
// offset and the problem; `history` must then be discarded. A version 1 file parses to
// meta.version == 1 and an empty history (its channels are not trusted, see journal.h).
bool parseState(std::string_view text, History& history, SnapshotMeta& meta, std::string& error);

} // namespace holdfast::store
