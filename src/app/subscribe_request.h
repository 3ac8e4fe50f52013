// Parsing a subscribe request (GET <data_mount>/<channels>?...): transport, position, timeout,
// private-channel tokens and session, each validated with its own error code.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/context.h"
#include "http/query.h"
#include "hub/cursor.h"
#include "hub/hub.h"
#include "transport/transport.h"

namespace holdfast::app {

// Everything a subscribe request asked for, validated.
struct Subscribe {
  std::vector<std::string> channels;
  transport::Context ctx;
  hub::Cursor cursor;
  bool since_oldest = false;
  uint64_t last_n = 0;
  int64_t timeout_ms = 0;
  std::string session; // existing or newly issued id; empty = none
  bool new_session = false;
  bool resolve_session = false; // an existing id, to look up in the shared directory first
};

// An answer that ends the request before anything is read.
struct BadRequest {
  int status = 400;
  std::string code;
  std::string message;
  std::string extra; // extra header lines
};

// Fills `s` from the request, or returns what is wrong with it. `session=new` issues a session
// in ctx.sessions (only once everything else is valid).
std::optional<BadRequest> parseSubscribe(Context& ctx, const Request& request,
                                         const http::Target& target, Subscribe& s);

// The engine read start of each channel of `s`: cursor position, last=N, since=oldest or new.
std::vector<hub::Start> startsFor(const Subscribe& s);
// Start points that continue after every position of `cursor`.
std::vector<hub::Start> startsAfter(const hub::Cursor& cursor);

} // namespace holdfast::app
