// FastCGI responder output, decoded on the client side (see response.h).
#include "fcgi/response.h"

#include <fastcgi.h>

#include <cctype>

namespace holdfast::fcgi {
namespace {

unsigned byteAt(std::string_view s, size_t i) {
  return static_cast<unsigned char>(s[i]);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

} // namespace

bool ResponseParser::feed(std::string_view bytes, ResponseVisitor& visitor) {
  if (!error_.empty())
    return false;
  pending_.append(bytes);
  size_t pos = 0;
  while (pending_.size() - pos >= FCGI_HEADER_LEN) {
    std::string_view rest(pending_.data() + pos, pending_.size() - pos);
    size_t length = byteAt(rest, 4) << 8 | byteAt(rest, 5);
    size_t total = FCGI_HEADER_LEN + length + byteAt(rest, 6);
    if (rest.size() < total)
      break;
    if (byteAt(rest, 0) != FCGI_VERSION_1) {
      error_ = "unsupported FastCGI version " + std::to_string(byteAt(rest, 0));
      return false;
    }
    auto type = static_cast<uint8_t>(byteAt(rest, 1));
    auto id = static_cast<uint16_t>(byteAt(rest, 2) << 8 | byteAt(rest, 3));
    if (!handleRecord(type, id, rest.substr(FCGI_HEADER_LEN, length), visitor))
      return false;
    pos += total;
  }
  pending_.erase(0, pos);
  return true;
}

bool ResponseParser::handleRecord(uint8_t type, uint16_t id, std::string_view content,
                                  ResponseVisitor& v) {
  switch (type) {
  case FCGI_STDOUT:
    if (content.empty())
      v.onStdoutEnd(id);
    else
      v.onStdout(id, content);
    return true;
  case FCGI_STDERR:
    if (!content.empty())
      v.onStderr(id, content);
    return true;
  case FCGI_END_REQUEST: {
    if (content.size() < sizeof(FCGI_EndRequestBody)) {
      error_ =
          "FCGI_END_REQUEST with " + std::to_string(content.size()) + " content bytes (want 8)";
      return false;
    }
    uint32_t app = byteAt(content, 0) << 24 | byteAt(content, 1) << 16 | byteAt(content, 2) << 8 |
                   byteAt(content, 3);
    v.onEndRequest(id, app, static_cast<uint8_t>(byteAt(content, 4)));
    return true;
  }
  case FCGI_GET_VALUES_RESULT:
  case FCGI_UNKNOWN_TYPE:
    return true;
  default:
    error_ = "unexpected record type " + std::to_string(type) + " from a responder";
    return false;
  }
}

const std::string* CgiResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (equalsIgnoreCase(n, name))
      return &v;
  }
  return nullptr;
}

bool parseCgiResponse(std::string_view bytes, CgiResponse& out) {
  out = CgiResponse{};
  size_t pos = 0;
  while (true) {
    size_t eol = bytes.find('\n', pos);
    if (eol == std::string_view::npos)
      return false;
    std::string_view line = bytes.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.empty())
      break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return false;
    out.headers.emplace_back(line.substr(0, colon), trim(line.substr(colon + 1)));
  }
  if (const std::string* status = out.header("Status")) {
    if (status->size() < 3 || !isdigit(static_cast<unsigned char>((*status)[0])) ||
        !isdigit(static_cast<unsigned char>((*status)[1])) ||
        !isdigit(static_cast<unsigned char>((*status)[2])) ||
        (status->size() > 3 && (*status)[3] != ' '))
      return false;
    out.status = std::stoi(status->substr(0, 3));
  }
  out.body = std::string(bytes.substr(pos));
  return true;
}

} // namespace holdfast::fcgi
