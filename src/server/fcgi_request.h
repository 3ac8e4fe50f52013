// One FastCGI request on a connection: the app::Request the handlers see, plus the FastCGI
// request id, flags and state. Its response side writes STDOUT records on the connection.
//
// Ownership: owned by its Connection (unique_ptr); released from the server's deferred pass
// once finished.
#pragma once

#include <cstdint>

#include "app/request.h"

namespace holdfast::server {

class Connection;

class FcgiRequest final : public app::Request {
public:
  enum class State : uint8_t {
    kParams, // PARAMS stream still arriving
    kBody,   // PARAMS done, STDIN arriving
    kActive, // dispatched: being answered or held
    kDone,   // END_REQUEST sent (or the client went away); awaiting release
  };

  FcgiRequest(Connection& conn, uint64_t serial_number, uint16_t id, bool keep)
      : conn_(conn), serial(serial_number), fcgi_id(id), keep_conn(keep) {}
  // The held subscriber goes first, while this object is still whole.
  ~FcgiRequest() override { held.reset(); }

  void write(std::initializer_list<std::string_view> parts) override;
  void finish(std::initializer_list<std::string_view> parts) override;
  void writeShared(const app::SharedBytes& bytes, bool finish) override;
  bool ended() const override;
  app::RequestRef ref() const override;

private:
  Connection& conn_;

public:
  const uint64_t serial; // process-unique, never reused; timers and deferred work hold this
  const uint16_t fcgi_id;
  const bool keep_conn;
  State state = State::kParams;
};

} // namespace holdfast::server
