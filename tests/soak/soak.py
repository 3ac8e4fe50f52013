"""Soak and fault harness (scripts/soak): holdfast with --state-dir behind lighttpd, publishers
with sequence numbers, sequence-checking long-poll and SSE subscribers, and a bounded schedule
of faults (SIGTERM, SIGKILL, SIGUSR2 hand-over, lighttpd restart) plus connection churn. At the
end it waits (bounded) for the subscribers to catch up and reports, per subscriber, what was
acknowledged, delivered, lost, duplicated and which gaps the server reported.

Exit status: 0 when every acknowledged message reached every subscriber once (a loss or a
duplicate is tolerated only where a server gap explains it, and never under
--journal-sync always); 1 otherwise, or on a crash, a sanitizer report or an unclean exit;
2 when the harness could not run. Loopback and unix sockets only; bounded by --seconds.
"""

import argparse
import json
import os
import platform
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402
from clients import Churn, LongPoller, Publisher, SseReader  # noqa: E402
from ledger import Published, Received, analyse  # noqa: E402
from processes import Processes  # noqa: E402

CHANNELS = ["soak-a", "soak-b", "soak-c"]
# (transport, channels): several of each kind, on one, two or all three channels.
SUBSCRIBERS = [
    ("longpoll", CHANNELS), ("longpoll", ["soak-a"]), ("longpoll", ["soak-b", "soak-c"]),
    ("sse", CHANNELS), ("sse", ["soak-b"]), ("sse", ["soak-a", "soak-c"]),
]
FAULTS = ["sigterm", "sigkill", "usr2", "lighttpd"]
# Not in the default schedule: "usr2-kill" (SIGUSR2, then SIGKILL to the old process 0-300 ms
# later or as soon as it has started its successor) and "powerloss" (SIGKILL and the journal
# removed, as a machine crash can leave it; not with --journal-sync always, whose promise it
# would break by hand).
EXTRA_FAULTS = ["usr2-kill", "powerloss"]


def parse_args(argv):
    p = argparse.ArgumentParser(prog="scripts/soak", description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60, help="publishing time (default 60)")
    p.add_argument("--journal-sync", choices=["always", "interval", "off"], default="always")
    p.add_argument("--fault-interval", type=float, default=10,
                   help="seconds between faults (default 10)")
    p.add_argument("--faults", default=",".join(FAULTS),
                   help="comma-separated kinds to inject (default: %s; also %s)"
                        % (",".join(FAULTS), ",".join(EXTRA_FAULTS)))
    p.add_argument("--rate", type=float, default=10, help="publishes a second per channel")
    p.add_argument("--abort-rate", type=float, default=0.1,
                   help="share of subscriber requests the client abandons mid-request")
    p.add_argument("--churn-rate", type=float, default=5, help="churn connections a second")
    p.add_argument("--catch-up", type=float, default=30, help="seconds to wait at the end")
    p.add_argument("--journal-max-bytes", type=int, default=65536,
                   help="holdfast's journal_max_bytes: small, so compactions happen during the "
                        "soak (default 65536)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--json", help="also write the summary as JSON to this file")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = p.parse_args(argv)
    args.faults = [f for f in args.faults.split(",") if f]
    bad = [f for f in args.faults if f not in FAULTS + EXTRA_FAULTS]
    if bad:
        p.error("unknown fault kinds: %s" % ",".join(bad))
    if "powerloss" in args.faults and args.journal_sync == "always":
        p.error("the powerloss fault needs --journal-sync interval or off")
    if args.seed is None:
        args.seed = random.randrange(1 << 30)
    return args


class Soak:
    def __init__(self, args, tmpdir):
        self.args, self.tmpdir = args, tmpdir
        self.t0 = time.monotonic()
        self.stop = threading.Event()
        self.rng = random.Random(args.seed)
        self.state_dir = state = os.path.join(tmpdir, "state")
        hf_args = ["--state-dir", state, "--journal-sync", args.journal_sync,
                   "--buffer-messages", "100000", "--max-stream-age", "20",
                   "--journal-max-bytes", str(args.journal_max_bytes)]
        self.procs = Processes(tmpdir, hf_args, self.log)
        self.published = Published(CHANNELS)
        self.faults = Counter()
        self.recovery = {}  # kind -> the longest time from the fault to serving again
        self.subscribers, self.publishers, self.churn = [], [], None
        self.start_fds = self.final_fds = self.final_stats = None

    def log(self, text):
        print("soak: %6.1fs %s" % (time.monotonic() - self.t0, text), flush=True)

    def start(self):
        self.procs.start_holdfast()
        self.start_fds = self.procs.open_fds()
        self.procs.start_lighttpd()
        self.port = self.procs.lighttpd.port
        deadline = self.t0 + self.args.seconds + self.args.catch_up + 60
        for i, (kind, chans) in enumerate(SUBSCRIBERS):
            cls = LongPoller if kind == "longpoll" else SseReader
            name = "%s%d[%s]" % (kind, i, ",".join(c[5:] for c in chans))
            sub = cls(name, self.port, chans, self.initial_cursor(chans), Received(chans),
                      self.stop, deadline, random.Random(self.rng.random()),
                      self.args.abort_rate)
            self.subscribers.append(sub)
            sub.start()
        time.sleep(1.0)  # let every subscriber hold a request before the first publish
        publish_until = time.monotonic() + self.args.seconds
        self.publishers = [Publisher(self.port, ch, self.published, self.args.rate, self.stop,
                                     publish_until) for ch in CHANNELS]
        for p in self.publishers:
            p.start()
        if self.args.churn_rate > 0:
            self.churn = Churn(self.port, self.procs.data_socket, CHANNELS, self.stop,
                               publish_until, random.Random(self.rng.random()),
                               self.args.churn_rate)
            self.churn.start()
        return publish_until

    def initial_cursor(self, chans):
        """The position before any message (transport=poll creates the channels)."""
        path = "/push/sub/%s?transport=poll" % ",".join(chans)
        r = harness.wait_until(lambda: self.try_get(path), 20, what="a first poll answer")
        return r.json()["cursor"]

    def try_get(self, path):
        try:
            r = harness.http(self.port, "GET", path, timeout=5)
        except OSError:
            return None
        return r if r.status == 200 else None

    def run_faults(self, publish_until):
        """One fault every --fault-interval seconds (kinds shuffled per round), none in the last
        8 s of publishing; a holdfast that dies on its own in between is restarted (a crash)."""
        next_at = time.monotonic() + min(5.0, self.args.fault_interval)
        queue = []
        while time.monotonic() < publish_until:
            self.procs.check()
            if self.args.faults and time.monotonic() >= next_at \
                    and time.monotonic() < publish_until - 8:
                if not queue:
                    queue = list(self.args.faults)
                    self.rng.shuffle(queue)
                self.fault(queue.pop())
                next_at = time.monotonic() + self.args.fault_interval
            time.sleep(0.1)

    def fault(self, kind):
        began = time.monotonic()
        self.log("fault %s (holdfast pid %s)" % (kind, self.procs.serving))
        if kind == "sigterm":
            self.procs.stop_signal(signal.SIGTERM)
        elif kind == "sigkill":
            self.procs.stop_signal(signal.SIGKILL)
        elif kind == "usr2":
            self.procs.handover()
        elif kind == "usr2-kill":
            self.procs.handover_killed(self.rng.uniform(0, 0.3), self.rng.random() < 0.5)
        elif kind == "powerloss":
            self.procs.power_loss(self.state_dir)
        elif kind == "lighttpd":
            self.procs.restart_lighttpd()
        if not self.procs.wait_serving(20):
            self.procs.problems.append("holdfast did not serve 20 s after the %s fault" % kind)
        took = time.monotonic() - began
        self.faults[kind] += 1
        self.recovery[kind] = max(self.recovery.get(kind, 0.0), took)
        self.log("  serving again after %.2fs (pid %s)" % (took, self.procs.serving))

    def catch_up(self):
        for p in self.publishers:
            p.join(timeout=40)
        self.procs.check()
        deadline = time.monotonic() + self.args.catch_up
        while time.monotonic() < deadline:
            if all(s.received.has_all(ch, self.published.acked_set(ch))
                   for s in self.subscribers for ch in s.channels):
                self.log("every subscriber caught up")
                break
            time.sleep(0.2)
        else:
            self.log("catch-up time (%.0fs) over" % self.args.catch_up)
        time.sleep(1.0)  # a duplicate sent late still has a moment to show
        self.stop.set()
        for t in self.subscribers + ([self.churn] if self.churn else []):
            t.join(timeout=20)
        self.final_stats = self.procs.wait_released(15)
        self.final_fds = self.procs.open_fds()
        self.log("clients gone: %s open descriptors in holdfast (%s after the first start)"
                 % (self.final_fds, self.start_fds))


# What a subscriber may see while holdfast or lighttpd restarts (lighttpd's answers while the
# backend is away or died mid-request); anything else (400 bad_cursor, 409, 410...) is a fault.
OUTAGE_STATUSES = {200, 500, 502, 503, 504}


def subscriber_problems(s):
    out = []
    odd = {k: v for k, v in s.statuses.items() if k not in OUTAGE_STATUSES}
    if odd:
        out.append("%s got statuses %s" % (s.name, odd))
    if s.unexpected:
        out.append("%s got unexpected frames %s" % (s.name, Counter(s.unexpected)))
    with s.received.lock:
        stray = {ch: len(ev) for ch, ev in s.received.events.items() if ch not in s.channels}
    if stray:
        out.append("%s got messages of channels it did not subscribe to: %s" % (s.name, stray))
    return out


def report(soak):
    args, pub = soak.args, soak.published
    rows, totals = [], Counter()
    for s in soak.subscribers:
        total, details = analyse(s.received, pub, s.channels)
        totals.update(total)
        rows.append({"name": s.name, "transport": s.kind, "channels": s.channels,
                     "counts": dict(total), "requests": s.requests, "aborts": s.aborts,
                     "errors": s.errors, "reconnect_frames": s.reconnects,
                     "statuses": {str(k): v for k, v in s.statuses.items()},
                     "first_lost": {ch: d["first_lost"] for ch, d in details.items()
                                    if d["first_lost"]},
                     "unexpected_frames": s.unexpected})
    problems = list(soak.procs.problems) + soak.procs.sanitizer_reports()
    for p in soak.publishers:
        problems += p.errors
    for s in soak.subscribers:
        problems += subscriber_problems(s)
    if soak.start_fds and soak.final_fds and soak.final_fds > soak.start_fds + 16:
        problems.append("holdfast had %d descriptors open at the end, %d after its start"
                        % (soak.final_fds, soak.start_fds))
    if args.journal_sync == "always" and totals["lost"]:
        problems.append("%d acknowledged deliveries lost under journal_sync=always"
                        % totals["lost"])
    for key in ("lost_unexplained", "duplicated_unexplained", "reordered_unexplained",
                "foreign"):
        if totals[key]:
            problems.append("%d %s" % (totals[key], key.replace("_", " ")))
    with pub.lock:
        summary = {
            "command": "scripts/soak " + " ".join(sys.argv[1:]), "seed": args.seed,
            "journal_sync": args.journal_sync, "seconds": args.seconds,
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "machine": "%s, %s, %d cores" % (platform.node(), platform.platform(),
                                             os.cpu_count() or 0),
            "holdfast": harness.holdfast_binary(),
            "faults": dict(soak.faults),
            "recovery_max_seconds": {k: round(v, 2) for k, v in soak.recovery.items()},
            "holdfast_processes": soak.procs.generation + len(soak.procs.successors),
            "published": {"acknowledged": sum(len(v) for v in pub.acked.values()),
                          "uncertain": sum(len(v) for v in pub.uncertain.values()),
                          "given_up": sum(len(v) for v in pub.given_up.values()),
                          "retries_503": pub.retries_503,
                          "retries_refused": pub.retries_refused,
                          "statuses": {str(k): v for k, v in pub.statuses.items()}},
            "churn": dict(soak.churn.counts) if soak.churn else {},
            "holdfast_fds": {"after_start": soak.start_fds, "at_end": soak.final_fds},
            "final_stats": soak.final_stats,
            "subscribers": rows, "totals": dict(totals), "problems": problems,
            "passed": not problems}
    return summary


def print_report(summary):
    print("\nsoak: %s, journal_sync=%s, %.0fs, seed %d" % (
        summary["date"], summary["journal_sync"], summary["seconds"], summary["seed"]))
    print("machine: " + summary["machine"])
    print("faults: " + (", ".join("%s %d (longest recovery %.2fs)"
                                  % (k, v, summary["recovery_max_seconds"][k])
                                  for k, v in sorted(summary["faults"].items())) or "none"))
    pub = summary["published"]
    print("published: %(acknowledged)d acknowledged, %(uncertain)d uncertain, %(given_up)d "
          "given up, %(retries_503)d retries after 503, %(retries_refused)d after a refused "
          "connection" % pub)
    print("churn: " + ", ".join("%s %d" % kv for kv in sorted(summary["churn"].items())))
    head = "%-22s %8s %9s %6s %6s %5s %6s %8s %7s %6s" % (
        "subscriber", "acked", "delivered", "lost", "dup", "gaps", "unexpl", "requests",
        "aborts", "errors")
    print("\n" + head)
    for r in summary["subscribers"]:
        c = Counter(r["counts"])
        print("%-22s %8d %9d %6d %6d %5d %6d %8d %7d %6d" % (
            r["name"], c["acknowledged"], c["delivered"], c["lost"], c["duplicated"], c["gaps"],
            c["lost_unexplained"] + c["duplicated_unexplained"] + c["reordered_unexplained"],
            r["requests"], r["aborts"], r["errors"]))
        if r["first_lost"]:
            print("    first lost: %s" % r["first_lost"])
    t = Counter(summary["totals"])
    print("%-22s %8d %9d %6d %6d %5d %6d" % (
        "total", t["acknowledged"], t["delivered"], t["lost"], t["duplicated"], t["gaps"],
        t["lost_unexplained"] + t["duplicated_unexplained"] + t["reordered_unexplained"]))
    for p in summary["problems"]:
        print("PROBLEM: " + p[:4000])
    print("soak: %s" % ("PASSED" if summary["passed"] else "FAILED"))


def main(argv):
    args = parse_args(argv)
    harness.require_binary()
    tmpdir = tempfile.mkdtemp(prefix="hf-soak-")
    soak = Soak(args, tmpdir)
    soak.log("seed %d, journal_sync=%s, %.0fs, temp dir %s"
             % (args.seed, args.journal_sync, args.seconds, tmpdir))
    summary = None
    try:
        publish_until = soak.start()
        soak.run_faults(publish_until)
        soak.catch_up()
    finally:
        soak.stop.set()
        soak.procs.shutdown()
        if soak.publishers:
            summary = report(soak)
        if summary and not summary["passed"] or args.keep:
            print("soak: logs kept in " + tmpdir)
        else:
            shutil.rmtree(tmpdir, ignore_errors=True)
    print_report(summary)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (AssertionError, OSError) as e:
        print("soak: could not run: %s" % e, file=sys.stderr)
        sys.exit(2)
