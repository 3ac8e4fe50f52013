// Journal header and record encoding (format in journal_format.h).
#include "store/journal_format.h"

#include <cstring>
#include <memory>

#include "hub/cursor.h"
#include "store/crc32.h"

namespace holdfast::store {
namespace {

constexpr std::string_view kJournalMagic = "HFJOURN1";

void putInt(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

void putString(std::string& out, std::string_view s, int len_bytes) {
  putInt(out, s.size(), len_bytes);
  out += s;
}

// Reads little-endian fields from a record payload; every read is bounds-checked.
class Fields {
public:
  explicit Fields(std::string_view data) : data_(data) {}
  bool integer(uint64_t& v, int bytes) {
    if (data_.size() - pos_ < static_cast<size_t>(bytes))
      return false;
    v = 0;
    for (int i = 0; i < bytes; ++i)
      v |= uint64_t{static_cast<unsigned char>(data_[pos_ + i])} << (8 * i);
    pos_ += static_cast<size_t>(bytes);
    return true;
  }
  bool string(std::string_view& s, int len_bytes) {
    uint64_t n = 0;
    if (!integer(n, len_bytes) || n > data_.size() - pos_)
      return false;
    s = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == data_.size(); }

private:
  std::string_view data_;
  size_t pos_ = 0;
};

uint64_t readInt(std::string_view text, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= uint64_t{static_cast<unsigned char>(text[at + i])} << (8 * i);
  return v;
}

std::string frame(std::string payload) {
  std::string out;
  putInt(out, payload.size(), 4);
  uint32_t crc = crc32(payload, crc32(out));
  putInt(out, crc, 4);
  out += payload;
  return out;
}

bool damaged(std::string& error, size_t at, std::string_view what) {
  error = "damaged at byte " + std::to_string(at) + ": " + std::string(what);
  return false;
}

// Decodes a publish payload (after the type byte) into a message, checked like a publish.
bool decodePublish(Fields& f, hub::MessagePtr& out) {
  auto m = std::make_shared<hub::Message>();
  std::string_view channel, epoch, event, json;
  uint64_t seq = 0, time = 0;
  if (!f.string(channel, 1) || !f.string(epoch, 1) || !f.integer(seq, 8) || !f.integer(time, 8) ||
      !f.string(event, 1) || !f.string(json, 4) || !f.done())
    return false;
  m->time_ms = static_cast<int64_t>(time);
  if (!hub::isValidChannelName(channel) || !hub::isValidEpoch(epoch) || seq == 0 ||
      seq >= (uint64_t{1} << 62) || !isLoadableMessage(event, m->time_ms, json))
    return false;
  m->channel = channel;
  m->epoch = epoch;
  m->seq = seq;
  m->event = event;
  m->json = json;
  out = std::move(m);
  return true;
}

bool applyRecord(std::string_view payload, History& history, std::string& why) {
  Fields f(payload.substr(1));
  if (payload[0] == 'D') {
    std::string_view channel;
    if (!f.string(channel, 1) || !f.done() || !hub::isValidChannelName(channel)) {
      why = "bad delete record";
      return false;
    }
    history.applyDelete(channel);
    return true;
  }
  hub::MessagePtr m;
  if (payload[0] != 'P' || !decodePublish(f, m)) {
    why = "bad record payload";
    return false;
  }
  return history.applyPublish(std::move(m), why);
}

bool allZero(std::string_view s) {
  return s.find_first_not_of('\0') == std::string_view::npos;
}

void tear(JournalScan& scan, std::string reason) {
  scan.torn = true;
  scan.torn_reason = std::move(reason);
}

} // namespace

std::string encodeJournalHeader(uint64_t generation) {
  std::string out(kJournalMagic);
  putInt(out, generation, 8);
  putInt(out, crc32(out), 4);
  return out;
}

std::string encodePublishRecord(const hub::Message& m) {
  if (m.json.size() + m.channel.size() + m.epoch.size() + m.event.size() + 32 > kMaxRecordBytes)
    return {};
  std::string p = "P";
  putString(p, m.channel, 1);
  putString(p, m.epoch, 1);
  putInt(p, m.seq, 8);
  putInt(p, static_cast<uint64_t>(m.time_ms), 8);
  putString(p, m.event, 1);
  putString(p, m.json, 4);
  return frame(std::move(p));
}

std::string encodeDeleteRecord(std::string_view channel) {
  std::string p = "D";
  putString(p, channel, 1);
  return frame(std::move(p));
}

bool parseJournalHeader(std::string_view text, uint64_t& generation, std::string& error) {
  if (text.size() < kJournalHeaderBytes || text.substr(0, kJournalMagic.size()) != kJournalMagic ||
      readInt(text, 16, 4) != crc32(text.substr(0, 16))) {
    error = "bad header (not a holdfast journal, or damaged)";
    return false;
  }
  generation = readInt(text, 8, 8);
  return true;
}

bool scanJournal(std::string_view text, History& history, JournalScan& scan, std::string& error) {
  if (!parseJournalHeader(text, scan.generation, error))
    return damaged(error, 0, error);
  size_t at = kJournalHeaderBytes;
  while (at < text.size()) {
    std::string_view rest = text.substr(at);
    scan.good_bytes = at;
    if (rest.size() < kRecordHeaderBytes || allZero(rest)) {
      tear(scan, rest.size() < kRecordHeaderBytes ? "record header cut short" : "zero bytes");
      return true;
    }
    uint64_t len = readInt(rest, 0, 4);
    if (len == 0 || len > kMaxRecordBytes)
      return damaged(error, at, "bad record length " + std::to_string(len));
    if (len > rest.size() - kRecordHeaderBytes) {
      tear(scan, "record cut short");
      return true;
    }
    std::string_view payload = rest.substr(kRecordHeaderBytes, len);
    if (readInt(rest, 4, 4) != crc32(payload, crc32(rest.substr(0, 4)))) {
      if (kRecordHeaderBytes + len == rest.size()) {
        tear(scan, "checksum of the last record");
        return true;
      }
      return damaged(error, at, "checksum mismatch");
    }
    std::string why;
    if (!applyRecord(payload, history, why))
      return damaged(error, at, why);
    ++scan.records;
    at += kRecordHeaderBytes + len;
  }
  scan.good_bytes = at;
  return true;
}

} // namespace holdfast::store
