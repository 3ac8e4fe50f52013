// libFuzzer target for the JSON config file (config::applyJson, as at start-up and on SIGHUP)
// and config::validate. Checks: no crash, and a config with no error from either keeps validating
// clean when the same text is applied a second time (applying is idempotent).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "fuzz_check.h"

using holdfast::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  holdfast::config::Config config;
  std::vector<std::string> errors;
  holdfast::config::applyJson(text, config, errors);
  for (const auto& e : errors)
    check(!e.empty());
  if (!errors.empty())
    return 0;
  holdfast::config::validate(config, errors);
  if (!errors.empty())
    return 0;
  holdfast::config::Config again = config;
  holdfast::config::applyJson(text, again, errors);
  holdfast::config::validate(again, errors);
  check(errors.empty());
  return 0;
}
