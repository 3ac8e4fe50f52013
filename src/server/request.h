// One FastCGI request on a connection: the CGI params Holdfast uses, the body, and its state.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "server/held.h"

namespace holdfast::server {

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

  // CGI params and body: only the ones routing and handlers read (the rest are dropped on
  // arrival). Freed by shrink() once a request is held, so a held request stays small.
  struct Input {
    std::string method;
    std::string request_uri;
    std::string content_type;
    std::string authorization;
    std::string last_event_id;
    std::string accept;
    std::string remote_addr;
    std::string body;
  };
  std::unique_ptr<Input> in = std::make_unique<Input>();
  std::string origin;  // kept while held: late answers carry CORS headers

  // Set when the request is held as a subscriber (long-poll or stream).
  // Stored in place (no separate allocation): held requests are the thing there are many of.
  std::optional<Held> held;

  void shrink() { in.reset(); }
};

} // namespace holdfast::server
