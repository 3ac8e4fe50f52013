// FastCGI records for shared fan-out bytes, encoded once per request id.
#include "fcgi/shared_records.h"

#include <fastcgi.h>

#include "fcgi/encoder.h"

namespace holdfast::fcgi {

const SharedRecords::Bytes& SharedRecords::get(const Bytes& content, uint16_t id, bool end) {
  Slot& slot = slots_[end ? 1 : 0];
  if (slot.records && slot.content == content && slot.id == id) {
    ++hits_;
    return slot.records;
  }
  ++misses_;
  std::string out;
  out.reserve(content->size() + content->size() / kMaxContent * 8 + 40);
  appendStdout(out, id, *content);
  if (end) {
    appendEndOfStdout(out, id);
    appendEndRequest(out, id, 0, FCGI_REQUEST_COMPLETE);
  }
  slot.content = content;
  slot.id = id;
  slot.records = std::make_shared<const std::string>(std::move(out));
  return slot.records;
}

} // namespace holdfast::fcgi
