// Snapshot serialization (format in state_file.h).
#include "store/state_file.h"

#include <charconv>
#include <cstdio>

#include "store/crc32.h"

namespace holdfast::store {
namespace {

constexpr std::string_view kMagic = "HOLDFAST-STATE 2\n";
constexpr std::string_view kMagicV1 = "HOLDFAST-STATE 1\n";

// A cursor over the file text that reads space/newline separated tokens.
class Reader {
public:
  explicit Reader(std::string_view text) : text_(text) {}
  bool word(std::string_view& out, char end) {
    auto stop = text_.find(end, pos_);
    if (stop == std::string_view::npos)
      return false;
    out = text_.substr(pos_, stop - pos_);
    pos_ = stop + 1;
    return !out.empty();
  }
  template <typename T> bool number(T& out, char end, int base = 10) {
    std::string_view w;
    if (!word(w, end))
      return false;
    auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), out, base);
    return ec == std::errc() && p == w.data() + w.size();
  }
  bool bytes(std::string_view& out, size_t n) {
    if (n >= text_.size() - pos_ || text_[pos_ + n] != '\n') // no overflow for huge n
      return false;
    out = text_.substr(pos_, n);
    pos_ += n + 1;
    return true;
  }
  bool literal(std::string_view s) {
    if (text_.substr(pos_, s.size()) != s)
      return false;
    pos_ += s.size();
    return true;
  }
  size_t pos() const { return pos_; }
  bool atEnd() const { return pos_ == text_.size(); }

private:
  std::string_view text_;
  size_t pos_ = 0;
};

bool fail(std::string& error, size_t pos, std::string_view what) {
  error = "damaged at byte " + std::to_string(pos) + ": " + std::string(what);
  return false;
}

bool parseMessage(Reader& r, std::string_view name, std::string_view epoch, uint64_t last_seq,
                  const hub::Message* previous, hub::MessagePtr& out, std::string& error) {
  size_t at = r.pos();
  auto m = std::make_shared<hub::Message>();
  std::string_view event, json;
  size_t len = 0;
  if (!r.literal("M ") || !r.number(m->seq, ' ') || !r.number(m->time_ms, ' ') ||
      !r.word(event, ' ') || !r.number(len, '\n') || !r.bytes(json, len))
    return fail(error, at, "bad message record");
  if (m->seq == 0 || m->seq > last_seq || (previous && m->seq <= previous->seq))
    return fail(error, at, "message sequence out of order");
  if (!isLoadableMessage(event, m->time_ms, json))
    return fail(error, at, "bad message event, time or JSON");
  m->channel = name;
  m->epoch = epoch;
  m->event = event;
  m->json = json;
  out = std::move(m);
  return true;
}

bool parseChannel(Reader& r, History& history, std::string& error) {
  size_t at = r.pos();
  std::string_view name, epoch;
  uint64_t count = 0;
  ChannelHistory ch;
  if (!r.literal("C ") || !r.word(name, ' ') || !r.word(epoch, ' ') ||
      !r.number(ch.last_seq, ' ') || !r.number(count, '\n'))
    return fail(error, at, "bad channel header");
  if (!hub::isValidChannelName(name) || !hub::isValidEpoch(epoch))
    return fail(error, at, "bad channel name or epoch");
  if (ch.last_seq >= (uint64_t{1} << 62) || count > ch.last_seq)
    return fail(error, at, "channel sequence or count out of range");
  ch.epoch = epoch;
  for (uint64_t i = 0; i < count; ++i) {
    hub::MessagePtr m;
    const hub::Message* previous = ch.messages.empty() ? nullptr : ch.messages.back().get();
    if (!parseMessage(r, name, epoch, ch.last_seq, previous, m, error))
      return false;
    ch.messages.push_back(std::move(m));
  }
  std::string why;
  if (!history.addChannel(std::string(name), std::move(ch), why))
    return fail(error, at, why);
  return true;
}

bool parseMeta(Reader& r, SnapshotMeta& meta, std::string& error) {
  size_t at = r.pos();
  std::string_view clean, sync, boot;
  if (!r.literal("G ") || !r.number(meta.generation, ' ') || !r.word(clean, ' ') ||
      !r.word(sync, ' ') || !r.word(boot, '\n'))
    return fail(error, at, "bad G line");
  if ((clean != "clean" && clean != "unclean") ||
      (sync != "always" && sync != "interval" && sync != "off"))
    return fail(error, at, "bad G line values");
  meta.clean = clean == "clean";
  meta.sync = sync;
  meta.boot_id = boot == "-" ? std::string() : std::string(boot);
  return true;
}

std::string hex8(uint32_t v) {
  char buf[9];
  snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

} // namespace

std::string serializeState(const hub::Hub& hub, const SnapshotMeta& meta) {
  std::string out(kMagic);
  out += "G " + std::to_string(meta.generation) + (meta.clean ? " clean " : " unclean ") +
         meta.sync + " " + (meta.boot_id.empty() ? "-" : meta.boot_id) + "\n";
  hub.forEachChannel([&](const hub::Channel& ch) {
    out += "C " + ch.name() + " " + ch.epoch() + " " + std::to_string(ch.lastSeq()) + " " +
           std::to_string(ch.messages().size()) + "\n";
    for (const auto& m : ch.messages()) {
      out += "M " + std::to_string(m->seq) + " " + std::to_string(m->time_ms) + " " + m->event +
             " " + std::to_string(m->json.size()) + "\n";
      out += m->json;
      out += '\n';
    }
  });
  out += "END " + hex8(crc32(out)) + "\n";
  return out;
}

bool parseState(std::string_view text, History& history, SnapshotMeta& meta, std::string& error) {
  Reader r(text);
  if (r.literal(kMagicV1)) {
    meta = SnapshotMeta{};
    meta.version = 1;
    return true;
  }
  if (!r.literal(kMagic))
    return fail(error, 0, "not a holdfast state file (version 2)");
  meta.version = 2;
  if (!parseMeta(r, meta, error))
    return false;
  while (text.substr(r.pos(), 4) != "END ") {
    if (!parseChannel(r, history, error))
      return false;
  }
  size_t end = r.pos();
  uint32_t stored = 0;
  if (!r.literal("END ") || !r.number(stored, '\n', 16) || !r.atEnd())
    return fail(error, end, "bad END line or bytes after it");
  if (stored != crc32(text.substr(0, end)))
    return fail(error, end, "checksum mismatch");
  return true;
}

} // namespace holdfast::store
