// Resolving the Redis password (start-up only: reads a small file).
#include "redis/password.h"

#include <fstream>

namespace holdfast::redis {

std::optional<std::string> resolvePassword(const std::string& url_password, const std::string& file,
                                           const char* env, std::string& error) {
  if (file.empty())
    return env && *env ? std::string(env) : url_password;
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) {
    error = "redis_password_file \"" + file + "\" cannot be read";
    return std::nullopt;
  }
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  if (line.empty()) {
    error = "redis_password_file \"" + file + "\" has an empty first line";
    return std::nullopt;
  }
  return line;
}

} // namespace holdfast::redis
