// One HTTP request as the handlers see it: the CGI params they read, the body, and the
// response side (Responder). The event layer implements the response side on a FastCGI
// request; tests implement it on a string (tests/support/fake_request.h).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "app/held.h"

namespace holdfast::app {

// Which socket a request arrived on.
enum class Socket : uint8_t { kControl, kData };

// A request by the ids the event layer issues (64-bit, never reused). Deferred work and engine
// continuations hold this, never a pointer: a request may end and be freed meanwhile.
struct RequestRef {
  uint64_t conn_id = 0;
  uint64_t serial = 0;
};

// Immutable bytes shared by every request of a fan-out (one rendering, many writers). They
// never change once made; whoever queues them keeps a reference until they are written.
using SharedBytes = std::shared_ptr<const std::string>;

// Where response bytes go. Bytes are the CGI response: the header block first ("Status: ...",
// a blank line), then the body. Writes are queued and sent at the end of the loop pass.
class Responder {
public:
  virtual ~Responder() = default;
  // Queues `parts` (no-op once ended()).
  virtual void write(std::initializer_list<std::string_view> parts) = 0;
  // Queues `parts` and ends the response (no-op once ended()). The request is then released
  // by the event layer from a deferred pass, never on the caller's stack.
  virtual void finish(std::initializer_list<std::string_view> parts) = 0;
  // As write (or finish, when `finish`), for bytes shared with other requests: the event layer
  // frames them once per FastCGI request id and queues a reference, not a copy.
  virtual void writeShared(const SharedBytes& bytes, bool finish) {
    if (finish)
      this->finish({*bytes});
    else
      write({*bytes});
  }
  // True once nothing more can be written: answered, aborted, or the connection closed.
  virtual bool ended() const = 0;
  virtual RequestRef ref() const = 0;
};

class Request : public Responder {
public:
  // The CGI params handlers read (the rest are dropped on arrival) and the body. Freed by
  // shrink() once a request is held, so a held request stays small.
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
  std::string origin; // kept while held: late answers carry CORS headers
  bool headers_sent = false;
  bool body_too_large = false;   // the body passed max_body while arriving (answered 413)
  bool params_too_large = false; // the CGI params passed 64 KiB and were dropped (answered 431)
  // Set when the request is held as a subscriber (long-poll or stream). Stored in place: held
  // requests are the thing there are many of.
  std::optional<Held> held;

  void shrink() { in.reset(); }
};

} // namespace holdfast::app
