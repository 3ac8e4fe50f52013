// The journal's on-disk format: a header, then one record per publish or delete, appended.
// Pure encoding and decoding; the file handling is in journal.h.
//
//   header  = "HFJOURN1" generation:u64 crc32(previous 16 bytes):u32            (20 bytes)
//   record  = length:u32 crc32(length bytes + payload):u32 payload[length]
//   payload = 'P' u8 n, channel[n] u8 n, epoch[n] seq:u64 time_ms:i64 u8 n, event[n]
//                 u32 n, message_json[n]                                 (a publish)
//           | 'D' u8 n, channel[n]                                      (a channel delete)
// Integers are little-endian. The generation matches the snapshot the journal continues.
//
// Reading: a record cut short by the end of the file, a last record whose checksum fails, or
// zero bytes to the end (blocks allocated but never written) are a torn tail: the write that
// was under way when the process or machine stopped. It is dropped and reported; it was never
// acknowledged (publishes are acknowledged only after their append returned). Anything else
// (a bad header, a bad checksum with records after it, a record that does not parse or does
// not follow the history before it) is damage, reported with its byte offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "hub/message.h"
#include "store/history.h"

namespace holdfast::store {

inline constexpr size_t kJournalHeaderBytes = 20;
inline constexpr size_t kRecordHeaderBytes = 8;
inline constexpr uint32_t kMaxRecordBytes = 256u << 20;

std::string encodeJournalHeader(uint64_t generation);
// The record for a publish (empty when the message is too large for one record) or a delete.
std::string encodePublishRecord(const hub::Message& message);
std::string encodeDeleteRecord(std::string_view channel);

// Checks the header; false with `error` ("bad header ...") when it is not a journal header.
bool parseJournalHeader(std::string_view text, uint64_t& generation, std::string& error);

struct JournalScan {
  uint64_t generation = 0;
  size_t records = 0;    // records applied
  size_t good_bytes = 0; // where the last good record ends
  bool torn = false;     // bytes from good_bytes to the end were dropped as a torn tail
  std::string torn_reason;
};

// Parses a whole journal and applies its records to `history` in order. False with `error`
// ("damaged at byte N: ...") on damage; `history` must then be discarded.
bool scanJournal(std::string_view text, History& history, JournalScan& scan, std::string& error);

} // namespace holdfast::store
