// Incremental text/event-stream parser (pure). Fed body bytes in any split; dispatches one
// event per blank line with its id (empty if the event had none), event name and data.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace loadgen {

struct SseEvent {
  std::string id;
  bool hasId = false;
  std::string event;
  std::string data;
};

class SseParser {
public:
  std::function<void(const SseEvent&)> onEvent;

  void feed(std::string_view bytes) {
    buf_.append(bytes);
    size_t pos = 0;
    for (;;) {
      size_t nl = buf_.find('\n', pos);
      if (nl == std::string::npos)
        break;
      size_t end = (nl > pos && buf_[nl - 1] == '\r') ? nl - 1 : nl;
      handleLine(std::string_view(buf_).substr(pos, end - pos));
      pos = nl + 1;
    }
    buf_.erase(0, pos);
  }

private:
  void handleLine(std::string_view ln) {
    if (ln.empty()) {
      if (any_ && onEvent)
        onEvent(cur_);
      cur_ = SseEvent{};
      any_ = false;
      return;
    }
    if (ln.front() == ':')
      return; // comment (keep-alive ping)
    size_t colon = ln.find(':');
    std::string_view field = ln.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? "" : ln.substr(colon + 1);
    if (!value.empty() && value.front() == ' ')
      value.remove_prefix(1);
    if (field == "data") {
      if (!cur_.data.empty())
        cur_.data += '\n';
      cur_.data.append(value);
      any_ = true;
    } else if (field == "id") {
      cur_.id = std::string(value);
      cur_.hasId = true;
      any_ = true;
    } else if (field == "event") {
      cur_.event = std::string(value);
      any_ = true;
    }
  }

  std::string buf_;
  SseEvent cur_;
  bool any_ = false;
};

} // namespace loadgen
