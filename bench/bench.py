#!/usr/bin/env python3
"""Holdfast vs Nchan benchmark driver (run through scripts/bench, which builds first).

Starts each stack of bench/stacks.py fresh for every case, drives it with bench/loadgen
(holdfast-loadgen), reads memory and CPU per process group from /proc, and writes a JSON file
plus the markdown tables and plots of bench/report.py. Only loopback addresses; every wait is
bounded; only the processes this script started are signalled, by PID.
"""
import argparse, datetime, json, math, os, queue, shutil, signal, subprocess, sys, tempfile
import threading, time

from report import machine, plots, table
from stacks import (BUFFER_AGE, BUFFER_MESSAGES, POLL_TIMEOUT, REPO, HoldfastApacheStack,
                    HoldfastNginxStack, HoldfastRedisNginxStack, HoldfastRedisStack, HoldfastStack,
                    NchanRedisStack, NchanStack, cpu_s, hard_nofile, log, mem_kib, nchan_module,
                    stop_pid, wait_until)

# ---- load generator processes -----------------------------------------------------------------

class Gen:
    """One holdfast-loadgen process; stdout lines are collected by a thread."""

    def __init__(self, loadgen, mode, port, args, src=None):
        cmd = [loadgen, mode, "--port", str(port)] + [str(a) for a in args]
        if src:
            cmd += ["--src", src]
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.lines = queue.Queue()
        self.all = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.all.append(line.rstrip("\n"))
            self.lines.put(line.rstrip("\n"))

    def wait_ready(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    return -1
                continue
            if line.startswith("READY"):
                return int(line.split()[1])
        return -1

    def result(self, timeout):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            stop_pid(self.proc)
        time.sleep(0.05)
        for line in reversed(self.all):
            if line.startswith("{"):
                return json.loads(line)
        raise RuntimeError("loadgen gave no result: %s\n%s" % (" ".join(self.cmd),
                                                              self.proc.stderr.read()[-2000:]))

    def stop(self):
        stop_pid(self.proc)


def spread(n, per_proc):
    procs = max(1, math.ceil(n / per_proc))
    base, extra = divmod(n, procs)
    return [base + (1 if i < extra else 0) for i in range(procs)]


def start_subs(cfg, stack, channel, transport, n, expect, duration, latency_dir=None,
               no_reconnect=False):
    kind, path = stack.sub(channel, transport)
    gens = []
    for i, count in enumerate(spread(n, cfg.per_proc)):
        args = ["--kind", kind, "--path", path, "--subs", count, "--expect", expect,
                "--duration", duration, "--ready-timeout", 60]
        if no_reconnect:
            args.append("--no-reconnect")
        if latency_dir:
            args += ["--latency-out", os.path.join(latency_dir, "lat-%d.txt" % i)]
        gens.append(Gen(cfg.loadgen, "subs", stack.port, args, src="127.0.0.%d" % (2 + i)))
    ready = 0
    for g in gens:
        r = g.wait_ready(90)
        ready += max(r, 0)
    return gens, ready


def merge_subs(results):
    m = {"subs": 0, "ready": 0, "open_at_end": 0, "disconnects": 0, "reconnects": 0,
         "connect_errors": 0, "bad_status": 0, "responses": 0, "cpu_s": 0.0, "wall_s": 0.0}
    seq = {}
    per_seq = {}
    for r in results:
        for k in m:
            m[k] = m[k] + r[k] if k != "wall_s" else max(m[k], r[k])
        for k, v in r["seq"].items():
            seq[k] = seq.get(k, 0) + v
        for k, v in r.get("per_seq_max_ns", {}).items():
            per_seq[int(k)] = max(per_seq.get(int(k), 0), v)
    m["seq"] = seq
    m["per_seq_max_ns"] = per_seq
    return m


GROUPS = ("web", "backend", "redis")


def server_cpu(stack):
    """CPU seconds so far per process group: the web server (with Nchan in it), holdfast's
    processes, redis-server (0 where the stack has none)."""
    return {"web": cpu_s(stack.web_pids()), "backend": cpu_s(stack.backend_pids()),
            "redis": cpu_s(stack.redis_pids())}


def server_mem(stack):
    return {"web": mem_kib(stack.web_pids()), "backend": mem_kib(stack.backend_pids()),
            "redis": mem_kib(stack.redis_pids())}


def cpu_delta(a, b, wall):
    d = {k: round(b[k] - a[k], 3) for k in a}
    d["wall_s"] = round(wall, 3)
    d["web_pct"] = round(100 * d["web"] / wall, 1) if wall > 0 else 0
    d["backend_pct"] = round(100 * d["backend"] / wall, 1) if wall > 0 else 0
    d["redis_pct"] = round(100 * d["redis"] / wall, 1) if wall > 0 else 0
    return d


def per_delivery_us(cpu, deliveries):
    """CPU microseconds per delivered message for each process group (web server, backend,
    redis)."""
    if not deliveries:
        return {"web": None, "backend": None, "redis": None, "total": None}
    d = {k: round(cpu[k] * 1e6 / deliveries, 2) for k in GROUPS}
    d["total"] = round(sum(d[k] for k in GROUPS), 2)
    return d


def wait_held(stack, n, timeout=30):
    return wait_until(lambda: stack.held() >= n, timeout, 0.2) and stack.held()


# ---- scenarios --------------------------------------------------------------------------------

def scenario_hold(cfg, make_stack, transport, n):
    stack = make_stack().start()
    try:
        time.sleep(0.5)
        base = server_mem(stack)
        c0, t0 = server_cpu(stack), time.monotonic()
        gens, ready = start_subs(cfg, stack, "hold", transport, n, 0, cfg.hold_secs + 120,
                                 no_reconnect=True)
        held0 = wait_held(stack, n, 30)
        time.sleep(cfg.hold_secs)
        held1 = stack.held()
        now = server_mem(stack)
        c1, t1 = server_cpu(stack), time.monotonic()
        for g in gens:
            g.stop()
        res = merge_subs([g.result(10) for g in gens])
    finally:
        stack.stop()
    per = {}
    for side in GROUPS:
        for k in ("pss_kib", "rss_kib"):
            per["%s_%s_per_sub_bytes" % (side, k[:3])] = round(
                (now[side][k] - base[side][k]) * 1024 / n, 1)
    per["total_pss_per_sub_bytes"] = round(sum(per["%s_pss_per_sub_bytes" % g] for g in GROUPS), 1)
    return {"scenario": "A", "server": stack.name, "transport": transport, "subscribers": n,
            "ready": ready, "server_held_start": held0, "server_held_end": held1,
            "client_open_end": res["open_at_end"], "client_disconnects": res["disconnects"],
            "mem_before": base, "mem_held": now, "per_subscriber": per,
            "server_cpu": cpu_delta(c0, c1, t1 - t0), "client_cpu_s": round(res["cpu_s"], 3)}


def scenario_fanout(cfg, make_stack, transport, n, publishes, interval):
    stack = make_stack().start()
    latdir = tempfile.mkdtemp(prefix="lat-", dir=cfg.tmp)
    try:
        gens, ready = start_subs(cfg, stack, "fanout", transport, n, publishes,
                                 publishes * interval + 60, latency_dir=latdir)
        held = wait_held(stack, n, 30)
        perf = None
        if cfg.profile and stack.backend_pids() and shutil.which("perf"):
            # perf sampling of the backend during the publishes only (report: see below).
            perf_data = os.path.join(cfg.out, "perf-%s-%s-%d.data" % (stack.name, transport, n))
            perf = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-o", perf_data, "-p",
                                     str(stack.backend_pids()[0])], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
            time.sleep(0.5)
        c0, t0 = server_cpu(stack), time.monotonic()
        path, auth = stack.pub("fanout")
        pub = Gen(cfg.loadgen, "pub", stack.port, ["--path", path, "--count", publishes,
                                                    "--rate", 1.0 / interval, "--auth", auth,
                                                    "--duration", publishes * interval + 30])
        pres = pub.result(publishes * interval + 40)
        res = merge_subs([g.result(60) for g in gens])
        c1, t1 = server_cpu(stack), time.monotonic()
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait(30)
            with open(perf_data + ".txt", "w") as f:
                subprocess.run(["perf", "report", "-i", perf_data, "--no-children", "--stdio",
                                "--percent-limit", "1", "-g", "none"], stdout=f,
                               stderr=subprocess.DEVNULL, timeout=120)
    finally:
        for g in gens:
            g.stop()
        stack.stop()
    samples = []
    for name in os.listdir(latdir):
        with open(os.path.join(latdir, name)) as f:
            samples += [int(x) for x in f if x.strip()]
    samples.sort()
    def pct(p):
        if not samples:
            return 0
        return samples[max(0, min(len(samples) - 1, math.ceil(p / 100 * len(samples)) - 1))]
    complete_ms = sorted(v / 1e6 for v in res["per_seq_max_ns"].values())
    expected = n * publishes
    lat_file = None
    if cfg.keep_latency and samples:
        lat_file = os.path.join(cfg.out, "latency-%s-%s-%d.txt" % (stack.name, transport, n))
        step = max(1, len(samples) // 2000)
        with open(lat_file, "w") as f:  # CDF points, at most ~2000
            for i in range(0, len(samples), step):
                f.write("%.3f %.5f\n" % (samples[i] / 1e6, (i + 1) / len(samples)))
            f.write("%.3f 1.0\n" % (samples[-1] / 1e6))
    return {"scenario": "B", "server": stack.name, "transport": transport, "subscribers": n,
            "ready": ready, "server_held": held, "publishes": publishes, "interval_s": interval,
            "published_ok": pres["ok"], "deliveries": len(samples), "expected": expected,
            "delivered_pct": round(100.0 * res["seq"]["received"] / expected, 3) if expected else 0,
            "seq": res["seq"],
            "latency_ms": {"p50": round(pct(50) / 1e6, 3), "p99": round(pct(99) / 1e6, 3),
                           "max": round(pct(100) / 1e6, 3)},
            "time_to_100pct_ms": {"median": round(complete_ms[len(complete_ms) // 2], 3)
                                  if complete_ms else None,
                                  "max": round(complete_ms[-1], 3) if complete_ms else None},
            "latency_cdf_file": os.path.basename(lat_file) if lat_file else None,
            "server_cpu": cpu_delta(c0, c1, t1 - t0),
            "cpu_per_delivery_us": per_delivery_us(cpu_delta(c0, c1, t1 - t0), len(samples)),
            "client_cpu_s": round(res["cpu_s"] + pres["cpu_s"], 3),
            "reconnects": res["reconnects"], "bad_status": res["bad_status"]}


def scenario_rate(cfg, make_stack, transport, nsubs):
    stack = make_stack().start()
    steps = []
    best = None
    try:
        for i, rate in enumerate(cfg.rates):
            count = cfg.rate_count(rate)
            ch = "rate-%d" % i
            base_held = max(stack.held(), 0)
            gens, ready = start_subs(cfg, stack, ch, transport, nsubs, count, 120)
            wait_held(stack, base_held + nsubs, 20)
            c0, t0 = server_cpu(stack), time.monotonic()
            path, auth = stack.pub(ch)
            pub = Gen(cfg.loadgen, "pub", stack.port, ["--path", path, "--count", count,
                                                        "--rate", rate, "--auth", auth,
                                                        "--window", cfg.pub_window,
                                                        "--duration", 90])
            pres = pub.result(100)
            # Let subscribers drain: they exit when complete; stop them after a bounded wait.
            end = time.monotonic() + cfg.drain_secs
            while time.monotonic() < end and any(g.proc.poll() is None for g in gens):
                time.sleep(0.05)
            for g in gens:
                g.stop()
            res = merge_subs([g.result(10) for g in gens])
            c1, t1 = server_cpu(stack), time.monotonic()
            clean = (res["seq"]["lost"] == 0 and res["seq"]["duplicates"] == 0 and
                     res["seq"]["out_of_order"] == 0 and res["seq"]["unexpected"] == 0 and
                     pres["failed"] == 0 and res["seq"]["complete"] == nsubs)
            step = {"target_rate": rate or "max", "count": count,
                    "achieved_rate": pres["achieved_rate"], "publish_failed": pres["failed"],
                    "publish_rtt_ms_p50": round(pres["rtt_ns"]["p50"] / 1e6, 3),
                    "seq": res["seq"], "zero_loss": clean,
                    "publisher_cpu_pct": round(100 * pres["cpu_s"] / max(pres["wall_s"], 1e-9), 1),
                    "subscriber_cpu_s": round(res["cpu_s"], 3),
                    "server_cpu": cpu_delta(c0, c1, t1 - t0)}
            step["cpu_per_delivery_us"] = per_delivery_us(step["server_cpu"],
                                                          res["seq"]["received"])
            steps.append(step)
            log("C %s %s subs=%d rate=%s achieved=%.0f clean=%s" % (
                stack.name, transport, nsubs, rate or "max", pres["achieved_rate"], clean))
            if clean and (best is None or pres["achieved_rate"] > best):
                best = pres["achieved_rate"]
            if not clean:
                break
    finally:
        stack.stop()
    return {"scenario": "C", "server": stack.name, "transport": transport, "subscribers": nsubs,
            "max_zero_loss_rate": round(best, 1) if best else 0, "steps": steps}


def scenario_catchup(cfg, make_stack, transport):
    stack = make_stack().start()
    try:
        kind, path = stack.sub("catchup", transport)
        ppath, auth = stack.pub("catchup")
        g = Gen(cfg.loadgen, "catchup", stack.port, ["--kind", kind, "--path", path,
                                                      "--pub-path", ppath, "--auth", auth,
                                                      "--count", 100, "--duration", 30])
        r = g.result(40)
    finally:
        stack.stop()
    return {"scenario": "D", "server": stack.name, "transport": transport, "exact": r["exact"],
            "phase": r["phase"], "seq": r["seq"], "published": r["published"]}


# ---- report -----------------------------------------------------------------------------------

JOURNAL_POLICIES = ("none", "off", "interval", "always")


def scenario_journal(cfg, policy, n):
    """E: publish latency by state_dir journal policy ("none" = no state_dir): n sequential
    publishes of a small message through lighttpd on one keep-alive connection, no subscriber.
    Each latency is the publish's round trip (2xx received)."""
    import http.client
    extra = []
    stack = HoldfastStack(cfg.tmp, cfg.holdfast_bin, cfg.deploy)
    if policy != "none":
        extra = ["--state-dir", os.path.join(stack.dir, "state"), "--journal-sync", policy]
    stack.extra = extra
    stack.start()
    try:
        path, auth = stack.pub("journal-bench")
        headers = {"Authorization": auth.split(": ", 1)[1], "Content-Type": "application/json"}
        conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
        lat, failed = [], 0
        t0 = time.monotonic()
        for i in range(n):
            start = time.perf_counter()
            conn.request("POST", path, body=json.dumps({"seq": i}), headers=headers)
            r = conn.getresponse()
            r.read()
            lat.append((time.perf_counter() - start) * 1000)
            failed += r.status not in (201, 202)
            if r.getheader("connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
        wall = time.monotonic() - t0
        conn.close()
    finally:
        stack.stop()
    lat.sort()
    pick = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 3)
    return {"scenario": "E", "server": "holdfast", "policy": policy, "publishes": n,
            "failed": failed, "rate_per_s": round(n / wall, 1),
            "latency_ms": {"p50": pick(0.5), "p99": pick(0.99), "max": round(lat[-1], 3)}}



# ---- main -------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smoke test: small N, a few minutes")
    ap.add_argument("--out", help="output directory (default docs/perf; --quick: a temp dir)")
    ap.add_argument("--servers", default="holdfast,holdfast-nginx,nchan",
                    help="holdfast (behind lighttpd), holdfast-nginx, holdfast-apache, "
                    "holdfast-redis, holdfast-redis2, holdfast-redis4 (1, 2, 4 processes on "
                    "Redis behind lighttpd), holdfast-redis-nginx (1 process on Redis behind "
                    "nginx), nchan, nchan-w4 (4 workers), nchan-redis")
    ap.add_argument("--deploy", default=os.path.join(REPO, "deploy"),
                    help="folder with the lighttpd/nginx/apache configs to run (default deploy/)")
    ap.add_argument("--scenarios", default="A,B,C,D,E",
                    help="A hold, B fan-out, C publish rate, D catch-up, E publish latency by journal policy")
    ap.add_argument("--transports", default="longpoll,sse")
    ap.add_argument("--hold-sizes", help="A: comma-separated subscriber counts")
    ap.add_argument("--fanout-sizes", help="B: comma-separated subscriber counts")
    ap.add_argument("--per-proc", type=int, default=5000, help="subscribers per loadgen process")
    ap.add_argument("--pub-window", type=int, default=8,
                    help="C: publish requests pipelined on the one publisher connection")
    ap.add_argument("--profile", action="store_true",
                    help="perf-record holdfast during B (fan-out); report next to the JSON")
    ap.add_argument("--holdfast-bin", required=True)
    ap.add_argument("--loadgen", required=True)
    cfg = ap.parse_args()
    quick = cfg.quick
    cfg.hold_sizes = [int(x) for x in (cfg.hold_sizes or ("200" if quick else "1000,5000,10000,15000")).split(",")]
    cfg.fanout_sizes = [int(x) for x in (cfg.fanout_sizes or ("200" if quick else "1000,10000")).split(",")]
    cfg.hold_secs = 2 if quick else 5
    cfg.rates = [200, 1000, 0] if quick else [100, 500, 1000, 2000, 5000, 10000, 0]
    cfg.rate_count = (lambda r: 300) if quick else (lambda r: 3000 if r == 0 else max(300, min(int(r * 2), 6000)))
    cfg.drain_secs = 5
    cfg.keep_latency = True
    cfg.tmp = tempfile.mkdtemp(prefix="holdfast-bench-")
    cfg.out = cfg.out or (os.path.join(cfg.tmp, "out") if quick else os.path.join(REPO, "docs", "perf"))
    os.makedirs(cfg.out, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ("-quick" if quick else "")

    servers = cfg.servers.split(",")
    stacks = {cls.name: (lambda cls=cls: cls(cfg.tmp, cfg.holdfast_bin, cfg.deploy))
              for cls in (HoldfastStack, HoldfastNginxStack, HoldfastApacheStack,
                          HoldfastRedisNginxStack)}
    # On Redis: 1 and 2 processes behind lighttpd's 2 workers; 4 processes behind 6 workers
    # for the 50,000-held case (lighttpd holds 2 descriptors per held request, 20,000 a worker).
    for nodes, workers in ((1, 2), (2, 2), (4, 6)):
        name = "holdfast-redis" if nodes == 1 else "holdfast-redis%d" % nodes
        stacks[name] = (lambda nodes=nodes, workers=workers: HoldfastRedisStack(
            cfg.tmp, cfg.holdfast_bin, cfg.deploy, nodes, workers))
    if any(s.startswith("nchan") for s in servers):
        if nchan_module() and shutil.which("nginx"):
            stacks["nchan"] = lambda: NchanStack(cfg.tmp)
            stacks["nchan-w4"] = lambda: NchanStack(cfg.tmp, 4)
            stacks["nchan-redis"] = lambda: NchanRedisStack(cfg.tmp)
        else:
            log("nginx or ngx_nchan_module.so not found: Nchan skipped (HOLDFAST_WITH_BENCH=1 scripts/install-deps)")
    unknown = [s for s in servers if s not in stacks and not s.startswith("nchan")]
    if unknown:
        log("unknown servers: %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(stacks))))
        return 2
    transports = cfg.transports.split(",")
    scen = cfg.scenarios.split(",")
    results, failures = [], []
    t_start = time.monotonic()

    def run(label, fn, *a):
        log("running", label)
        try:
            r = fn(cfg, *a)
            results.append(r)
            return r
        except Exception as e:  # noqa: BLE001 - a broken case is reported, the run goes on
            failures.append("%s: %s" % (label, e))
            log("FAILED", label, e)
            return None

    for name in [s for s in servers if s in stacks]:
        mk = stacks[name]
        for tr in transports:
            if "D" in scen:
                r = run("D %s %s" % (name, tr), scenario_catchup, mk, tr)
                if r and not r["exact"]:
                    failures.append("D %s %s: catch-up not exact: %s" % (name, tr, r["seq"]))
            if "A" in scen:
                for n in cfg.hold_sizes:
                    r = run("A %s %s %d" % (name, tr, n), scenario_hold, mk, tr, n)
                    if r and r["ready"] < n:
                        failures.append("A %s %s %d: only %d ready" % (name, tr, n, r["ready"]))
            if "B" in scen:
                for n in cfg.fanout_sizes:
                    interval = 0.25 if n <= 1000 else 1.0
                    r = run("B %s %s %d" % (name, tr, n), scenario_fanout, mk, tr, n, 20, interval)
                    if r and r["deliveries"] == 0:
                        failures.append("B %s %s %d: no deliveries" % (name, tr, n))
                    elif r and quick and r["delivered_pct"] < 100:
                        failures.append("B %s %s %d: %.2f%% delivered" % (name, tr, n, r["delivered_pct"]))
            if "C" in scen:
                for ns in (1, 100):
                    r = run("C %s %s %d" % (name, tr, ns), scenario_rate, mk, tr, ns)
                    if r and r["max_zero_loss_rate"] == 0:
                        failures.append("C %s %s %d: no rate without loss" % (name, tr, ns))

    if "E" in scen and "holdfast" in servers:
        for policy in JOURNAL_POLICIES:
            r = run("E holdfast journal %s" % policy, scenario_journal, policy, 100 if quick else 2000)
            if r and r["failed"]:
                failures.append("E journal %s: %d publishes failed" % (policy, r["failed"]))

    doc = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
           "command": os.environ.get("HOLDFAST_BENCH_CMD") or " ".join(sys.argv),
           "quick": quick, "machine": machine(),
           "settings": {"buffer_messages": BUFFER_MESSAGES, "buffer_age_s": BUFFER_AGE,
                        "longpoll_timeout_s": POLL_TIMEOUT, "loadgen_subs_per_process": cfg.per_proc,
                        "publish_pipeline_window": cfg.pub_window,
                        "lighttpd": "deploy/lighttpd (max-fds %d, 2 workers)" % min(20000, hard_nofile()),
                        "deploy": os.path.relpath(cfg.deploy, REPO),
                        "nginx": "worker_processes 2 (nchan-w4: 4), worker_connections 19000, nchan_longpoll_multipart_response on",
                        "redis": "redis-server on loopback TCP, no persistence; holdfast --redis URL "
                                 "(deploy/lighttpd/holdfast-multi.conf); Nchan nchan_redis_url + nchan_use_redis on"},
           "results": results, "failures": failures,
           "elapsed_s": round(time.monotonic() - t_start, 1)}
    json_path = os.path.join(cfg.out, "bench-%s.json" % stamp)
    doc["plots"] = [os.path.basename(p) for p in plots(cfg, results, stamp)] if not quick else []
    with open(json_path, "w") as f:
        json.dump(doc, f, indent=1)
    md = table(results)
    with open(os.path.join(cfg.out, "bench-%s.md" % stamp), "w") as f:
        f.write(md + "\n")
    print(md)
    print("results: %s (%.0f s)" % (json_path, doc["elapsed_s"]))
    if failures:
        print("FAILURES:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
