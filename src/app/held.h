// A held data request: a hub subscriber that answers a long-poll or feeds a stream.
//
// Ownership: owned by its Request (in place); the references it keeps are valid for its whole
// life. Its destructor unsubscribes it and updates the gauges; it is only destroyed from the
// event layer's deferred release/teardown, never during a fan-out.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "hub/cursor.h"
#include "hub/hub.h"
#include "hub/subscriber.h"
#include "transport/transport.h"

namespace holdfast::app {

struct Context;
class Request;

class Held final : public hub::Subscriber {
public:
  Held(Context& app, Request& request, transport::Context ctx, hub::Cursor cursor,
       std::string session);
  Held(const Held&) = delete;
  Held& operator=(const Held&) = delete;
  ~Held() override;

  // Long-poll kinds: answered by the first delivery. Streams: frames until they end.
  bool deliver(const hub::MessagePtr& message) override;
  void channelDeleted(const std::string& channel) override;
  // Streams: a "gap" frame. Long-polls: answered at once with no messages and the old cursor,
  // so the client's next request reads the gap entry and the messages after it.
  void gap(const hub::Gap& gap) override;

  // Streams: writes the headers, the preamble (hello) and the backlog in one go.
  void startStream(const hub::ReadResult& backlog, std::string_view extra_headers);

  void onPollTimeout(); // long-poll: heartbeat response
  // Stream timer: a heartbeat frame and the next one scheduled, or, once max_stream_age is
  // reached, a reconnect frame and the end (one timer entry per stream serves both).
  void onStreamTimer();
  void armStreamTimer();
  // Ends the request now with a reconnect (shutdown), "closed" (session closed from the
  // control socket) or 409 (a newer request took the session over).
  void reconnect(std::string_view reason);
  void closeSession();
  void supersede();

  bool done() const { return done_; }
  // The client went away (ABORT_REQUEST): nothing more is written for this request.
  void abandon() { done_ = true; }
  bool streaming() const { return transport::isStreaming(ctx_.kind); }
  transport::Kind kind() const { return ctx_.kind; }
  const hub::Cursor& cursor() const { return cursor_; }
  const std::string& session() const { return session_; }
  // Adds a channel to a live stream (session subscribe), at the channel's head.
  void addPosition(const hub::Position& position);
  void removePosition(std::string_view channel);

private:
  void advance(const hub::Message& message);
  void answerPoll(const std::vector<hub::MessagePtr>& messages, bool heartbeat,
                  std::string_view extra_field);
  void sendFrame(std::string_view event, std::string_view json, std::string_view sse_id);
  void endStream(std::string_view event, std::string_view json, std::string_view sse_id);
  std::shared_ptr<const std::string> messageBytes(const hub::MessagePtr& message);
  std::string renderMessage(const hub::MessagePtr& message) const;

  Context& app_;
  Request& request_;
  uint64_t serial_; // request_.ref().serial, kept for the destructor (no virtual call there)
  transport::Context ctx_;
  hub::Cursor cursor_;
  std::string session_;
  int64_t expires_ms_ = 0; // streams: when max_stream_age is reached
  bool done_ = false;
};

} // namespace holdfast::app
