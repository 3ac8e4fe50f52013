// Test harness for fcgi::Parser: records visitor calls as strings and checks that any split of
// the input (whole, byte by byte, random cuts with fixed seeds) gives the same event list.
// The test files declare the two functions below themselves (tests/unit/fcgi has no headers).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "fcgi/parser.h"

namespace holdfast::fcgi::testing {

std::string show(std::string_view data);
std::vector<std::string> parseAllSplits(std::string_view input, ParserLimits limits,
                                        const std::vector<std::string>& end_after);

namespace {

// Records every call; calls parser.endRequest(id) right after recording an event listed in
// `end_after` (as an owner does when it answers from inside a callback).
class Recorder final : public Visitor {
public:
  Recorder(Parser& parser, const std::vector<std::string>& end_after)
      : parser_(parser), end_after_(end_after) {}

  std::vector<std::string> events;

  void onBeginRequest(uint16_t id, uint16_t role, bool keep_conn) override {
    add(id, "begin " + std::to_string(id) + " role=" + std::to_string(role) +
                " keep=" + (keep_conn ? "1" : "0"));
  }
  void onParam(uint16_t id, std::string_view name, std::string_view value) override {
    add(id, "param " + std::to_string(id) + " " + show(name) + "=" + show(value));
  }
  void onParamsEnd(uint16_t id) override { add(id, "params-end " + std::to_string(id)); }
  void onParamsTooLarge(uint16_t id) override { add(id, "params-too-large " + std::to_string(id)); }
  void onStdin(uint16_t id, std::string_view data) override {
    CHECK_FALSE(data.empty());
    add(id, "stdin " + std::to_string(id) + " " + show(data));
  }
  void onStdinEnd(uint16_t id) override { add(id, "stdin-end " + std::to_string(id)); }
  void onAbortRequest(uint16_t id) override { add(id, "abort " + std::to_string(id)); }
  void onGetValues(const std::vector<std::string>& names) override {
    std::string event = "get-values";
    for (const auto& n : names)
      event += " " + show(n);
    add(0, event);
  }
  void onUnknownType(uint8_t type) override {
    add(0, "unknown-type " + std::to_string(static_cast<int>(type)));
  }

private:
  void add(uint16_t id, std::string event) {
    events.push_back(std::move(event));
    if (std::find(end_after_.begin(), end_after_.end(), events.back()) != end_after_.end())
      parser_.endRequest(id);
  }

  Parser& parser_;
  const std::vector<std::string>& end_after_;
};

// Feeds `input` cut at the given chunk sizes (the last chunk takes the rest). After a protocol
// error, checks that the parser refuses more input and keeps its message.
std::vector<std::string> parseInChunks(std::string_view input, const std::vector<size_t>& sizes,
                                       ParserLimits limits,
                                       const std::vector<std::string>& end_after) {
  Parser parser(limits);
  Recorder recorder(parser, end_after);
  size_t i = 0;
  while (!input.empty()) {
    size_t n = i < sizes.size() ? std::min(sizes[i++], input.size()) : input.size();
    if (!parser.feed(input.substr(0, n), recorder)) {
      const std::string error = parser.error();
      CHECK_FALSE(error.empty());
      size_t count = recorder.events.size();
      CHECK_FALSE(parser.feed(input.substr(n), recorder));
      CHECK_FALSE(parser.feed("\x01\x09\x00\x00\x00\x00\x00\x00", recorder));
      CHECK(parser.error() == error);
      CHECK(recorder.events.size() == count);
      recorder.events.push_back("error: " + error);
      break;
    }
    input.remove_prefix(n);
  }
  return recorder.events;
}

std::vector<size_t> randomCuts(size_t total, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> small(1, 16);
  std::uniform_int_distribution<size_t> large(1, std::max<size_t>(total / 2, 1));
  std::vector<size_t> sizes;
  for (size_t done = 0; done < total;) {
    size_t n = rng() % 2 ? small(rng) : large(rng);
    sizes.push_back(n);
    done += n;
  }
  return sizes;
}

} // namespace

// Short data as is; long data as its length, its first bytes and a hash, to keep failure output
// readable while still telling different data apart.
std::string show(std::string_view data) {
  if (data.size() <= 64)
    return std::string(data);
  uint64_t hash = 1469598103934665603ull; // FNV-1a
  for (char c : data)
    hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return "<" + std::to_string(data.size()) + " bytes " + std::string(data.substr(0, 8)) + "... " +
         hex + ">";
}

std::vector<std::string> parseAllSplits(std::string_view input, ParserLimits limits,
                                        const std::vector<std::string>& end_after) {
  const std::vector<std::string> whole = parseInChunks(input, {}, limits, end_after);
  const std::vector<size_t> ones(input.size(), 1);
  CHECK(parseInChunks(input, ones, limits, end_after) == whole);
  for (unsigned seed = 1; seed <= 8; ++seed) {
    INFO("random split seed " << seed);
    CHECK(parseInChunks(input, randomCuts(input.size(), seed), limits, end_after) == whole);
  }
  return whole;
}

} // namespace holdfast::fcgi::testing
