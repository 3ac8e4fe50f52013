// Shared by the fuzz targets: an invariant check that traps (libFuzzer reports it as a crash)
// whatever NDEBUG says.
#pragma once

namespace holdfast::fuzz {

inline void check(bool ok) {
  if (!ok)
    __builtin_trap();
}

} // namespace holdfast::fuzz
