// Sessions shared by several nodes (the Redis engine's directory, modelled in memory): which
// node acts, what is stored, and what is forwarded to the node holding a session's request.
// Two AppFixtures are two nodes over one engine; FakeDirectory stands for Redis.
#include <catch2/catch.hpp>

#include <deque>
#include <map>

#include "app/control.h"
#include "support/app_fixture.h"
#include "support/streams.h"

using namespace holdfast;
using support::AppFixture;
using support::FakeRequest;
using support::member;
using support::sseEvents;
using Kind = session::Command::Kind;

namespace {

// What Redis holds for every node: the records and the control messages in flight.
struct Store {
  std::map<std::string, session::Record> records;
  std::map<std::string, session::Directory::Handler> nodes;
  std::deque<std::pair<std::string, session::Command>> in_flight;
  std::vector<std::pair<std::string, session::Command>> sent;

  // Delivers the forwarded commands (pub/sub), as a later loop pass would.
  void deliver() {
    while (!in_flight.empty()) {
      auto [node, command] = in_flight.front();
      in_flight.pop_front();
      if (nodes.count(node))
        nodes[node](command);
    }
  }
};

class FakeDirectory final : public session::Directory {
public:
  FakeDirectory(Store& store, std::string node) : store_(store), node_(std::move(node)) {}
  bool shared() const override { return true; }
  const std::string& node() const override { return node_; }
  void put(const std::string& id, const hub::Cursor& cursor) override {
    store_.records[id].cursor = cursor;
  }
  void claim(const std::string& id) override { store_.records[id].node = node_; }
  void release(const std::string& id, const hub::Cursor& cursor) override {
    session::Record& r = store_.records[id];
    if (r.node == node_)
      r.node.clear();
    r.cursor = cursor;
  }
  void erase(const std::string& id) override { store_.records.erase(id); }
  void fetch(const std::string& id, LookupDone done) override {
    auto it = store_.records.find(id);
    session::Lookup l;
    l.status = it == store_.records.end() ? session::Lookup::Status::kMissing
                                          : session::Lookup::Status::kFound;
    if (it != store_.records.end())
      l.record = it->second;
    done(l);
  }
  void forward(const std::string& node, const session::Command& command) override {
    store_.in_flight.emplace_back(node, command);
    store_.sent.emplace_back(node, command);
  }
  void setHandler(Handler handler) override { store_.nodes[node_] = std::move(handler); }
  void setTtl(int64_t) override {}

private:
  Store& store_;
  std::string node_;
};

// Node `name` over `engine`, its sessions shared through `store`.
struct NodeFx {
  NodeFx(Store& store, std::string name, engine::Engine* engine)
      : fx({}, engine), dir(store, std::move(name)) {
    fx.sessions.setDirectory(dir);
    dir.setHandler([this](const session::Command& c) { app::applyRemote(fx.ctx, c); });
  }
  AppFixture fx;
  FakeDirectory dir;
};

struct Cluster {
  Store store;
  NodeFx a{store, "A", nullptr};
  NodeFx b{store, "B", &a.fx.engine};
};

std::string openStream(NodeFx& n, const std::string& channels, FakeRequest*& sse) {
  sse = &n.fx.get("/push/sub/" + channels + "?transport=sse&session=new");
  auto id = sse->header("X-Holdfast-Session");
  REQUIRE(id);
  return *id;
}

} // namespace

TEST_CASE("nodes: a session issued on A is stored with A as its holder", "[app][session][nodes]") {
  Cluster c;
  FakeRequest* sse = nullptr;
  std::string id = openStream(c.a, "ch", sse);
  REQUIRE(c.store.records.count(id));
  CHECK(c.store.records[id].node == "A");
  CHECK(hub::formatCursor(c.store.records[id].cursor).empty());
}

TEST_CASE("nodes: close on B is forwarded to A and ends A's stream", "[app][session][nodes]") {
  Cluster c;
  FakeRequest* sse = nullptr;
  std::string id = openStream(c.a, "ch", sse);
  size_t mark = sse->out.size();
  FakeRequest& close = c.b.fx.control("POST", "/push/ctl/session/" + id + "/close");
  CHECK(close.status() == 200);
  REQUIRE(c.store.sent.size() == 1);
  CHECK(c.store.sent[0].first == "A");
  CHECK(c.store.sent[0].second.kind == Kind::kClose);
  CHECK_FALSE(c.store.records.count(id));
  CHECK_FALSE(sse->finished);
  c.store.deliver();
  REQUIRE(sse->finished);
  auto events = sseEvents(sse->since(mark));
  REQUIRE(events.size() == 1);
  CHECK(events[0].event == "closed");
  CHECK(c.a.fx.sessions.find(id) == nullptr);
  CHECK(c.b.fx.control("POST", "/push/ctl/session/" + id + "/close").status() == 404);
}

TEST_CASE("nodes: close on the holding node forwards nothing", "[app][session][nodes]") {
  Cluster c;
  FakeRequest* sse = nullptr;
  std::string id = openStream(c.a, "ch", sse);
  CHECK(c.a.fx.control("POST", "/push/ctl/session/" + id + "/close").status() == 200);
  CHECK(sse->finished);
  CHECK(c.store.sent.empty());
}

TEST_CASE("nodes: subscribe and unsubscribe on B change A's live stream", "[app][session][nodes]") {
  Cluster c;
  FakeRequest* sse = nullptr;
  std::string id = openStream(c.a, "one", sse);
  FakeRequest& sub = c.b.fx.control("POST", "/push/ctl/session/" + id + "/subscribe?channel=two");
  REQUIRE(sub.status() == 200);
  CHECK(sub.bodyJson()["channels"].Size() == 1); // the stored cursor had none yet
  REQUIRE(c.store.sent.size() == 1);
  CHECK(c.store.sent[0].second.kind == Kind::kSubscribe);
  CHECK(c.store.sent[0].second.positions.at(0).channel == "two");
  c.store.deliver();
  size_t mark = sse->out.size();
  c.a.fx.publish("two", "\"to-two\"");
  CHECK(sse->since(mark).find("to-two") != std::string::npos);

  FakeRequest& unsub =
      c.b.fx.control("POST", "/push/ctl/session/" + id + "/unsubscribe?channel=two");
  REQUIRE(unsub.status() == 200);
  CHECK(c.store.sent.back().second.kind == Kind::kUnsubscribe);
  c.store.deliver();
  mark = sse->out.size();
  c.a.fx.publish("two", "\"gone\"");
  CHECK(sse->since(mark).find("gone") == std::string::npos);
}

TEST_CASE("nodes: a session of A continues on B and supersedes A's held poll",
          "[app][session][nodes]") {
  Cluster c;
  FakeRequest& first = c.a.fx.get("/push/sub/ch?transport=poll&session=new");
  std::string id = *first.header("X-Holdfast-Session");
  FakeRequest& held = c.a.fx.get("/push/sub/ch?session=" + id);
  REQUIRE_FALSE(held.ended());
  CHECK(c.store.records[id].node == "A");
  FakeRequest& onB = c.b.fx.get("/push/sub/ch?session=" + id);
  REQUIRE_FALSE(onB.ended()); // known on B although B never issued it
  CHECK(c.store.records[id].node == "B");
  REQUIRE(c.store.sent.size() == 1);
  CHECK(c.store.sent[0].second.kind == Kind::kSupersede);
  c.store.deliver();
  CHECK(held.status() == 409);
  c.a.fx.release();
  CHECK(c.store.records[id].node == "B"); // A's late release keeps B's claim
  c.a.fx.publish("ch", "1");
  CHECK(onB.status() == 200);
}

TEST_CASE("nodes: piggyback on B reads from the stored cursor", "[app][session][nodes]") {
  Cluster c;
  FakeRequest& first = c.a.fx.get("/push/sub/ch?transport=poll&session=new");
  std::string id = *first.header("X-Holdfast-Session");
  c.a.fx.publish("ch", "1");
  c.a.fx.publish("ch", "2");
  FakeRequest& pig = c.b.fx.control("GET", "/push/ctl/session/" + id);
  REQUIRE(pig.status() == 200);
  CHECK(pig.bodyJson()["messages"].Size() == 2);
  // B advanced the stored cursor: A sees nothing pending.
  FakeRequest& onA = c.a.fx.control("GET", "/push/ctl/session/" + id);
  CHECK(onA.bodyJson()["messages"].Size() == 0);
}

TEST_CASE("nodes: an id no node issued is unknown everywhere", "[app][session][nodes]") {
  Cluster c;
  std::string id(22, 'Z');
  CHECK(c.b.fx.get("/push/sub/ch?session=" + id).status() == 404);
  CHECK(c.b.fx.control("POST", "/push/ctl/session/" + id + "/close").status() == 404);
}

TEST_CASE("nodes: channels changed on B for a detached session are stored for every node",
          "[app][session][nodes]") {
  Cluster c;
  FakeRequest& first = c.a.fx.get("/push/sub/one?transport=poll&session=new");
  std::string id = *first.header("X-Holdfast-Session");
  REQUIRE(c.b.fx.control("POST", "/push/ctl/session/" + id + "/subscribe?channel=two").status() ==
          200);
  CHECK(c.store.sent.empty()); // no node holds a request of it: nothing to forward
  FakeRequest& onA = c.a.fx.control("GET", "/push/ctl/session/" + id + "/unsubscribe", "", "");
  CHECK(onA.status() == 405);
  FakeRequest& unsub =
      c.a.fx.control("POST", "/push/ctl/session/" + id + "/unsubscribe?channel=one");
  REQUIRE(unsub.status() == 200);
  CHECK(support::str(unsub.bodyJson()["channels"]) == "[\"two\"]"); // A read B's change
  CHECK(hub::formatCursor(c.store.records[id].cursor).rfind("two:", 0) == 0);
}
