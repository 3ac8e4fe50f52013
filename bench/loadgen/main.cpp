// holdfast-loadgen: the benchmark's load generator (one process; scripts/bench runs several).
//
//   subs    --kind K --path P --subs N [--expect M] [--no-reconnect]
//           Opens N subscribers (at most --connect-window connecting at once), prints
//           "READY <ready>" when every one is held/open (or --ready-timeout passed), then runs
//           until each got sequences 1..M (M > 0), SIGTERM/SIGINT, or --duration.
//   pub     --path P --count M [--rate R] [--window W] [--seq-start S] [--auth "Header: v"]
//           Publishes M payloads over one keep-alive connection, W pipelined (default 1).
//   catchup --kind K --path P --pub-path Q [--count 100]
//           One subscriber reads a primer, disconnects, misses --count publishes, resumes and
//           must get exactly those (then 1 s more to catch strays).
// Common: --host 127.0.0.1 --port N --src 127.0.0.2[,127.0.0.3...] --duration S
//         --latency-out FILE (subs: one latency in ns per first delivery, a line each).
// Prints one JSON object (the result) as its last stdout line; exit 0 unless usage/setup fails.
#include <arpa/inet.h>
#include <event2/event.h>
#include <sys/resource.h>

#include <csignal>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "clients.hpp"

namespace loadgen {
namespace {

struct Args {
  std::map<std::string, std::string> kv;
  std::string get(const std::string& k, const std::string& def = "") const {
    auto it = kv.find(k);
    return it == kv.end() ? def : it->second;
  }
  double num(const std::string& k, double def) const {
    auto it = kv.find(k);
    return it == kv.end() ? def : std::atof(it->second.c_str());
  }
  bool flag(const std::string& k) const { return kv.count(k) != 0; }
};

Args parseArgs(int argc, char** argv) {
  Args a;
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0)
      continue;
    k = k.substr(2);
    if (i + 1 < argc && std::strncmp(argv[i + 1], "--", 2) != 0)
      a.kv[k] = argv[++i];
    else
      a.kv[k] = "1";
  }
  return a;
}

double cpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void raiseFdLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

std::vector<Target> makeTargets(const Args& a) {
  std::vector<Target> out;
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<uint16_t>(a.num("port", 80)));
  inet_pton(AF_INET, a.get("host", "127.0.0.1").c_str(), &server.sin_addr);
  std::string srcs = a.get("src", "");
  size_t pos = 0;
  do {
    size_t comma = srcs.find(',', pos);
    std::string one =
        srcs.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    Target t;
    t.server = server;
    t.source.sin_family = AF_INET;
    if (!one.empty())
      inet_pton(AF_INET, one.c_str(), &t.source.sin_addr);
    out.push_back(t);
    pos = comma == std::string::npos ? std::string::npos : comma + 1;
  } while (pos != std::string::npos);
  return out;
}

std::string seqJson(const SeqTotals& t) {
  char b[512];
  std::snprintf(b, sizeof b,
                "{\"subscribers\":%llu,\"complete\":%llu,\"exact\":%llu,\"received\":%llu,"
                "\"lost\":%llu,\"duplicates\":%llu,\"out_of_order\":%llu,\"unexpected\":%llu}",
                (unsigned long long)t.subscribers, (unsigned long long)t.complete,
                (unsigned long long)t.exact, (unsigned long long)t.received,
                (unsigned long long)t.lost, (unsigned long long)t.duplicates,
                (unsigned long long)t.outOfOrder, (unsigned long long)t.unexpected);
  return b;
}

std::string latencyJson(const LatencyStats& l) {
  char b[256];
  std::snprintf(b, sizeof b, "{\"count\":%zu,\"p50\":%lld,\"p99\":%lld,\"max\":%lld}", l.count(),
                (long long)l.percentile(50), (long long)l.percentile(99),
                (long long)l.percentile(100));
  return b;
}

// Runs the loop until stop() (signals, deadline, or the mode's own end).
struct Loop {
  event_base* base = makeBase();
  // Sub-millisecond timers (timerfd): publish pacing at 1000+/s needs them.
  static event_base* makeBase() {
    event_config* cfg = event_config_new();
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    event_base* b = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return b;
  }
  std::vector<event*> owned;
  double startCpu = cpuSeconds();
  int64_t startNs = realtimeNs();
  ~Loop() {
    for (auto* e : owned)
      event_free(e);
    event_base_free(base);
  }
  void stop() { event_base_loopbreak(base); }
  void onSignals() {
    for (int sig : {SIGTERM, SIGINT}) {
      event* e = evsignal_new(
          base, sig,
          [](evutil_socket_t, short, void* b) {
            event_base_loopbreak(static_cast<event_base*>(b));
          },
          base);
      event_add(e, nullptr);
      owned.push_back(e);
    }
  }
  void deadline(double secs) {
    event* e = evtimer_new(
        base,
        [](evutil_socket_t, short, void* b) { event_base_loopbreak(static_cast<event_base*>(b)); },
        base);
    timeval tv{static_cast<time_t>(secs), static_cast<suseconds_t>((secs - (long)secs) * 1e6)};
    event_add(e, &tv);
    owned.push_back(e);
  }
  // Calls fn every `ms` milliseconds until the loop ends.
  void every(int ms, std::function<void()>* fn) {
    event* e = event_new(
        base, -1, EV_PERSIST,
        [](evutil_socket_t, short, void* f) { (*static_cast<std::function<void()>*>(f))(); }, fn);
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    event_add(e, &tv);
    owned.push_back(e);
  }
  std::string cpuWall() const {
    char b[128];
    std::snprintf(b, sizeof b, "\"cpu_s\":%.3f,\"wall_s\":%.3f", cpuSeconds() - startCpu,
                  static_cast<double>(realtimeNs() - startNs) / 1e9);
    return b;
  }
};

int runSubs(const Args& a) {
  SubKind kind;
  if (!parseSubKind(a.get("kind"), kind))
    return std::fprintf(stderr, "bad --kind\n"), 2;
  Loop loop;
  loop.onSignals();
  loop.deadline(a.num("duration", 60));
  auto targets = makeTargets(a);
  size_t n = static_cast<size_t>(a.num("subs", 1));
  size_t window = static_cast<size_t>(a.num("connect-window", 500));
  Subscriber::Options opt;
  opt.kind = kind;
  opt.path = a.get("path");
  opt.expect = static_cast<uint64_t>(a.num("expect", 0));
  opt.reconnect = !a.flag("no-reconnect");
  SubCounters counters;
  std::vector<std::unique_ptr<Subscriber>> subs;
  size_t started = 0, settled = 0, done = 0;
  bool readyPrinted = false;
  auto printReady = [&] {
    if (readyPrinted)
      return;
    readyPrinted = true;
    std::printf("READY %llu\n", (unsigned long long)counters.ready);
    std::fflush(stdout);
  };
  std::function<void()> startMore = [&] {
    while (started < n && started - settled < window) {
      Subscriber& s = *subs[started++];
      s.start();
    }
    if (settled == n)
      printReady();
  };
  for (size_t i = 0; i < n; ++i) {
    subs.push_back(
        std::make_unique<Subscriber>(loop.base, targets[i % targets.size()], opt, counters));
    Subscriber* s = subs.back().get();
    s->onReady = [&] {
      ++settled;
      startMore();
    };
    s->onDone = [&, s] {
      if (!s->isReady()) {
        ++settled;
        startMore();
      }
      if (++done == n)
        loop.stop();
    };
  }
  double readyTimeout = a.num("ready-timeout", 60);
  std::function<void()> tick = [&] {
    if (!readyPrinted && static_cast<double>(realtimeNs() - loop.startNs) / 1e9 > readyTimeout)
      printReady();
  };
  loop.every(200, &tick);
  startMore();
  event_base_dispatch(loop.base);
  printReady();

  SeqTotals totals;
  for (auto& s : subs)
    totals.add(s->tracker());
  std::string out = a.get("latency-out");
  if (!out.empty()) {
    if (FILE* f = std::fopen(out.c_str(), "w")) {
      for (int64_t v : counters.latency.samples())
        std::fprintf(f, "%lld\n", (long long)v);
      std::fclose(f);
    }
  }
  std::string perSeq = "{";
  for (auto& [seq, ns] : counters.latency.perSeqMax())
    perSeq += (perSeq.size() > 1 ? ",\"" : "\"") + std::to_string(seq) + "\":" + std::to_string(ns);
  perSeq += "}";
  std::printf("{\"mode\":\"subs\",\"subs\":%zu,\"ready\":%llu,\"open_at_end\":%llu,"
              "\"disconnects\":%llu,\"reconnects\":%llu,\"connect_errors\":%llu,"
              "\"bad_status\":%llu,\"responses\":%llu,\"seq\":%s,\"latency_ns\":%s,"
              "\"per_seq_max_ns\":%s,%s}\n",
              n, (unsigned long long)counters.ready, (unsigned long long)counters.openNow,
              (unsigned long long)counters.disconnects, (unsigned long long)counters.reconnects,
              (unsigned long long)counters.connectErrors, (unsigned long long)counters.badStatus,
              (unsigned long long)counters.responses, seqJson(totals).c_str(),
              latencyJson(counters.latency).c_str(), perSeq.c_str(), loop.cpuWall().c_str());
  return 0;
}

Publisher::Options pubOptions(const Args& a, const std::string& pathKey) {
  Publisher::Options o;
  o.path = a.get(pathKey);
  o.authHeader = a.get("auth");
  o.seqStart = static_cast<uint64_t>(a.num("seq-start", 1));
  o.count = static_cast<uint64_t>(a.num("count", 1));
  o.rate = a.num("rate", 0);
  o.window = static_cast<unsigned>(a.num("window", 1));
  return o;
}

int runPub(const Args& a) {
  Loop loop;
  loop.onSignals();
  loop.deadline(a.num("duration", 60));
  Publisher pub(loop.base, makeTargets(a)[0], pubOptions(a, "path"));
  pub.onDone = [&] { loop.stop(); };
  pub.start();
  event_base_dispatch(loop.base);
  double span = static_cast<double>(pub.lastAnswerNs() - pub.firstSendNs()) / 1e9;
  std::printf("{\"mode\":\"pub\",\"sent\":%llu,\"ok\":%llu,\"failed\":%llu,\"span_s\":%.4f,"
              "\"achieved_rate\":%.1f,\"rtt_ns\":%s,%s}\n",
              (unsigned long long)pub.sent(), (unsigned long long)pub.ok(),
              (unsigned long long)pub.failed(), span,
              span > 0 ? static_cast<double>(pub.ok()) / span : 0.0, latencyJson(pub.rtt()).c_str(),
              loop.cpuWall().c_str());
  return 0;
}

// catch-up: primer -> disconnect -> publish `count` -> resume -> exactly those, then 1 s quiet.
int runCatchup(const Args& a) {
  SubKind kind;
  if (!parseSubKind(a.get("kind"), kind))
    return std::fprintf(stderr, "bad --kind\n"), 2;
  Loop loop;
  loop.onSignals();
  loop.deadline(a.num("duration", 20));
  Target target = makeTargets(a)[0];
  uint64_t count = static_cast<uint64_t>(a.num("count", 100));
  SubCounters counters;
  Subscriber::Options so;
  so.kind = kind;
  so.path = a.get("path");
  so.closeWhenComplete = false;
  Subscriber sub(loop.base, target, so, counters);
  Publisher::Options po = pubOptions(a, "pub-path");
  po.rate = 0;
  po.seqStart = 0;
  po.count = 1;
  Publisher primer(loop.base, target, po);
  po.seqStart = 1;
  po.count = count;
  Publisher batch(loop.base, target, po);
  std::string phase = "subscribe";
  bool primerSeen = false;
  int64_t completeAt = 0;
  sub.onPayload = [&](uint64_t seq) {
    if (seq == 0 && !primerSeen) {
      primerSeen = true;
      phase = "away";
      sub.close(); // deferred: the resume state is already taken from this response
    }
  };
  // Long-poll "ready" means the request was written; give the server a moment to hold it.
  std::function<void()> tick = [&] {
    int64_t now = realtimeNs();
    if (phase == "subscribe" && sub.isReady()) {
      phase = "primer";
      primer.onDone = [] {};
      completeAt = now;
    } else if (phase == "primer" && now - completeAt > 300000000 && completeAt > 0) {
      completeAt = 0;
      primer.start();
    } else if (phase == "away" && !sub.isOpen()) {
      phase = "publishing";
      batch.onDone = [&] {
        phase = "resume";
        sub.resetTracker(count);
        sub.start();
      };
      batch.start();
    } else if (phase == "resume" && sub.tracker().complete()) {
      phase = "quiet";
      completeAt = now;
    } else if (phase == "quiet" && now - completeAt > 1000000000) {
      loop.stop();
    }
  };
  loop.every(10, &tick);
  sub.start();
  event_base_dispatch(loop.base);
  SeqTotals t;
  t.add(sub.tracker());
  bool exact = primerSeen && phase == "quiet" && sub.tracker().exact();
  std::printf("{\"mode\":\"catchup\",\"exact\":%s,\"phase\":\"%s\",\"primer_seen\":%s,"
              "\"published\":%llu,\"publish_failed\":%llu,\"seq\":%s,%s}\n",
              exact ? "true" : "false", phase.c_str(), primerSeen ? "true" : "false",
              (unsigned long long)batch.ok(),
              (unsigned long long)(batch.failed() + primer.failed()), seqJson(t).c_str(),
              loop.cpuWall().c_str());
  return 0;
}

} // namespace
} // namespace loadgen

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: holdfast-loadgen subs|pub|catchup [--options] (see main.cpp)\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  loadgen::raiseFdLimit();
  loadgen::Args a = loadgen::parseArgs(argc, argv);
  std::string mode = argv[1];
  if (mode == "subs")
    return loadgen::runSubs(a);
  if (mode == "pub")
    return loadgen::runPub(a);
  if (mode == "catchup")
    return loadgen::runCatchup(a);
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
