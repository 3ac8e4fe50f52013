// CRC-32 (IEEE 802.3, the zlib/PNG polynomial, reflected 0xEDB88320) for journal and snapshot
// checksums. Table-driven, no dependency.
#pragma once

#include <cstdint>
#include <string_view>

namespace holdfast::store {

// crc32("123456789") == 0xCBF43926. Pass a previous result as `crc` to continue a running sum.
uint32_t crc32(std::string_view data, uint32_t crc = 0);

} // namespace holdfast::store
