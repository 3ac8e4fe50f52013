// Channel history persisted across restarts: written atomically to <state_dir>/holdfast.state
// on shutdown and loaded at start, so buffered messages and ids survive a restart.
//
// Format (text headers, length-prefixed bodies, so message JSON may hold any bytes):
//   HOLDFAST-STATE 1
//   C <channel> <epoch> <last_seq> <message count>
//   M <seq> <time_ms> <event> <json length>\n<message json>\n      (count times)
//   END
#pragma once

#include <string>

#include "hub/hub.h"

namespace holdfast::store {

// Writes every channel of `hub` to dir/holdfast.state via a temporary file, fsync and rename.
// Creates `dir` if missing. Returns false with `error` set on failure.
bool saveState(const hub::Hub& hub, const std::string& dir, std::string& error);

struct LoadStats {
  size_t channels = 0;
  size_t messages = 0;
};

// Loads dir/holdfast.state into `hub` (missing file: nothing to load, returns true). A file
// that does not parse is renamed to holdfast.state.corrupt and false is returned with `error`;
// the hub keeps whatever loaded before the damage.
bool loadState(hub::Hub& hub, const std::string& dir, LoadStats& stats, std::string& error);

// Serialization core, exposed for tests.
std::string serializeState(const hub::Hub& hub);
bool parseState(std::string_view text, hub::Hub& hub, LoadStats& stats, std::string& error);

} // namespace holdfast::store
