// base64url (RFC 4648 §5) without '=' padding: session ids, epochs, token signatures.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace holdfast::util {

// ceil(8 * n / 6) characters of [A-Za-z0-9_-].
std::string base64url(const unsigned char* data, size_t size);

// True when every character of `text` is in the base64url alphabet.
bool isBase64url(std::string_view text);

} // namespace holdfast::util
