// Atomic state file for channel history.
#include "store/state_file.h"

#include "util/json.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace holdfast::store {
namespace {

constexpr std::string_view kMagic = "HOLDFAST-STATE 1\n";
constexpr const char* kFileName = "/holdfast.state";

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
  template <typename T> bool number(T& out, char end) {
    std::string_view w;
    if (!word(w, end))
      return false;
    auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), out);
    return ec == std::errc() && p == w.data() + w.size();
  }
  bool bytes(std::string_view& out, size_t n) {
    if (n >= text_.size() - pos_ || text_[pos_ + n] != '\n')  // no overflow for huge n
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

private:
  std::string_view text_;
  size_t pos_ = 0;
};

bool fail(std::string& error, const Reader& r, std::string_view what) {
  error = "state file damaged at byte " + std::to_string(r.pos()) + ": " + std::string(what);
  return false;
}

bool parseChannel(Reader& r, hub::Hub& hub, LoadStats& stats, std::string& error) {
  std::string_view name, epoch;
  uint64_t last_seq = 0, count = 0;
  if (!r.word(name, ' ') || !r.word(epoch, ' ') || !r.number(last_seq, ' ') || !r.number(count, '\n'))
    return fail(error, r, "bad channel header");
  if (!hub::isValidChannelName(name) || !hub::isValidEpoch(epoch))
    return fail(error, r, "bad channel name or epoch");
  if (last_seq >= (uint64_t{1} << 62))
    return fail(error, r, "channel sequence out of range");
  std::vector<hub::MessagePtr> messages;
  for (uint64_t i = 0; i < count; ++i) {
    auto m = std::make_shared<hub::Message>();
    std::string_view event, json;
    size_t len = 0;
    if (!r.literal("M ") || !r.number(m->seq, ' ') || !r.number(m->time_ms, ' ') ||
        !r.word(event, ' ') || !r.number(len, '\n') || !r.bytes(json, len))
      return fail(error, r, "bad message record");
    if (m->seq == 0 || m->seq > last_seq || (!messages.empty() && m->seq <= messages.back()->seq))
      return fail(error, r, "message sequence out of order");
    // What is loaded is sent to clients as is: check it like a publish would be checked.
    if (!hub::isValidEventName(event) || m->time_ms < 0 || json.empty() ||
        json.front() != '{' || !util::validateJson(json).ok)
      return fail(error, r, "bad message event, time or JSON");
    m->channel = name;
    m->epoch = epoch;
    m->event = event;
    m->json = json;
    messages.push_back(std::move(m));
  }
  stats.messages += messages.size();
  ++stats.channels;
  hub.restore(name, epoch, last_seq, std::move(messages));
  return true;
}

bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

} // namespace

std::string serializeState(const hub::Hub& hub) {
  std::string out(kMagic);
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
  out += "END\n";
  return out;
}

bool parseState(std::string_view text, hub::Hub& hub, LoadStats& stats, std::string& error) {
  Reader r(text);
  if (!r.literal(kMagic))
    return fail(error, r, "not a holdfast state file (version 1)");
  while (!r.literal("END\n")) {
    if (!r.literal("C "))
      return fail(error, r, "expected a channel record or END");
    if (!parseChannel(r, hub, stats, error))
      return false;
  }
  return true;
}

bool saveState(const hub::Hub& hub, const std::string& dir, std::string& error) {
  mkdir(dir.c_str(), 0750);
  std::string path = dir + kFileName;
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    error = "open " + tmp + ": " + strerror(errno);
    return false;
  }
  bool ok = writeAll(fd, serializeState(hub)) && fsync(fd) == 0;
  int saved_errno = errno;
  ::close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    error = "write " + path + ": " + strerror(ok ? errno : saved_errno);
    unlink(tmp.c_str());
    return false;
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    ::close(dfd);
  }
  return true;
}

bool loadState(hub::Hub& hub, const std::string& dir, LoadStats& stats, std::string& error) {
  std::string path = dir + kFileName;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT)
      return true;
    error = "open " + path + ": " + strerror(errno);
    return false;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  if (parseState(buf.str(), hub, stats, error))
    return true;
  std::string aside = path + ".corrupt";
  rename(path.c_str(), aside.c_str());
  error += " (moved to " + aside + ")";
  return false;
}

} // namespace holdfast::store
