// libFuzzer target for fcgi::Parser. Besides crashes and sanitizer reports, it checks that the
// input fed whole and fed in chunks (sizes chosen by the first input byte) gives the same events,
// the same result and the same error, and that a failed parser refuses further input.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fastcgi.h>

#include "fcgi/encoder.h"
#include "fcgi/parser.h"

namespace {

using holdfast::fcgi::Parser;
using holdfast::fcgi::ParserLimits;

void check(bool ok) {
  if (!ok)
    __builtin_trap();
}

// Logs events and acts like the owner: refuses non-responder roles and ends requests at the end
// of STDIN or on abort, so endRequest() from callbacks is exercised.
class LoggingVisitor final : public holdfast::fcgi::Visitor {
public:
  explicit LoggingVisitor(Parser& parser) : parser_(parser) {}
  std::string log;

  void onBeginRequest(uint16_t id, uint16_t role, bool keep_conn) override {
    add('B', id, std::to_string(role) + (keep_conn ? "k" : ""));
    if (role != FCGI_RESPONDER)
      parser_.endRequest(id);
  }
  void onParam(uint16_t id, std::string_view name, std::string_view value) override {
    check(parser_.isActive(id));
    // The pair must survive a re-encode and decode.
    std::string encoded;
    holdfast::fcgi::appendNameValue(encoded, name, value);
    std::vector<std::pair<std::string_view, std::string_view>> pairs;
    check(holdfast::fcgi::decodeNameValuePairs(encoded, pairs) && pairs.size() == 1 &&
          pairs[0].first == name && pairs[0].second == value);
    add('P', id, std::string(name) + "=" + std::string(value));
  }
  void onParamsEnd(uint16_t id) override { add('E', id, ""); }
  void onParamsTooLarge(uint16_t id) override { add('L', id, ""); }
  void onStdin(uint16_t id, std::string_view data) override {
    check(!data.empty());
    add('I', id, std::string(data));
  }
  void onStdinEnd(uint16_t id) override {
    add('F', id, "");
    parser_.endRequest(id);
  }
  void onAbortRequest(uint16_t id) override {
    add('A', id, "");
    parser_.endRequest(id);
  }
  void onGetValues(const std::vector<std::string>& names) override {
    for (const auto& n : names)
      add('G', 0, n);
  }
  void onUnknownType(uint8_t type) override { add('U', type, ""); }

private:
  void add(char kind, uint16_t id, const std::string& text) {
    log += kind + std::to_string(id) + ":" + std::to_string(text.size()) + ":" + text + "\n";
  }
  Parser& parser_;
};

struct Outcome {
  std::string log;
  bool ok = true;
  std::string error;
};

Outcome run(std::string_view input, size_t chunk, ParserLimits limits) {
  Parser parser(limits);
  LoggingVisitor visitor(parser);
  Outcome outcome;
  while (!input.empty() && outcome.ok) {
    const size_t n = chunk == 0 ? input.size() : std::min(chunk, input.size());
    outcome.ok = parser.feed(input.substr(0, n), visitor);
    input.remove_prefix(n);
  }
  if (!outcome.ok) {
    outcome.error = parser.error();
    check(!outcome.error.empty());
    const size_t logged = visitor.log.size();
    check(!parser.feed("\x01\x09\x00\x00\x00\x00\x00\x00", visitor));
    check(visitor.log.size() == logged && parser.error() == outcome.error);
  }
  outcome.log = std::move(visitor.log);
  return outcome;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2)
    return 0;
  const size_t chunk = 1 + data[0] % 64;
  ParserLimits limits;
  limits.max_requests = 1 + data[1] % 8;
  limits.max_params_bytes = data[1] & 0x80 ? 300 : 64 * 1024;
  const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
  const Outcome whole = run(input, 0, limits);
  const Outcome split = run(input, chunk, limits);
  check(whole.ok == split.ok && whole.error == split.error && whole.log == split.log);
  return 0;
}
