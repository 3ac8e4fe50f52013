// One FastCGI request on a connection: the CGI params Holdfast uses, the body, and its state.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace holdfast::server {

class Held;

struct Request {
  enum class State : uint8_t {
    kParams,   // PARAMS stream still arriving
    kBody,     // PARAMS done, STDIN arriving
    kActive,   // dispatched: being answered or held
    kDone,     // END_REQUEST sent (or the client went away); awaiting release
  };

  uint64_t serial = 0;  // process-unique, never reused; timers and deferred work hold this
  uint16_t fcgi_id = 0;
  uint16_t role = 0;
  bool keep_conn = false;
  bool headers_sent = false;
  bool body_too_large = false;
  State state = State::kParams;

  // CGI params (only the ones routing and handlers read; the rest are dropped on arrival).
  std::string method;
  std::string request_uri;
  std::string content_type;
  std::string authorization;
  std::string last_event_id;
  std::string origin;
  std::string accept;
  std::string remote_addr;
  std::string body;

  // Set when the request is held as a subscriber (long-poll or stream).
  std::unique_ptr<Held> held;

  // Frees what a held request no longer needs (params and body) to keep held requests small.
  void shrink() {
    std::string().swap(method);
    std::string().swap(request_uri);
    std::string().swap(content_type);
    std::string().swap(authorization);
    std::string().swap(last_event_id);
    std::string().swap(accept);
    std::string().swap(remote_addr);
    std::string().swap(body);
  }
  ~Request();
};

} // namespace holdfast::server
