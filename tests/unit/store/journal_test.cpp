// store::Journal: recovery of snapshot + journal, torn tails, damage, generations, compaction,
// the sync policies and new epochs after an unclean stop that cannot be proven complete.
#include <catch2/catch.hpp>

#include "support/files.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "hub/hub.h"
#include "store/crc32.h"
#include "store/file_io.h"
#include "store/journal.h"
#include "store/journal_format.h"
#include "util/clock.h"
#include "util/random.h"

using namespace holdfast;
using store::Journal;
using store::JournalOptions;
using store::RecoverStats;
using store::SyncPolicy;

namespace {

using support::TempDir;

std::string slurp(const std::string& path) {
  return support::readText(path);
}
void spit(const std::string& path, const std::string& text) {
  support::writeText(path, text);
}

// Distinct epochs across runs, as the real random source gives.
class SeededRandom final : public util::Random {
public:
  explicit SeededRandom(uint64_t seed) : n_(seed) {}
  std::string token(size_t) override { return "R" + std::to_string(++n_); }

private:
  uint64_t n_;
};

// One server run: a hub and the journal in `dir`, recovered and opened.
struct Run {
  explicit Run(const std::string& dir, SyncPolicy sync = SyncPolicy::kAlways,
               hub::Limits limits = {}, uint64_t max_bytes = 64ull << 20)
      : random(seed()), hub(limits, clock, random),
        journal(dir, JournalOptions{sync, 100, max_bytes}, clock) {}
  static uint64_t seed() {
    static uint64_t next = 0;
    return next += 1000; // distinct epochs in each run
  }
  bool start(std::string& error) {
    if (!journal.recover(hub, stats, error) || !journal.open(hub, error))
      return false;
    hub.setHistoryLog(&journal);
    return true;
  }
  hub::MessagePtr pub(std::string_view channel, std::string_view data = "{\"n\":1}") {
    hub::PublishResult r = hub.publish(channel, "", data, true);
    REQUIRE(r.status == hub::PublishResult::Status::kOk);
    return r.message;
  }
  void stop() {
    std::string error;
    hub.setHistoryLog(nullptr);
    REQUIRE(journal.close(hub, error));
  }
  util::FakeClock clock;
  SeededRandom random;
  hub::Hub hub;
  Journal journal;
  RecoverStats stats;
};

// Rewrites the snapshot's G line (keeping the checksum right), e.g. to fake another boot.
void rewriteMeta(const std::string& path, const std::string& sync, const std::string& boot) {
  std::string text = slurp(path);
  size_t g = text.find("\nG ") + 1;
  size_t eol = text.find('\n', g);
  std::istringstream line(text.substr(g, eol - g));
  std::string tag, gen, clean;
  line >> tag >> gen >> clean;
  std::string body = text.substr(0, g) + "G " + gen + " " + clean + " " + sync + " " + boot +
                     text.substr(eol, text.rfind("END ") - eol);
  char crc[9];
  snprintf(crc, sizeof crc, "%08x", store::crc32(body));
  spit(path, body + "END " + crc + "\n");
}

} // namespace

TEST_CASE("journal: a fresh directory recovers empty and clean", "[store][journal]") {
  TempDir dir;
  Run run(dir.path + "/state");
  std::string error;
  REQUIRE(run.start(error));
  CHECK(run.stats.clean);
  CHECK(run.stats.complete);
  CHECK(run.stats.channels == 0);
  CHECK(std::filesystem::exists(dir.path + "/state/holdfast.state"));
  CHECK(run.journal.bytes() == store::kJournalHeaderBytes);
}

TEST_CASE("journal: a crash (no close) loses nothing and ids continue", "[store][journal]") {
  TempDir dir;
  std::string epoch, error;
  {
    Run run(dir.path);
    REQUIRE(run.start(error));
    for (int i = 0; i < 5; ++i)
      run.pub("a");
    run.pub("b", "\"text\"");
    epoch = run.hub.find("a")->epoch();
    // destroyed without close(): like SIGKILL
  }
  Run next(dir.path);
  REQUIRE(next.start(error));
  CHECK_FALSE(next.stats.clean);
  CHECK(next.stats.complete);
  CHECK(next.stats.journal_records == 6);
  const hub::Channel* a = next.hub.find("a");
  REQUIRE(a);
  CHECK(a->epoch() == epoch);
  CHECK(a->lastSeq() == 5);
  CHECK(a->messages().size() == 5);
  CHECK(next.pub("a")->id() == epoch + "-6");
}

TEST_CASE("journal: the defect-1 sequence never reissues an id", "[store][journal]") {
  // Publish 5, clean stop, restart, publish 5, crash, restart, publish 10.
  TempDir dir;
  std::string error, epoch;
  {
    Run run(dir.path);
    REQUIRE(run.start(error));
    for (int i = 0; i < 5; ++i)
      epoch = run.pub("c")->epoch;
    run.stop();
  }
  {
    Run run(dir.path);
    REQUIRE(run.start(error));
    CHECK(run.stats.clean);
    for (int i = 0; i < 5; ++i)
      CHECK(run.pub("c")->id() == epoch + "-" + std::to_string(6 + i));
  }
  Run run(dir.path);
  REQUIRE(run.start(error));
  CHECK_FALSE(run.stats.clean);
  for (int i = 0; i < 10; ++i)
    CHECK(run.pub("c")->id() == epoch + "-" + std::to_string(11 + i));
}

TEST_CASE("journal: deletes are journaled", "[store][journal]") {
  TempDir dir;
  std::string error, new_epoch;
  {
    Run run(dir.path);
    REQUIRE(run.start(error));
    run.pub("gone", "1");
    run.pub("kept", "1");
    REQUIRE(run.hub.deleteChannel("gone"));
    new_epoch = run.pub("gone", "2")->epoch; // a new history after the delete
  }
  Run next(dir.path);
  REQUIRE(next.start(error));
  const hub::Channel* gone = next.hub.find("gone");
  REQUIRE(gone);
  CHECK(gone->epoch() == new_epoch);
  CHECK(gone->lastSeq() == 1);
  REQUIRE(next.hub.find("kept"));
}

TEST_CASE("journal: a delete of the last history survives a crash", "[store][journal]") {
  TempDir dir;
  std::string error;
  {
    Run run(dir.path);
    REQUIRE(run.start(error));
    run.pub("x");
    REQUIRE(run.hub.deleteChannel("x"));
  }
  Run next(dir.path);
  REQUIRE(next.start(error));
  CHECK_FALSE(next.hub.find("x"));
}

TEST_CASE("journal: a torn last record is dropped and reported", "[store][journal]") {
  TempDir dir;
  std::string error;
  std::string journal = dir.path + "/holdfast.journal";
  {
    Run run(dir.path);
    REQUIRE(run.start(error));
    run.pub("a");
    run.pub("a");
  }
  std::string full = slurp(journal);
  SECTION("cut inside the payload") {
    spit(journal, full.substr(0, full.size() - 3));
  }
  SECTION("cut inside the record header") {
    spit(journal, full + std::string("\x10\x00\x00", 3));
  }
  SECTION("zeros after the last record") {
    spit(journal, full + std::string(100, '\0'));
  }
  SECTION("a bad checksum on the last record") {
    full[full.size() - 2] ^= 0x20;
    spit(journal, full);
  }
  Run next(dir.path);
  REQUIRE(next.start(error));
  CHECK(next.stats.torn);
  CHECK_THAT(next.stats.notes, Catch::Contains("torn last record"));
  REQUIRE(next.hub.find("a"));
  CHECK(next.hub.find("a")->lastSeq() >= 1);
}

TEST_CASE("journal: damage before the end is refused with file and offset", "[store][journal]") {
  TempDir dir;
  std::string error;
  std::string journal = dir.path + "/holdfast.journal";
  {
    Run run(dir.path);
    REQUIRE(run.start(error));
    run.pub("a");
    run.pub("a");
  }
  std::string full = slurp(journal);
  std::string expect;
  SECTION("bad checksum in the middle") {
    full[store::kJournalHeaderBytes + 12] ^= 0x01;
    expect = "damaged at byte 20: checksum mismatch";
  }
  SECTION("bad header") {
    full[2] = 'X';
    expect = "damaged at byte 0: bad header";
  }
  SECTION("a garbage length in the middle") {
    full[store::kJournalHeaderBytes + 3] = '\x7f';
    expect = "damaged at byte 20: bad record length";
  }
  spit(journal, full);
  Run next(dir.path);
  CHECK_FALSE(next.journal.recover(next.hub, next.stats, error));
  CHECK_THAT(error, Catch::Contains(journal));
  CHECK_THAT(error, Catch::Contains(expect));
  CHECK(next.hub.stats().channels == 0); // nothing half-loaded
}

TEST_CASE("journal: a damaged snapshot is refused with file and offset", "[store][journal]") {
  TempDir dir;
  std::string error;
  {
    Run run(dir.path);
    REQUIRE(run.start(error));
    run.pub("a");
    run.stop();
  }
  std::string path = dir.path + "/holdfast.state";
  std::string text = slurp(path);
  text[text.find("\"n\":1") + 4] = '2';
  spit(path, text);
  Run next(dir.path);
  CHECK_FALSE(next.journal.recover(next.hub, next.stats, error));
  CHECK_THAT(error, Catch::Contains(path + ": damaged at byte"));
  CHECK_THAT(error, Catch::Contains("checksum mismatch"));
  CHECK(next.hub.stats().channels == 0);
}

TEST_CASE("journal: generations tie the journal to its snapshot", "[store][journal]") {
  TempDir dir;
  std::string error;
  std::string snapshot = dir.path + "/holdfast.state";
  std::string journal = dir.path + "/holdfast.journal";
  std::string old_snapshot, old_journal;
  {
    Run run(dir.path);
    REQUIRE(run.start(error));
    run.pub("a");
    old_snapshot = slurp(snapshot);
    old_journal = slurp(journal);
    run.pub("a");
    REQUIRE(run.journal.compact(run.hub, error)); // snapshot holds both, journal empty
    run.pub("a");
  }
  SECTION("a stale journal (crash between snapshot and new journal) is ignored") {
    spit(journal, old_journal); // generation one behind the snapshot; its record is in it
    Run next(dir.path);
    REQUIRE(next.start(error));
    CHECK_THAT(next.stats.notes, Catch::Contains("already compacted"));
    CHECK(next.hub.find("a")->lastSeq() == 2);
  }
  SECTION("a snapshot older than the journal is refused") {
    spit(snapshot, old_snapshot);
    Run next(dir.path);
    CHECK_FALSE(next.journal.recover(next.hub, next.stats, error));
    CHECK_THAT(error, Catch::Contains("does not continue the snapshot"));
  }
  SECTION("a journal without its snapshot is refused") {
    std::filesystem::remove(snapshot);
    Run next(dir.path);
    CHECK_FALSE(next.journal.recover(next.hub, next.stats, error));
    CHECK_THAT(error, Catch::Contains("journal without its snapshot"));
  }
  SECTION("the current pair replays") {
    Run next(dir.path);
    REQUIRE(next.start(error));
    CHECK(next.stats.journal_records == 1);
    CHECK(next.hub.find("a")->lastSeq() == 3);
  }
}

TEST_CASE("journal: records that do not follow the snapshot are damage", "[store][journal]") {
  TempDir dir;
  std::string error;
  std::string journal = dir.path + "/holdfast.journal";
  hub::MessagePtr m;
  {
    Run run(dir.path);
    REQUIRE(run.start(error));
    m = run.pub("a");
  }
  spit(journal, slurp(journal) + store::encodePublishRecord(*m)); // seq 1 twice
  Run next(dir.path);
  CHECK_FALSE(next.journal.recover(next.hub, next.stats, error));
  CHECK_THAT(error, Catch::Contains("does not follow seq 1"));
}

TEST_CASE("journal: compaction when the journal outgrows journal_max_bytes", "[store][journal]") {
  TempDir dir;
  std::string error;
  {
    Run run(dir.path, SyncPolicy::kOff, {}, 1000);
    REQUIRE(run.start(error));
    while (!run.journal.compactionDue())
      run.pub("a");
    uint64_t seq = run.hub.find("a")->lastSeq();
    REQUIRE(run.journal.compact(run.hub, error));
    CHECK(run.journal.bytes() == store::kJournalHeaderBytes);
    CHECK_FALSE(run.journal.compactionDue());
    run.pub("a");
    CHECK(run.hub.find("a")->lastSeq() == seq + 1);
  }
  Run next(dir.path, SyncPolicy::kOff);
  REQUIRE(next.start(error));
  CHECK(next.stats.journal_records == 1);
  CHECK(next.hub.find("a")->messages().size() == next.hub.find("a")->lastSeq());
}

TEST_CASE("journal: an unclean stop across a reboot without always starts new epochs",
          "[store][journal]") {
  TempDir dir;
  std::string error, epoch;
  {
    Run run(dir.path, SyncPolicy::kInterval);
    REQUIRE(run.start(error));
    epoch = run.pub("a")->epoch;
  }
  SECTION("another boot: history cannot be proven complete") {
    rewriteMeta(dir.path + "/holdfast.state", "interval", "some-other-boot");
    std::string new_epoch;
    {
      Run next(dir.path, SyncPolicy::kInterval);
      REQUIRE(next.start(error));
      CHECK_FALSE(next.stats.complete);
      CHECK(next.stats.reset_channels == 1);
      CHECK_FALSE(next.hub.find("a"));
      new_epoch = next.pub("a")->epoch; // a resuming client gets an "epoch" gap
      CHECK(new_epoch != epoch);
    }
    // The reset is itself durable: the next crash does not bring the old epoch back.
    Run third(dir.path, SyncPolicy::kInterval);
    REQUIRE(third.start(error));
    CHECK(third.hub.find("a")->epoch() == new_epoch);
  }
  SECTION("another boot, but written with journal_sync=always") {
    rewriteMeta(dir.path + "/holdfast.state", "always", "some-other-boot");
    Run next(dir.path);
    REQUIRE(next.start(error));
    CHECK(next.stats.complete);
    CHECK(next.hub.find("a")->epoch() == epoch);
  }
  SECTION("unknown boot id is not proof") {
    rewriteMeta(dir.path + "/holdfast.state", "off", "-");
    Run next(dir.path);
    REQUIRE(next.start(error));
    CHECK_FALSE(next.stats.complete);
  }
  SECTION("the same boot: the page cache had every record") {
    Run next(dir.path);
    REQUIRE(next.start(error));
    CHECK(next.stats.complete);
    CHECK(next.hub.find("a")->epoch() == epoch);
  }
}

TEST_CASE("journal: a version 1 state file starts new epochs", "[store][journal]") {
  TempDir dir;
  spit(dir.path + "/holdfast.state", "HOLDFAST-STATE 1\nC a T1 3 0\nEND\n");
  Run run(dir.path);
  std::string error;
  REQUIRE(run.start(error));
  CHECK_FALSE(run.stats.complete);
  CHECK_THAT(run.stats.notes, Catch::Contains("version 1"));
  CHECK_FALSE(run.hub.find("a"));
}

TEST_CASE("journal: a failed append refuses the publish and consumes nothing", "[store][journal]") {
  TempDir dir;
  std::string error;
  Run run(dir.path);
  REQUIRE(run.start(error));
  run.pub("a");
  REQUIRE(run.journal.close(run.hub, error)); // appends now fail; hub still points at it
  hub::PublishResult r = run.hub.publish("a", "", "1", true);
  CHECK(r.status == hub::PublishResult::Status::kUnavailable);
  CHECK_THAT(r.error, Catch::Contains("not open"));
  CHECK(run.hub.find("a")->lastSeq() == 1);
  hub::DeleteResult d = run.hub.deleteChannel("a");
  CHECK(d.status == hub::DeleteResult::Status::kUnavailable);
  CHECK(run.hub.find("a"));
  run.hub.setHistoryLog(nullptr);
}

TEST_CASE("journal: interval policy syncs when due", "[store][journal]") {
  TempDir dir;
  std::string error;
  Run run(dir.path, SyncPolicy::kInterval);
  REQUIRE(run.start(error));
  CHECK_FALSE(run.journal.due());
  run.pub("a");
  CHECK_FALSE(run.journal.due());
  run.clock.advance(99);
  CHECK_FALSE(run.journal.due());
  run.clock.advance(1);
  CHECK(run.journal.due());
  REQUIRE(run.journal.sync(error));
  CHECK_FALSE(run.journal.due());
  CHECK(run.journal.sync(error)); // nothing to do
}

TEST_CASE("journal: one server per state directory", "[store][journal]") {
  TempDir dir;
  std::string error;
  Run a(dir.path);
  REQUIRE(a.start(error));
  Run b(dir.path);
  CHECK_FALSE(b.journal.recover(b.hub, b.stats, error));
  CHECK_THAT(error, Catch::Contains("in use by another holdfast"));
}

TEST_CASE("journal: sync policy names", "[store][journal]") {
  CHECK(store::parseSyncPolicy("always") == SyncPolicy::kAlways);
  CHECK(store::parseSyncPolicy("interval") == SyncPolicy::kInterval);
  CHECK(store::parseSyncPolicy("off") == SyncPolicy::kOff);
  CHECK_FALSE(store::parseSyncPolicy("sometimes"));
  CHECK(std::string(store::syncPolicyName(SyncPolicy::kOff)) == "off");
}
