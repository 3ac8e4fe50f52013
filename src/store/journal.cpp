// The journal beside the snapshot: recovery, appends, fsync policy, compaction.
#include "store/journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/file_io.h"
#include "store/history.h"
#include "store/journal_format.h"
#include "store/state_file.h"

namespace holdfast::store {

std::optional<SyncPolicy> parseSyncPolicy(std::string_view name) {
  if (name == "always")
    return SyncPolicy::kAlways;
  if (name == "interval")
    return SyncPolicy::kInterval;
  if (name == "off")
    return SyncPolicy::kOff;
  return std::nullopt;
}

const char* syncPolicyName(SyncPolicy policy) {
  switch (policy) {
  case SyncPolicy::kAlways:
    return "always";
  case SyncPolicy::kInterval:
    return "interval";
  case SyncPolicy::kOff:
    return "off";
  }
  return "interval";
}

Journal::Journal(std::string dir, JournalOptions options, const util::Clock& clock)
    : dir_(std::move(dir)), snapshot_path_(dir_ + "/holdfast.state"),
      journal_path_(dir_ + "/holdfast.journal"), options_(options), clock_(clock) {}

Journal::~Journal() {
  closeFile();
  if (lock_fd_ >= 0)
    ::close(lock_fd_); // releases the flock
}

void Journal::closeFile() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

// One server per directory: two writing the same journal would interleave records.
bool Journal::lock(std::string& error) {
  if (lock_fd_ >= 0)
    return true;
  if (mkdir(dir_.c_str(), 0750) != 0 && errno != EEXIST) {
    error = "mkdir " + dir_ + ": " + strerror(errno);
    return false;
  }
  std::string path = dir_ + "/holdfast.lock";
  lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (lock_fd_ < 0) {
    error = "open " + path + ": " + strerror(errno);
    return false;
  }
  if (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    error = path + ": " +
            (errno == EWOULDBLOCK ? std::string("state_dir is in use by another holdfast")
                                  : std::string(strerror(errno)));
    ::close(lock_fd_);
    lock_fd_ = -1;
    return false;
  }
  return true;
}

namespace {

// Reads the journal that continues `meta` into `history`. `applies` says whether its records
// count (false for a journal a compaction had already folded into the snapshot).
bool readJournal(const std::string& path, const std::string& text, const SnapshotMeta& meta,
                 History& history, JournalScan& scan, RecoverStats& stats, std::string& error) {
  std::string why;
  uint64_t generation = 0;
  if (!parseJournalHeader(text, generation, why)) {
    error = path + ": damaged at byte 0: " + why;
    return false;
  }
  if (meta.version == 1 || generation > meta.generation) {
    error = path + ": journal generation " + std::to_string(generation) +
            " does not continue the snapshot (generation " + std::to_string(meta.generation) + ")";
    return false;
  }
  if (generation < meta.generation) {
    stats.notes += "journal already compacted into the snapshot; ";
    return true;
  }
  if (!scanJournal(text, history, scan, why)) {
    error = path + ": " + why;
    return false;
  }
  stats.journal_records = scan.records;
  if (scan.torn) {
    stats.torn = true;
    stats.notes += "torn last record dropped at byte " + std::to_string(scan.good_bytes) + " (" +
                   scan.torn_reason + "); ";
  }
  return true;
}

} // namespace

bool Journal::recover(hub::Hub& hub, RecoverStats& stats, std::string& error) {
  stats = RecoverStats{};
  if (!lock(error))
    return false;
  std::string snapshot, journal, why;
  ReadStatus s = readFile(snapshot_path_, snapshot, error);
  ReadStatus j =
      s == ReadStatus::kError ? ReadStatus::kMissing : readFile(journal_path_, journal, error);
  if (s == ReadStatus::kError || j == ReadStatus::kError)
    return false;
  if (s == ReadStatus::kMissing) {
    if (j == ReadStatus::kOk) {
      error = journal_path_ + ": journal without its snapshot " + snapshot_path_;
      return false;
    }
    stats.clean = true; // nothing was ever stored here
    stats.notes = "no saved state";
    return true;
  }
  History history(hub.limits().max_messages);
  SnapshotMeta meta;
  if (!parseState(snapshot, history, meta, why)) {
    error = snapshot_path_ + ": " + why;
    return false;
  }
  generation_ = meta.generation;
  JournalScan scan;
  if (j == ReadStatus::kOk &&
      !readJournal(journal_path_, journal, meta, history, scan, stats, error))
    return false;
  if (j == ReadStatus::kMissing)
    stats.notes += "journal missing; ";
  // A clean stop leaves an empty journal; records after a "clean" snapshot mean it is not.
  stats.clean = meta.version == 2 && meta.clean && scan.records == 0;
  std::string boot = bootId();
  bool same_boot = !meta.boot_id.empty() && meta.boot_id == boot;
  stats.complete = stats.clean || (meta.version == 2 && j == ReadStatus::kOk &&
                                   (meta.sync == "always" || same_boot));
  if (!stats.complete) {
    stats.reset_channels = history.channelCount();
    stats.notes += meta.version == 1
                       ? "version 1 state file cannot be proven current; "
                       : "unclean stop with journal_sync=" + meta.sync + " across a reboot; ";
    stats.notes += "history not restored, every channel starts a new epoch";
    return true;
  }
  stats.channels = history.channelCount();
  stats.messages = history.messageCount();
  history.restoreInto(hub);
  if (!stats.clean)
    stats.notes += "unclean stop; history complete (journal replayed)";
  return true;
}

bool Journal::open(const hub::Hub& hub, std::string& error) {
  if (!lock(error))
    return false;
  closed_ = false;
  return rotate(hub, false, error);
}

// Snapshot first, then the new journal: a crash between the two leaves a journal one
// generation behind the snapshot, which recovery knows to ignore (its records are in it).
bool Journal::rotate(const hub::Hub& hub, bool clean, std::string& error) {
  SnapshotMeta meta;
  meta.generation = generation_ + 1;
  meta.clean = clean;
  meta.sync = syncPolicyName(options_.sync);
  meta.boot_id = bootId();
  if (!replaceFile(dir_, snapshot_path_, serializeState(hub, meta), error))
    return false; // the current journal still continues the current snapshot
  // The journal on disk is now stale: nothing may be appended until the new one exists.
  closeFile();
  generation_ = meta.generation;
  refusing_ = true;
  if (!replaceFile(dir_, journal_path_, encodeJournalHeader(generation_), error))
    return false;
  fd_ = ::open(journal_path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) {
    error = "open " + journal_path_ + ": " + strerror(errno);
    return false;
  }
  bytes_ = kJournalHeaderBytes;
  dirty_ = false;
  refusing_ = false;
  return true;
}

bool Journal::writeRecord(const std::string& record, std::string& error) {
  if (closed_ || fd_ < 0) {
    error = "journal " + journal_path_ + " is not open";
    return false;
  }
  if (refusing_) {
    error = "journal " + journal_path_ + " refuses writes after an earlier error";
    return false;
  }
  if (!writeAll(fd_, record)) {
    error = "write " + journal_path_ + ": " + strerror(errno);
    // Cut a partial record off, or later records would follow garbage.
    if (ftruncate(fd_, static_cast<off_t>(bytes_)) != 0)
      refusing_ = true;
    return false;
  }
  bytes_ += record.size();
  if (options_.sync == SyncPolicy::kAlways) {
    if (fdatasync(fd_) != 0) {
      error = "fdatasync " + journal_path_ + ": " + strerror(errno);
      // Durability of everything written is now unknown: stop until a compaction rewrites it.
      refusing_ = true;
      return false;
    }
  } else if (!dirty_) {
    dirty_ = true;
    dirty_since_ms_ = clock_.nowMs();
  }
  return true;
}

bool Journal::append(const hub::Message& message, std::string& error) {
  std::string record = encodePublishRecord(message);
  if (record.empty()) {
    error = "message too large for a journal record";
    return false;
  }
  return writeRecord(record, error);
}

bool Journal::appendDelete(std::string_view channel, std::string& error) {
  return writeRecord(encodeDeleteRecord(channel), error);
}

bool Journal::logPublish(const hub::Message& message, std::string& error) {
  return append(message, error);
}

bool Journal::logDelete(std::string_view channel, std::string& error) {
  return appendDelete(channel, error);
}

bool Journal::due() const {
  return options_.sync == SyncPolicy::kInterval && dirty_ &&
         clock_.nowMs() - dirty_since_ms_ >= options_.sync_interval_ms;
}

bool Journal::sync(std::string& error) {
  if (!dirty_ || fd_ < 0)
    return true;
  if (fdatasync(fd_) != 0) {
    error = "fdatasync " + journal_path_ + ": " + strerror(errno);
    refusing_ = true;
    return false;
  }
  dirty_ = false;
  return true;
}

bool Journal::compactionDue() const {
  return !closed_ && (bytes_ > options_.max_bytes || refusing_);
}

bool Journal::compact(const hub::Hub& hub, std::string& error) {
  if (closed_) {
    error = "journal " + journal_path_ + " is closed";
    return false;
  }
  return rotate(hub, false, error);
}

bool Journal::close(const hub::Hub& hub, std::string& error) {
  if (closed_)
    return true;
  bool ok = rotate(hub, true, error);
  closed_ = true;
  closeFile();
  return ok;
}

} // namespace holdfast::store
