// An immutable published message, shared by every buffer and subscriber that holds it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace holdfast::hub {

struct Message {
  std::string channel;
  std::string epoch;
  uint64_t seq = 0;
  std::string event;   // "message" unless the publisher named one
  int64_t time_ms = 0; // wall clock at publish
  // The message object rendered once at publish:
  // {"channel":"..","id":"EPOCH-SEQ","event":"..","data":<data>,"time":<ms>}
  // where <data> is the published JSON text as sent, or a JSON string for non-JSON bodies.
  std::string json;
  // Hub bookkeeping, set by Hub when it buffers the message (0 elsewhere). Kept here rather
  // than in a per-channel side table so an idle Channel stays small.
  int64_t mono_ms = 0; // monotonic publish time: ages survive wall-clock jumps
  uint64_t order = 0;  // hub-wide publish counter: merges channels in publish order

  std::string id() const { return epoch + "-" + std::to_string(seq); }
  // Bytes charged against buffer limits: what the allocator really holds for the message (its
  // make_shared block and every string that left the small-string buffer, each by
  // malloc_usable_size plus the chunk header), so memory_limit bounds the heap and not just
  // the payload. Stable for a given message (its strings never change).
  size_t cost() const;
};

using MessagePtr = std::shared_ptr<const Message>;

// Event names: 1..64 chars of [A-Za-z0-9_.:-] (no CR/LF or anything that could inject SSE
// lines). Checked where events enter: publish requests and the state file.
bool isValidEventName(std::string_view name);

// Builds a message and renders its json. `data_is_json` means `data` is valid JSON text to embed
// as is (surrounding whitespace trimmed); otherwise it is embedded as a JSON string. An empty
// `event` becomes "message". `mono_ms` and `order` are the Hub's bookkeeping fields.
MessagePtr makeMessage(std::string channel, std::string epoch, uint64_t seq, std::string event,
                       std::string_view data, bool data_is_json, int64_t time_ms,
                       int64_t mono_ms = 0, uint64_t order = 0);

} // namespace holdfast::hub
