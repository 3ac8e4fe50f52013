// The journal's record format and the replay rules of store::History, byte by byte.
#include <catch2/catch.hpp>

#include <string>

#include "hub/message.h"
#include "store/crc32.h"
#include "store/history.h"
#include "store/journal_format.h"

using namespace holdfast;
using store::History;
using store::JournalScan;

namespace {

hub::Message message(std::string channel, std::string epoch, uint64_t seq) {
  return *hub::makeMessage(std::move(channel), std::move(epoch), seq, "message", "{\"n\":1}", true,
                           1700000000000);
}

std::string publish(const std::string& channel, const std::string& epoch, uint64_t seq) {
  return store::encodePublishRecord(message(channel, epoch, seq));
}

// A well-framed record around any payload.
std::string framed(const std::string& payload) {
  std::string len(4, '\0');
  for (int i = 0; i < 4; ++i)
    len[i] = static_cast<char>((payload.size() >> (8 * i)) & 0xFF);
  uint32_t crc = store::crc32(payload, store::crc32(len));
  std::string out = len;
  for (int i = 0; i < 4; ++i)
    out += static_cast<char>((crc >> (8 * i)) & 0xFF);
  return out + payload;
}

bool scan(const std::string& body, History& history, JournalScan& s, std::string& error) {
  return store::scanJournal(store::encodeJournalHeader(9) + body, history, s, error);
}

} // namespace

TEST_CASE("journal format: records round trip through a scan", "[store][journal]") {
  History history;
  JournalScan s;
  std::string error;
  std::string body = publish("a", "E1", 1) + publish("a", "E1", 2) +
                     store::encodeDeleteRecord("a") + publish("a", "E2", 1) +
                     publish("b", "E3", 1) + store::encodeDeleteRecord("never");
  REQUIRE(scan(body, history, s, error));
  CHECK(s.generation == 9);
  CHECK(s.records == 6);
  CHECK_FALSE(s.torn);
  CHECK(s.good_bytes == store::kJournalHeaderBytes + body.size());
  REQUIRE(history.channelCount() == 2);
  const store::ChannelHistory& a = history.channels().find("a")->second;
  CHECK(a.epoch == "E2");
  CHECK(a.last_seq == 1);
  REQUIRE(a.messages.size() == 1);
  CHECK(a.messages[0]->json == message("a", "E2", 1).json);
  CHECK(a.messages[0]->time_ms == 1700000000000);
}

TEST_CASE("journal format: replay keeps at most `keep` messages per channel", "[store][journal]") {
  History history(3);
  JournalScan s;
  std::string error, body;
  for (uint64_t seq = 1; seq <= 10; ++seq)
    body += publish("a", "E1", seq);
  REQUIRE(scan(body, history, s, error));
  const store::ChannelHistory& a = history.channels().find("a")->second;
  CHECK(a.last_seq == 10);
  REQUIRE(a.messages.size() == 3);
  CHECK(a.messages.front()->seq == 8);
}

TEST_CASE("journal format: records must follow what came before", "[store][journal]") {
  History history;
  JournalScan s;
  std::string error;
  SECTION("a skipped seq") {
    CHECK_FALSE(scan(publish("a", "E1", 1) + publish("a", "E1", 3), history, s, error));
    CHECK_THAT(error, Catch::Contains("does not follow seq 1"));
  }
  SECTION("a history that starts in the middle") {
    CHECK_FALSE(scan(publish("a", "E1", 4), history, s, error));
    CHECK_THAT(error, Catch::Contains("not in the snapshot"));
  }
  SECTION("continuing a snapshot channel") {
    store::ChannelHistory snap;
    snap.epoch = "E1";
    snap.last_seq = 4;
    REQUIRE(history.addChannel("a", snap, error));
    CHECK(scan(publish("a", "E1", 5), history, s, error));
  }
}

TEST_CASE("journal format: well-framed but bad payloads are damage", "[store][journal]") {
  History history;
  JournalScan s;
  std::string error;
  std::string good = publish("a", "E1", 1);
  SECTION("unknown record type") {
    CHECK_FALSE(scan(framed("X") + good, history, s, error));
  }
  SECTION("trailing bytes in a payload") {
    CHECK_FALSE(scan(framed(good.substr(8) + "!") + good, history, s, error));
  }
  SECTION("a bad channel name in a delete") {
    CHECK_FALSE(scan(framed(std::string("D\x03"
                                        "a:b",
                                        5)),
                     history, s, error));
    CHECK_THAT(error, Catch::Contains("bad delete record"));
  }
  SECTION("JSON that is not an object") {
    hub::Message m = message("a", "E1", 1);
    m.json = "[1]";
    CHECK_FALSE(scan(store::encodePublishRecord(m), history, s, error));
  }
  CHECK_THAT(error, Catch::Contains("damaged at byte 20"));
}

TEST_CASE("journal format: the header names its generation and is checked", "[store][journal]") {
  uint64_t generation = 0;
  std::string error;
  std::string header = store::encodeJournalHeader(123456789);
  REQUIRE(header.size() == store::kJournalHeaderBytes);
  CHECK(store::parseJournalHeader(header, generation, error));
  CHECK(generation == 123456789);
  header[10] ^= 1;
  CHECK_FALSE(store::parseJournalHeader(header, generation, error));
  CHECK_FALSE(store::parseJournalHeader("HFJOURN1", generation, error));
  CHECK_THAT(error, Catch::Contains("bad header"));
}
