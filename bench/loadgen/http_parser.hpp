// Incremental HTTP/1.x response parser for the load generator (pure: fed bytes, no I/O).
// Handles Content-Length, chunked and close-delimited bodies and several responses in a row on
// one keep-alive connection. Body bytes are handed out as they arrive, so streams (SSE over
// chunked encoding) are seen live.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loadgen {

struct ResponseHead {
  int status = 0;
  bool http11 = false;
  std::vector<std::pair<std::string, std::string>> headers; ///< names lower-cased

  /// First value of a header (name lower-case), or empty.
  std::string_view header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (k == name)
        return v;
    return {};
  }
  /// Whether the connection stays open after this response.
  bool keepAlive() const {
    std::string_view c = header("connection");
    auto has = [&](std::string_view w) { return lowerContains(c, w); };
    return http11 ? !has("close") : has("keep-alive");
  }
  static bool lowerContains(std::string_view hay, std::string_view lowNeedle) {
    std::string low(hay);
    for (auto& ch : low)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return low.find(lowNeedle) != std::string::npos;
  }
};

class HttpResponseParser {
public:
  std::function<void(const ResponseHead&)> onHead;
  std::function<void(std::string_view)> onBody;
  std::function<void(const ResponseHead&)> onComplete;

  /// Feeds bytes; returns false on a protocol error (the connection should be dropped).
  bool feed(std::string_view data) {
    buf_.append(data);
    size_t pos = 0;
    bool progress = true;
    while (progress && !error_)
      progress = step(pos);
    buf_.erase(0, pos);
    return !error_;
  }
  /// The peer closed: completes a close-delimited body. Returns true if a response completed.
  bool eof() {
    if (state_ == State::kBodyUntilClose) {
      finish();
      return true;
    }
    return false;
  }
  bool error() const { return error_; }
  /// Forgets any partial response (a new connection).
  void reset() {
    buf_.clear();
    state_ = State::kStatus;
    error_ = false;
  }
  /// True between responses (nothing of the next response parsed yet).
  bool idle() const { return state_ == State::kStatus && buf_.empty(); }
  const ResponseHead& head() const { return head_; }

private:
  enum class State {
    kStatus,
    kHeaders,
    kBodyLength,
    kChunkSize,
    kChunkData,
    kChunkCrlf,
    kTrailers,
    kBodyUntilClose
  };

  bool line(size_t& pos, std::string_view& out) {
    size_t nl = buf_.find('\n', pos);
    if (nl == std::string::npos)
      return false;
    size_t end = (nl > pos && buf_[nl - 1] == '\r') ? nl - 1 : nl;
    out = std::string_view(buf_).substr(pos, end - pos);
    pos = nl + 1;
    return true;
  }

  bool step(size_t& pos) {
    std::string_view ln;
    switch (state_) {
    case State::kStatus:
      if (!line(pos, ln))
        return false;
      if (ln.empty())
        return true; // tolerate stray CRLF between responses
      return parseStatus(ln);
    case State::kHeaders:
      if (!line(pos, ln))
        return false;
      if (ln.empty())
        return headersDone();
      return parseHeader(ln);
    case State::kBodyLength: {
      size_t n = std::min<uint64_t>(remaining_, buf_.size() - pos);
      if (n == 0 && remaining_ > 0)
        return false;
      emit(pos, n);
      remaining_ -= n;
      if (remaining_ == 0)
        finish();
      return true;
    }
    case State::kChunkSize: {
      if (!line(pos, ln))
        return false;
      char* end = nullptr;
      std::string s(ln);
      remaining_ = std::strtoull(s.c_str(), &end, 16);
      if (end == s.c_str())
        return fail();
      state_ = remaining_ == 0 ? State::kTrailers : State::kChunkData;
      return true;
    }
    case State::kChunkData: {
      size_t n = std::min<uint64_t>(remaining_, buf_.size() - pos);
      if (n == 0)
        return false;
      emit(pos, n);
      remaining_ -= n;
      if (remaining_ == 0)
        state_ = State::kChunkCrlf;
      return true;
    }
    case State::kChunkCrlf:
      if (!line(pos, ln))
        return false;
      state_ = State::kChunkSize;
      return ln.empty() || fail();
    case State::kTrailers:
      if (!line(pos, ln))
        return false;
      if (ln.empty())
        finish();
      return true;
    case State::kBodyUntilClose:
      if (pos == buf_.size())
        return false;
      emit(pos, buf_.size() - pos);
      return true;
    }
    return false;
  }

  bool parseStatus(std::string_view ln) {
    if (ln.size() < 12 || ln.substr(0, 5) != "HTTP/")
      return fail();
    head_ = ResponseHead{};
    head_.http11 = ln.substr(5, 3) == "1.1";
    head_.status = std::atoi(std::string(ln.substr(9, 3)).c_str());
    if (head_.status < 100)
      return fail();
    state_ = State::kHeaders;
    return true;
  }
  bool parseHeader(std::string_view ln) {
    size_t colon = ln.find(':');
    if (colon == std::string_view::npos)
      return fail();
    std::string name(ln.substr(0, colon));
    for (auto& ch : name)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string_view v = ln.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
      v.remove_prefix(1);
    head_.headers.emplace_back(std::move(name), std::string(v));
    return true;
  }
  bool headersDone() {
    if (onHead)
      onHead(head_);
    bool noBody = head_.status == 204 || head_.status == 304 || head_.status < 200;
    std::string_view te = head_.header("transfer-encoding");
    std::string_view cl = head_.header("content-length");
    if (noBody) {
      finish();
    } else if (ResponseHead::lowerContains(te, "chunked")) {
      state_ = State::kChunkSize;
    } else if (!cl.empty()) {
      remaining_ = std::strtoull(std::string(cl).c_str(), nullptr, 10);
      state_ = State::kBodyLength;
      if (remaining_ == 0)
        finish();
    } else {
      state_ = State::kBodyUntilClose;
    }
    return true;
  }
  void emit(size_t& pos, size_t n) {
    if (n && onBody)
      onBody(std::string_view(buf_).substr(pos, n));
    pos += n;
  }
  void finish() {
    state_ = State::kStatus;
    if (onComplete)
      onComplete(head_);
  }
  bool fail() {
    error_ = true;
    return false;
  }

  std::string buf_;
  State state_ = State::kStatus;
  ResponseHead head_;
  uint64_t remaining_ = 0;
  bool error_ = false;
};

} // namespace loadgen
