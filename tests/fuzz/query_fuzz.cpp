// libFuzzer target for http::parseQuery, http::percentDecode and http::splitTarget (the query
// string and REQUEST_URI of every request). Besides crashes it checks: errors come with a
// message, decoded text never holds a NUL, and splitTarget's query is the raw text after '?'.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "http/query.h"

using holdfast::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto query = holdfast::http::parseQuery(input, error);
  if (!query) {
    check(!error.empty());
  } else {
    for (const auto& [key, value] : query->items) {
      check(key.find('\0') == std::string::npos && value.find('\0') == std::string::npos);
      check(query->get(key) != nullptr);
    }
  }
  for (bool plus : {false, true}) {
    auto decoded = holdfast::http::percentDecode(input, plus);
    if (decoded) {
      check(decoded->size() <= input.size());
      check(decoded->find('\0') == std::string::npos);
    }
  }
  auto target = holdfast::http::splitTarget(input);
  if (target) {
    size_t q = input.find('?');
    check(target->query ==
          (q == std::string_view::npos ? std::string_view() : input.substr(q + 1)));
  }
  return 0;
}
