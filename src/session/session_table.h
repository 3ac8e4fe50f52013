// Sessions: a server-issued, unguessable id that ties successive data requests of one client
// together. One held request per session (a newer one supersedes the older); the session keeps
// the cursor of its last request for piggyback reads and expires session_ttl after its last
// request ended. Pure bookkeeping: the server acts on what these calls return. Every change is
// written through to the Directory (directory.h: nothing for the memory engine, Redis when
// several nodes share the sessions); expire() is local only (the directory has its own ttl).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "hub/cursor.h"
#include "session/directory.h"
#include "util/clock.h"
#include "util/random.h"

namespace holdfast::session {

struct Session {
  hub::Cursor cursor;     // position after what the session's last request delivered
  uint64_t conn_id = 0;   // the held request, when attached
  uint64_t serial = 0;    // 0 = no request held now
  int64_t expires_ms = 0; // monotonic; only while detached
};

// A held request, by the ids the event layer issues (never reused).
struct HeldRef {
  uint64_t conn_id;
  uint64_t serial;
};

class SessionTable {
public:
  SessionTable(const util::Clock& clock, util::Random& random, int64_t ttl_ms)
      : clock_(clock), random_(random), ttl_ms_(ttl_ms), directory_(&local_) {}

  // Changes are written through to `directory` from now on (it must outlive the table). The
  // default is a LocalDirectory.
  void setDirectory(Directory& directory) { directory_ = &directory; }
  Directory& directory() { return *directory_; }

  // Issues a new session id (128 random bits, base64url).
  std::string create();
  Session* find(std::string_view id);
  // Attaches a held request. Returns the request it replaces, if one was attached.
  std::optional<HeldRef> attach(std::string_view id, uint64_t conn_id, uint64_t serial);
  // The held request `serial` ended: remember its cursor and start the ttl. Ignored when
  // another request has attached since.
  void detach(std::string_view id, uint64_t serial, const hub::Cursor& cursor);
  // A request of the session was answered without being held (poll, backlog, piggyback):
  // remember `cursor` and restart the ttl. With `take_over`, the held request attached now (if
  // any) is detached and returned, for the caller to supersede.
  std::optional<HeldRef> touch(std::string_view id, const hub::Cursor& cursor, bool take_over);
  // Removes the session; returns the held request to close, if any.
  std::optional<HeldRef> erase(std::string_view id);
  // A session another node issued or changed, as the directory has it: created here when
  // missing, its cursor replaced (attachment kept). Not written through.
  Session& import(std::string_view id, const hub::Cursor& cursor);
  // Drops detached sessions whose ttl passed. Returns how many.
  size_t expire();
  size_t size() const { return sessions_.size(); }
  void setTtl(int64_t ttl_ms) { ttl_ms_ = ttl_ms; }

  // Session ids are 22 chars of base64url.
  static bool isValidId(std::string_view id);

private:
  const util::Clock& clock_;
  util::Random& random_;
  int64_t ttl_ms_;
  Directory* directory_;
  LocalDirectory local_;
  std::unordered_map<std::string, Session> sessions_;
};

} // namespace holdfast::session
