// The Redis password, kept out of `ps`: from redis_password_file, else the
// HOLDFAST_REDIS_PASSWORD environment variable, else the URL's own password part.
#pragma once

#include <optional>
#include <string>

namespace holdfast::redis {

// `file` empty: not configured; `env` null: the variable is unset. Reads the file's first line
// (a trailing CR/LF dropped). nullopt with `error` set when the file cannot be read or is empty.
std::optional<std::string> resolvePassword(const std::string& url_password, const std::string& file,
                                           const char* env, std::string& error);

} // namespace holdfast::redis
