// Session bookkeeping: ids, attach/detach of held requests, ttl expiry.
#include "session/session_table.h"

#include "util/base64url.h"

namespace holdfast::session {

std::string SessionTable::create() {
  std::string id;
  do {
    id = random_.token(16);
  } while (sessions_.count(id));
  Session s;
  s.expires_ms = clock_.nowMs() + ttl_ms_;
  sessions_.emplace(id, std::move(s));
  directory_->put(id, {});
  return id;
}

Session* SessionTable::find(std::string_view id) {
  auto it = sessions_.find(std::string(id));
  return it == sessions_.end() ? nullptr : &it->second;
}

std::optional<HeldRef> SessionTable::attach(std::string_view id, uint64_t conn_id,
                                            uint64_t serial) {
  Session* s = find(id);
  if (!s)
    return std::nullopt;
  std::optional<HeldRef> previous;
  if (s->serial != 0)
    previous = HeldRef{s->conn_id, s->serial};
  s->conn_id = conn_id;
  s->serial = serial;
  directory_->claim(std::string(id));
  return previous;
}

void SessionTable::detach(std::string_view id, uint64_t serial, const hub::Cursor& cursor) {
  Session* s = find(id);
  if (!s || s->serial != serial)
    return;
  s->cursor = cursor;
  s->conn_id = 0;
  s->serial = 0;
  s->expires_ms = clock_.nowMs() + ttl_ms_;
  directory_->release(std::string(id), cursor);
}

std::optional<HeldRef> SessionTable::touch(std::string_view id, const hub::Cursor& cursor,
                                           bool take_over) {
  Session* s = find(id);
  if (!s)
    return std::nullopt;
  s->cursor = cursor;
  s->expires_ms = clock_.nowMs() + ttl_ms_;
  if (!take_over || s->serial == 0) {
    directory_->put(std::string(id), cursor);
    return std::nullopt;
  }
  HeldRef held{s->conn_id, s->serial};
  s->conn_id = 0;
  s->serial = 0; // its detach() is then ignored and cannot move the cursor back
  directory_->release(std::string(id), cursor);
  return held;
}

std::optional<HeldRef> SessionTable::erase(std::string_view id) {
  auto it = sessions_.find(std::string(id));
  if (it == sessions_.end())
    return std::nullopt;
  std::optional<HeldRef> held;
  if (it->second.serial != 0)
    held = HeldRef{it->second.conn_id, it->second.serial};
  sessions_.erase(it);
  directory_->erase(std::string(id));
  return held;
}

Session& SessionTable::import(std::string_view id, const hub::Cursor& cursor) {
  auto [it, added] = sessions_.try_emplace(std::string(id));
  if (added)
    it->second.expires_ms = clock_.nowMs() + ttl_ms_;
  it->second.cursor = cursor;
  return it->second;
}

size_t SessionTable::expire() {
  int64_t now = clock_.nowMs();
  return std::erase_if(sessions_, [now](const auto& kv) {
    return kv.second.serial == 0 && kv.second.expires_ms <= now;
  });
}

bool SessionTable::isValidId(std::string_view id) {
  return id.size() == 22 && util::isBase64url(id);
}

} // namespace holdfast::session
