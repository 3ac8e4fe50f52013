// libFuzzer target for fcgi::ResponseParser and parseCgiResponse (holdfastctl's decoder of
// responder output). Besides crashes and sanitizer reports, it checks that the input fed whole
// and fed in chunks (size from the first byte) gives the same events and the same result.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fcgi/response.h"

namespace {

void check(bool ok) {
  if (!ok)
    __builtin_trap();
}

struct Log final : holdfast::fcgi::ResponseVisitor {
  std::string events;
  void onStdout(uint16_t id, std::string_view d) override {
    events += "o" + std::to_string(id) + ":" + std::string(d) + ";";
  }
  void onStdoutEnd(uint16_t id) override { events += "O" + std::to_string(id) + ";"; }
  void onStderr(uint16_t id, std::string_view d) override {
    events += "e" + std::to_string(id) + ":" + std::string(d) + ";";
  }
  void onEndRequest(uint16_t id, uint32_t app, uint8_t ps) override {
    events += "E" + std::to_string(id) + "," + std::to_string(app) + "," + std::to_string(ps) + ";";
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  size_t chunk = data[0] % 17 + 1;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  holdfast::fcgi::ResponseParser whole, split;
  Log a, b;
  bool ok_whole = whole.feed(input, a);
  bool ok_split = true;
  for (size_t i = 0; i < input.size() && ok_split; i += chunk)
    ok_split = split.feed(input.substr(i, chunk), b);
  check(ok_whole == ok_split);
  check(a.events == b.events);
  check(whole.error() == split.error());
  holdfast::fcgi::CgiResponse r;
  if (holdfast::fcgi::parseCgiResponse(input, r))
    check(r.status >= 0 && r.status <= 999);
  return 0;
}
