// Crash-safe channel history in state_dir: the snapshot (state_file.h) plus an append-only
// journal (journal_format.h) of every publish and channel delete since it, so a SIGKILL loses
// nothing acknowledged and a power loss loses at most what the journal_sync policy allows.
//
// Files in `dir`: holdfast.state (snapshot), holdfast.journal (journal), holdfast.lock (held
// with flock while a server uses the directory).
//
// How the memory engine uses it, all on the event loop (nothing here is thread-safe):
//   Journal journal(dir, options, clock);
//   journal.recover(hub, stats, error)   // once, before anything touches the hub; false: do not
//                                        // start (error names the file and byte offset)
//   journal.open(hub, error)             // writes a fresh snapshot and an empty journal; false:
//                                        // do not start
//   hub.setHistoryLog(&journal)          // from now on Hub::publish/deleteChannel append a
//                                        // record before they take effect; a failed append
//                                        // makes them return kUnavailable, answer 503
//   timer every min(journal_sync_interval, 1000) ms:
//     if (journal.due()) journal.sync(error)                 // interval policy
//     if (journal.compactionDue()) journal.compact(hub, error)
//   at shutdown, after the last publish: hub.setHistoryLog(nullptr); journal.close(hub, error)
//
// Recovery: the snapshot is loaded and the journal's records are applied on top, into a
// side model (history.h); only when both files have been read and checked is the hub touched,
// so a damaged file is never half-loaded. A torn last record is dropped and logged. Damage
// (bad header, bad checksum before the end, records that do not follow the snapshot) makes
// recover() fail: start-up refuses, naming the file and offset; the operator may move the
// files aside to start with new epochs for every channel (docs/operations.md).
//
// Whether recovered history is complete: after a clean shutdown, yes. After an unclean stop, yes
// if the journal was written with journal_sync=always, or if the machine did not reboot since
// (same kernel boot id: every write(2) reached the page cache, whatever the policy). Otherwise
// records acknowledged but not yet fsynced may be missing, so no recovered channel is trusted:
// none is restored, each gets a new epoch when next touched, and resuming clients get an
// "epoch" gap. Either way no id is ever issued twice.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hub/hub.h"
#include "util/clock.h"

namespace holdfast::store {

enum class SyncPolicy {
  kAlways,   // fdatasync before the publish is acknowledged: a power loss loses nothing acked
  kInterval, // fdatasync every sync_interval_ms: a power loss may lose that much (-> new epochs)
  kOff,      // never fsync until compaction: a power loss may lose what the kernel had not
             // written back (-> new epochs). A process crash loses nothing under any policy.
};

std::optional<SyncPolicy> parseSyncPolicy(std::string_view name);
const char* syncPolicyName(SyncPolicy policy);

struct JournalOptions {
  SyncPolicy sync = SyncPolicy::kInterval;
  int64_t sync_interval_ms = 200;
  uint64_t max_bytes = 64ull << 20; // compactionDue() past this size
};

struct RecoverStats {
  size_t channels = 0;        // channels restored into the hub
  size_t messages = 0;        // messages restored (before the hub's limits)
  size_t journal_records = 0; // records replayed
  bool clean = false;         // the last run stopped cleanly
  bool complete = true;       // history proven complete (see above)
  size_t reset_channels = 0;  // channels not restored because history was not proven complete
  bool torn = false;          // a torn last journal record was dropped
  std::string notes;          // what was found, for the start-up log line
};

class Journal final : public hub::HistoryLog {
public:
  Journal(std::string dir, JournalOptions options, const util::Clock& clock);
  ~Journal() override; // closes the files; writes nothing (close() is the clean path)
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Takes the directory lock and loads snapshot + journal into `hub` (see above). A missing
  // directory or missing files are an empty history. False with `error` on damage or I/O errors;
  // the hub is then untouched.
  bool recover(hub::Hub& hub, RecoverStats& stats, std::string& error);
  // Starts this run's journal: snapshot of `hub` (marked unclean) and an empty journal, one
  // generation on. Creates `dir` if missing. Call after recover().
  bool open(const hub::Hub& hub, std::string& error);

  // Appends one record; under kAlways also fdatasyncs it. False with `error` if the record could
  // not be written (or synced): the caller must not acknowledge the change. After a failed
  // fsync the journal refuses every append until a compaction succeeds.
  bool append(const hub::Message& message, std::string& error);
  bool appendDelete(std::string_view channel, std::string& error);

  // kInterval: true when records are unsynced and the oldest is sync_interval_ms old.
  bool due() const;
  // fdatasync of unsynced records (no-op when there are none). False with `error` on failure;
  // the journal then refuses appends until compacted (compactionDue() says so).
  bool sync(std::string& error);
  // True when the journal outgrew max_bytes or is refusing appends after an error.
  bool compactionDue() const;
  // Writes a snapshot of `hub` and starts an empty journal. Blocks for the snapshot's write.
  bool compact(const hub::Hub& hub, std::string& error);
  // Clean shutdown: a final snapshot marked clean and an empty journal. No appends after it.
  bool close(const hub::Hub& hub, std::string& error);

  uint64_t bytes() const { return bytes_; }
  bool refusing() const { return refusing_; }
  const std::string& snapshotPath() const { return snapshot_path_; }
  const std::string& journalPath() const { return journal_path_; }

  // hub::HistoryLog
  bool logPublish(const hub::Message& message, std::string& error) override;
  bool logDelete(std::string_view channel, std::string& error) override;

private:
  bool lock(std::string& error);
  bool writeRecord(const std::string& record, std::string& error);
  bool rotate(const hub::Hub& hub, bool clean, std::string& error);
  void closeFile();

  std::string dir_;
  std::string snapshot_path_;
  std::string journal_path_;
  JournalOptions options_;
  const util::Clock& clock_;
  int fd_ = -1;
  int lock_fd_ = -1;
  uint64_t generation_ = 0; // of the current snapshot and journal
  uint64_t bytes_ = 0;      // journal file size
  bool dirty_ = false;      // records written but not fsynced
  int64_t dirty_since_ms_ = 0;
  bool refusing_ = false; // a write or fsync failed: appends refused until compaction
  bool closed_ = false;
};

} // namespace holdfast::store
