// RAII owners for libevent handles: each frees its handle exactly once, in member order, so
// no destructor frees events by hand.
#pragma once

#include <event2/buffer.h>
#include <event2/event.h>

#include <memory>

namespace holdfast::server {

struct EventFree {
  void operator()(event* ev) const { event_free(ev); }
};
struct EvbufferFree {
  void operator()(evbuffer* buf) const { evbuffer_free(buf); }
};
struct EventBaseFree {
  void operator()(event_base* base) const { event_base_free(base); }
};

using EventPtr = std::unique_ptr<event, EventFree>;
using EvbufferPtr = std::unique_ptr<evbuffer, EvbufferFree>;
using EventBasePtr = std::unique_ptr<event_base, EventBaseFree>;

} // namespace holdfast::server
