// A request for handler tests: the response side records the CGI bytes in a string, and
// helpers read back the status line, headers and body. Header-only.
//
// Ownership: tests (normally AppFixture) own FakeRequests; a held request's Held is destroyed
// first, in the destructor, while the object is still whole (like server::FcgiRequest).
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <strings.h>

#include "app/request.h"

namespace holdfast::support {

class FakeRequest final : public app::Request {
public:
  FakeRequest(uint64_t conn_id, uint64_t serial) : ref_{conn_id, serial} {}
  FakeRequest(const FakeRequest&) = delete;
  FakeRequest& operator=(const FakeRequest&) = delete;
  ~FakeRequest() override { held.reset(); }

  void write(std::initializer_list<std::string_view> parts) override {
    if (ended())
      return;
    for (std::string_view p : parts)
      out.append(p);
    ++writes;
  }
  void finish(std::initializer_list<std::string_view> parts) override {
    if (ended())
      return;
    for (std::string_view p : parts)
      out.append(p);
    ++writes;
    finished = true;
  }
  bool ended() const override { return finished || gone; }
  app::RequestRef ref() const override { return ref_; }

  // The header block ("Status: ..." up to, without, the blank line); empty before any write.
  std::string_view headerBlock() const {
    size_t end = out.find("\r\n\r\n");
    return end == std::string::npos ? std::string_view() : std::string_view(out).substr(0, end + 2);
  }
  // The NNN of "Status: NNN Reason", or 0 when no header block was written.
  int status() const {
    std::optional<std::string> s = header("Status");
    return s ? std::atoi(s->c_str()) : 0;
  }
  // The value of the first header `name` (case-insensitive), or nullopt.
  std::optional<std::string> header(std::string_view name) const {
    std::string_view h = headerBlock();
    while (!h.empty()) {
      size_t eol = h.find("\r\n");
      std::string_view line = h.substr(0, eol);
      size_t colon = line.find(':');
      if (colon == name.size() && strncasecmp(line.data(), name.data(), name.size()) == 0) {
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ')
          value.remove_prefix(1);
        return std::string(value);
      }
      if (eol == std::string_view::npos)
        break;
      h.remove_prefix(eol + 2);
    }
    return std::nullopt;
  }
  bool hasHeader(std::string_view name) const { return header(name).has_value(); }
  // Everything after the header block.
  std::string body() const {
    size_t end = out.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : out.substr(end + 4);
  }
  // The body parsed as JSON (HasParseError() when it is not).
  rapidjson::Document bodyJson() const {
    rapidjson::Document doc;
    std::string b = body();
    doc.Parse(b.data(), b.size());
    return doc;
  }
  // Output written since `mark` (a previous out.size()).
  std::string since(size_t mark) const { return out.substr(mark); }

  std::string out;       // every byte written, headers included
  int writes = 0;        // write/finish calls that wrote
  bool finished = false; // finish() was called
  bool gone = false;     // the client went away (abort / connection closed)

private:
  app::RequestRef ref_;
};

// A JSON value as text for assertions: strings unquoted, anything else as compact JSON
// ("<missing>" for a null pointer), so failures print readably.
inline std::string str(const rapidjson::Value* v) {
  if (!v)
    return "<missing>";
  if (v->IsString())
    return std::string(v->GetString(), v->GetStringLength());
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v->Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}
inline std::string str(const rapidjson::Value& v) {
  return str(&v);
}
// The member `name` of object `v` as text (see str), "<missing>" when absent.
inline std::string member(const rapidjson::Value& v, const char* name) {
  return v.IsObject() && v.HasMember(name) ? str(v[name]) : "<missing>";
}

} // namespace holdfast::support
