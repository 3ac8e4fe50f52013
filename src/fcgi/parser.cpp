// Incremental FastCGI record parser (responder side): record reassembly, request state, and the
// name-value pair decoder.
#include "fcgi/parser.h"

#include <fastcgi.h>

#include <algorithm>
#include <cstring>

namespace holdfast::fcgi {
namespace {

static_assert(sizeof(FCGI_Header) == FCGI_HEADER_LEN);
static_assert(sizeof(FCGI_BeginRequestBody) == 8);

// The spec's name of a record type, for error messages.
std::string typeName(uint8_t type) {
  static constexpr const char* kNames[] = {nullptr,
                                           "FCGI_BEGIN_REQUEST",
                                           "FCGI_ABORT_REQUEST",
                                           "FCGI_END_REQUEST",
                                           "FCGI_PARAMS",
                                           "FCGI_STDIN",
                                           "FCGI_STDOUT",
                                           "FCGI_STDERR",
                                           "FCGI_DATA",
                                           "FCGI_GET_VALUES",
                                           "FCGI_GET_VALUES_RESULT",
                                           "FCGI_UNKNOWN_TYPE"};
  if (type >= 1 && type <= FCGI_MAXTYPE)
    return kNames[type];
  return "record type " + std::to_string(type);
}

// Reads one name-value length at `pos`: one byte, or four bytes (big-endian, high bit set and
// masked off). Returns false if the length itself is truncated.
bool readLength(std::string_view data, size_t& pos, size_t& length) {
  if (pos >= data.size())
    return false;
  auto byte = [&](size_t i) { return static_cast<size_t>(static_cast<unsigned char>(data[i])); };
  if ((byte(pos) & 0x80) == 0) {
    length = byte(pos);
    pos += 1;
    return true;
  }
  if (data.size() - pos < 4)
    return false;
  length =
      ((byte(pos) & 0x7f) << 24) | (byte(pos + 1) << 16) | (byte(pos + 2) << 8) | byte(pos + 3);
  pos += 4;
  return true;
}

} // namespace

bool decodeNameValuePairs(std::string_view data,
                          std::vector<std::pair<std::string_view, std::string_view>>& out) {
  out.clear();
  size_t pos = 0;
  while (pos < data.size()) {
    size_t name_length = 0;
    size_t value_length = 0;
    if (!readLength(data, pos, name_length) || !readLength(data, pos, value_length))
      return false;
    size_t left = data.size() - pos;
    if (name_length > left || value_length > left - name_length)
      return false;
    out.emplace_back(data.substr(pos, name_length), data.substr(pos + name_length, value_length));
    pos += name_length + value_length;
  }
  return true;
}

bool Parser::feed(std::string_view bytes, Visitor& visitor) {
  if (failed_)
    return false;
  while (!bytes.empty()) {
    bool ok = true;
    switch (stage_) {
    case Stage::kHeader:
      ok = takeHeader(bytes, visitor);
      break;
    case Stage::kContent:
      ok = takeContent(bytes, visitor);
      break;
    case Stage::kPadding:
      skipPadding(bytes);
      break;
    }
    if (!ok)
      return false;
  }
  return true;
}

void Parser::endRequest(uint16_t id) {
  auto it = std::find_if(requests_.begin(), requests_.end(),
                         [id](const RequestState& r) { return r.id == id; });
  if (it == requests_.end())
    return;
  if (it != requests_.end() - 1)
    *it = std::move(requests_.back());
  requests_.pop_back();
  // An idle held connection should own no request storage.
  if (requests_.empty())
    std::vector<RequestState>().swap(requests_);
}

bool Parser::isActive(uint16_t id) const {
  return std::any_of(requests_.begin(), requests_.end(),
                     [id](const RequestState& r) { return r.id == id; });
}

bool Parser::idle() const {
  return stage_ == Stage::kHeader && header_have_ == 0;
}

Parser::RequestState* Parser::find(uint16_t id) {
  for (RequestState& r : requests_) {
    if (r.id == id)
      return &r;
  }
  return nullptr;
}

uint8_t Parser::recordType() const {
  return header_[offsetof(FCGI_Header, type)];
}

uint16_t Parser::recordId() const {
  return static_cast<uint16_t>((header_[offsetof(FCGI_Header, requestIdB1)] << 8) |
                               header_[offsetof(FCGI_Header, requestIdB0)]);
}

const std::string& Parser::error() const {
  static const std::string kNone;
  return error_ ? *error_ : kNone;
}

bool Parser::fail(std::string message) {
  failed_ = true;
  error_ = std::make_unique<std::string>(std::move(message));
  std::string().swap(body_);
  std::vector<RequestState>().swap(requests_);
  return false;
}

bool Parser::failRecord(std::string_view problem) {
  std::string message =
      typeName(recordType()) + " record for request " + std::to_string(recordId()) + ": ";
  message.append(problem);
  return fail(std::move(message));
}

void Parser::startNextRecord() {
  stage_ = Stage::kHeader;
  header_have_ = 0;
}

// Collects the header; once complete, checks the version and moves on to the content (an empty
// record is handled at once).
bool Parser::takeHeader(std::string_view& bytes, Visitor& visitor) {
  size_t n = std::min<size_t>(FCGI_HEADER_LEN - header_have_, bytes.size());
  std::memcpy(header_ + header_have_, bytes.data(), n);
  header_have_ = static_cast<uint8_t>(header_have_ + n);
  bytes.remove_prefix(n);
  if (header_have_ < FCGI_HEADER_LEN)
    return true;
  FCGI_Header header;
  std::memcpy(&header, header_, sizeof header);
  if (header.version != FCGI_VERSION_1)
    return failRecord("unsupported protocol version " + std::to_string(header.version));
  content_need_ = static_cast<uint16_t>((header.contentLengthB1 << 8) | header.contentLengthB0);
  padding_left_ = header.paddingLength;
  stage_ = Stage::kContent;
  if (content_need_ == 0)
    return finishContent(visitor, {});
  return true;
}

// Content that arrived whole is handled in place; a record split across feed() calls is
// assembled in body_, which is freed as soon as the record is handled.
bool Parser::takeContent(std::string_view& bytes, Visitor& visitor) {
  if (body_.empty() && bytes.size() >= content_need_) {
    std::string_view content = bytes.substr(0, content_need_);
    bytes.remove_prefix(content_need_);
    return finishContent(visitor, content);
  }
  if (body_.empty())
    body_.reserve(content_need_);
  size_t n = std::min<size_t>(content_need_, bytes.size());
  body_.append(bytes.data(), n);
  bytes.remove_prefix(n);
  content_need_ = static_cast<uint16_t>(content_need_ - n);
  if (content_need_ > 0)
    return true;
  std::string content = std::exchange(body_, {});
  return finishContent(visitor, content);
}

void Parser::skipPadding(std::string_view& bytes) {
  size_t n = std::min<size_t>(padding_left_, bytes.size());
  bytes.remove_prefix(n);
  padding_left_ = static_cast<uint8_t>(padding_left_ - n);
  if (padding_left_ == 0)
    startNextRecord();
}

// The record's events are reported before its padding arrives: padding carries nothing.
bool Parser::finishContent(Visitor& visitor, std::string_view content) {
  content_need_ = 0;
  if (padding_left_ > 0)
    stage_ = Stage::kPadding;
  else
    startNextRecord();
  return handleRecord(visitor, content);
}

bool Parser::handleRecord(Visitor& visitor, std::string_view content) {
  const uint8_t type = recordType();
  switch (type) {
  case FCGI_BEGIN_REQUEST:
    return handleBegin(visitor, content);
  case FCGI_ABORT_REQUEST:
  case FCGI_PARAMS:
  case FCGI_STDIN:
    // On id 0 these are management records of a type this side does not know.
    if (recordId() == FCGI_NULL_REQUEST_ID) {
      visitor.onUnknownType(type);
      return true;
    }
    return handleApplication(visitor, content);
  case FCGI_GET_VALUES:
    return handleGetValues(visitor, content);
  case FCGI_DATA:
    // DATA belongs to the FILTER role, which the owner refuses with FCGI_UNKNOWN_ROLE; a web
    // server may have sent it before reading that reply, so it is harmless and ignored.
    return true;
  case FCGI_END_REQUEST:
  case FCGI_STDOUT:
  case FCGI_STDERR:
  case FCGI_GET_VALUES_RESULT:
  case FCGI_UNKNOWN_TYPE:
    // Only an application sends these. Answering FCGI_UNKNOWN_TYPE could ping-pong with a
    // confused peer, so the connection is closed instead.
    return failRecord("is sent by applications, never to a responder");
  default:
    visitor.onUnknownType(type);
    return true;
  }
}

// ABORT_REQUEST, PARAMS or STDIN for a request id other than 0.
bool Parser::handleApplication(Visitor& visitor, std::string_view content) {
  RequestState* state = find(recordId());
  if (!state)
    return true; // inactive id (never begun, or ended): ignored, as the spec asks
  switch (recordType()) {
  case FCGI_ABORT_REQUEST:
    visitor.onAbortRequest(state->id);
    return true;
  case FCGI_PARAMS:
    return handleParams(visitor, *state, content);
  default:
    return handleStdin(visitor, *state, content);
  }
}

bool Parser::handleBegin(Visitor& visitor, std::string_view content) {
  const uint16_t id = recordId();
  if (content.size() != sizeof(FCGI_BeginRequestBody))
    return failRecord("content length " + std::to_string(content.size()) + ", expected 8");
  if (id == FCGI_NULL_REQUEST_ID)
    return failRecord("request id 0 is reserved for management records");
  if (find(id))
    return failRecord("request id is already active");
  if (requests_.size() >= limits_.max_requests)
    return failRecord("more than " + std::to_string(limits_.max_requests) +
                      " concurrent requests on one connection");
  FCGI_BeginRequestBody body;
  std::memcpy(&body, content.data(), sizeof body);
  requests_.emplace_back().id = id;
  const auto role = static_cast<uint16_t>((body.roleB1 << 8) | body.roleB0);
  visitor.onBeginRequest(id, role, (body.flags & FCGI_KEEP_CONN) != 0);
  return true;
}

// Collects the PARAMS stream; its empty record ends it, and the pairs are then reported.
bool Parser::handleParams(Visitor& visitor, RequestState& state, std::string_view content) {
  if (state.params_done)
    return failRecord("PARAMS after the end of the params stream");
  if (!content.empty()) {
    if (!state.params_overflow && content.size() > limits_.max_params_bytes - state.params.size()) {
      state.params_overflow = true;
      std::string().swap(state.params);
    }
    if (!state.params_overflow)
      state.params.append(content);
    return true;
  }
  state.params_done = true;
  if (state.params_overflow) {
    const uint16_t id = state.id; // the callbacks may end the request
    visitor.onParamsTooLarge(id);
    if (isActive(id))
      visitor.onParamsEnd(id);
    return true;
  }
  // Taken out of the state: it is freed here, and the callbacks may end the request.
  const std::string params = std::exchange(state.params, {});
  return deliverParams(visitor, state.id, params);
}

// Decodes the whole stream first, so a malformed one reports no pair at all.
bool Parser::deliverParams(Visitor& visitor, uint16_t id, std::string_view params) {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  if (!decodeNameValuePairs(params, pairs))
    return failRecord("malformed name-value pair in the params stream");
  for (const auto& [name, value] : pairs) {
    visitor.onParam(id, name, value);
    if (!isActive(id))
      return true; // the owner ended the request from its callback
  }
  visitor.onParamsEnd(id);
  return true;
}

bool Parser::handleStdin(Visitor& visitor, RequestState& state, std::string_view content) {
  if (!state.params_done)
    return failRecord("STDIN before the end of the params stream");
  if (state.stdin_done)
    return failRecord("STDIN after the end of the stdin stream");
  if (!content.empty()) {
    visitor.onStdin(state.id, content);
    return true;
  }
  state.stdin_done = true;
  visitor.onStdinEnd(state.id);
  return true;
}

// GET_VALUES carries names with empty values; any values sent are ignored.
bool Parser::handleGetValues(Visitor& visitor, std::string_view content) {
  if (recordId() != FCGI_NULL_REQUEST_ID)
    return failRecord("management record on a request id other than 0");
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  if (!decodeNameValuePairs(content, pairs))
    return failRecord("malformed name-value pair");
  std::vector<std::string> names;
  names.reserve(pairs.size());
  for (const auto& pair : pairs)
    names.emplace_back(pair.first);
  visitor.onGetValues(names);
  return true;
}

} // namespace holdfast::fcgi
