#!/usr/bin/env python3
"""Holdfast vs Nchan benchmark driver (run through scripts/bench, which builds first).

Starts each stack fresh for every case (Holdfast behind lighttpd with deploy/lighttpd's config,
behind nginx with deploy/nginx's, optionally behind Apache with deploy/apache's; Nchan in
Debian's nginx, configured by this file with the same buffer and timeout settings),
drives it with bench/loadgen (holdfast-loadgen), reads memory and CPU from /proc, and writes a
JSON file plus a markdown table. Only loopback addresses; every wait is bounded; only the
processes this script started are signalled, by PID.
"""
import argparse, datetime, json, math, os, platform, queue, re, shutil, signal, socket
import subprocess, sys, tempfile, threading, time, urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = "bench-key"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Same settings on both servers: 1000 messages per channel, 1 h message age, long-poll hold 30 s,
# streams without a timeout.
BUFFER_MESSAGES = 1000
BUFFER_AGE = 3600
POLL_TIMEOUT = 30


def log(*a):
    print("[bench]", *a, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_until(pred, timeout, interval=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


def http(method, port, path, body=None, headers=None, timeout=5):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=body,
                                 method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except OSError as e:
        return 0, str(e)


# ---- /proc ------------------------------------------------------------------------------------

def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
                if int(st[st.rfind(")") + 2:].split()[1]) == pid:
                    out.append(int(d))
            except OSError:
                pass
    return out


def family(pid):
    return [pid] + children(pid)


def mem_kib(pids):
    """Sum of Pss and Rss (KiB) from /proc/PID/smaps_rollup."""
    pss = rss = 0
    for p in pids:
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
        except OSError:
            pass
    return {"pss_kib": pss, "rss_kib": rss}


def cpu_s(pids):
    t = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                st = f.read()
            fields = st[st.rfind(")") + 2:].split()
            t += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return t / CLK_TCK


def stop_pid(proc, timeout=5):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


# ---- stacks -----------------------------------------------------------------------------------

def render(src, dst, values):
    with open(src) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace("@%s@" % k, str(v))
    left = [m for line in text.splitlines() if not line.lstrip().startswith("#")
            for m in re.findall(r"@[A-Z_]+@", line)]
    if left:
        raise RuntimeError("unrendered placeholders in %s: %s" % (src, left))
    with open(dst, "w") as f:
        f.write(text)
    return dst


def hard_nofile():
    return __import__("resource").getrlimit(__import__("resource").RLIMIT_NOFILE)[1]


class HoldfastStack:
    """Holdfast behind lighttpd (the shipped deploy/lighttpd)."""
    name = "holdfast"
    web = "lighttpd"

    def __init__(self, tmp, holdfast_bin, deploy, extra_args=()):
        self.dir = tempfile.mkdtemp(prefix="hf-", dir=tmp)
        self.deploy = deploy
        self.bin = holdfast_bin
        self.extra = list(extra_args)
        self.port = free_port()
        self.hf = self.lt = None

    def start(self):
        try:
            return self._start()
        except BaseException:
            self.stop()  # never leave a half-started stack behind
            raise

    def _start(self):
        ctl, data = os.path.join(self.dir, "control.sock"), os.path.join(self.dir, "data.sock")
        args = [self.bin, "--control", "unix:" + ctl, "--data", "unix:" + data,
                "--publish-key", KEY, "--buffer-messages", str(BUFFER_MESSAGES),
                "--buffer-age", str(BUFFER_AGE), "--poll-timeout", str(POLL_TIMEOUT),
                "--log-level", "warn"] + self.extra
        self.hf = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                   stdout=open(os.path.join(self.dir, "holdfast.out"), "wb"),
                                   stderr=subprocess.STDOUT, start_new_session=True)
        if not wait_until(lambda: os.path.exists(ctl) and os.path.exists(data), 10):
            raise RuntimeError("holdfast did not start: %s" % self.tail("holdfast.out"))
        docroot = os.path.join(self.dir, "docroot")
        os.makedirs(docroot, exist_ok=True)
        self.lt = self.start_web(ctl, data, docroot)
        if not wait_until(lambda: self.ctl_ok(), 10):
            raise RuntimeError("%s did not answer: %s" % (self.web, self.tail(self.web + ".out")))
        return self

    def start_web(self, ctl, data, docroot):
        """lighttpd with deploy/lighttpd rendered with its production values (max-fds 20000,
        max-connections 10000, 2 workers), capped by this shell's hard fd limit."""
        ldir = os.path.join(self.deploy, "lighttpd")
        frag = render(os.path.join(ldir, "holdfast.conf"), os.path.join(self.dir, "holdfast.conf"),
                      {"CONTROL_SOCKET": ctl, "DATA_SOCKET": data})
        max_fds = min(20000, hard_nofile())
        conf = render(os.path.join(ldir, "lighttpd.conf"), os.path.join(self.dir, "lighttpd.conf"),
                      {"PORT": self.port, "DOCROOT": docroot, "TMPDIR": self.dir,
                       "HOLDFAST_CONF": frag, "MAX_FDS": max_fds,
                       "MAX_CONNECTIONS": max_fds // 2, "MAX_WORKER": 2})
        return self.spawn(["lighttpd", "-D", "-f", conf])

    def spawn(self, cmd):
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=open(os.path.join(self.dir, self.web + ".out"), "wb"),
                                stderr=subprocess.STDOUT, start_new_session=True)

    def ctl_ok(self):
        return http("GET", self.port, "/push/ctl/health", timeout=1)[0] == 200

    def tail(self, name):
        try:
            with open(os.path.join(self.dir, name), errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        stop_pid(self.lt)
        stop_pid(self.hf)

    def backend_pids(self):
        return [self.hf.pid]

    def web_pids(self):
        return family(self.lt.pid)

    def held(self):
        st, body = http("GET", self.port, "/push/ctl/stats",
                        headers={"Authorization": "Bearer " + KEY})
        if st != 200:
            return -1
        return json.loads(body)["held"]["total"]

    def sub(self, channel, transport):
        kind = "holdfast-" + transport
        return kind, "/push/sub/%s?transport=%s" % (channel, transport)

    def pub(self, channel):
        return "/push/ctl/pub/" + channel, "Authorization: Bearer " + KEY


def open_up(*paths):
    """Lets a web server's unprivileged workers (www-data when started as root) reach the
    stack's folder (and the run's temp folder above it) and connect to holdfast's sockets."""
    os.chmod(os.path.dirname(paths[0]), 0o711)
    for path in paths:
        os.chmod(path, 0o777)


class HoldfastNginxStack(HoldfastStack):
    """Holdfast behind nginx with the shipped deploy/nginx files, rendered only for paths and
    the port (as the integration tests do). nginx's workers run as www-data when started as
    root, so the stack's directory and sockets are opened up for them."""
    name = "holdfast-nginx"
    web = "nginx"

    def start_web(self, ctl, data, docroot):
        ndir, conf_dir = os.path.join(self.deploy, "nginx"), os.path.join(self.dir, "nginx")
        os.makedirs(conf_dir, exist_ok=True)
        values = {"PORT": self.port, "DOCROOT": docroot, "TMPDIR": conf_dir,
                  "CONF_DIR": conf_dir, "CONTROL_SOCKET": ctl, "DATA_SOCKET": data}
        for name in ("holdfast-http.conf", "holdfast-server.conf", "nginx.conf"):
            render(os.path.join(ndir, name), os.path.join(conf_dir, name), values)
        shutil.copy("/etc/nginx/fastcgi_params", os.path.join(conf_dir, "fastcgi_params"))
        open_up(self.dir, conf_dir, ctl, data)
        return self.spawn(["nginx", "-p", conf_dir + "/", "-c", os.path.join(conf_dir, "nginx.conf"),
                           "-e", os.path.join(conf_dir, "nginx-error.log")])


class HoldfastApacheStack(HoldfastStack):
    """Holdfast behind Apache (event MPM + mod_proxy_fcgi) with the shipped deploy/apache."""
    name = "holdfast-apache"
    web = "apache"

    def start_web(self, ctl, data, docroot):
        adir, conf_dir = os.path.join(self.deploy, "apache"), os.path.join(self.dir, "apache")
        os.makedirs(conf_dir, exist_ok=True)
        values = {"PORT": self.port, "DOCROOT": docroot, "TMPDIR": conf_dir,
                  "CONF_DIR": conf_dir, "CONTROL_SOCKET": ctl, "DATA_SOCKET": data}
        render(os.path.join(adir, "holdfast.conf"), os.path.join(conf_dir, "holdfast.conf"), values)
        conf = render(os.path.join(adir, "httpd.conf"), os.path.join(conf_dir, "httpd.conf"), values)
        open_up(self.dir, conf_dir, docroot, ctl, data)
        return self.spawn(["apache2", "-f", conf, "-DFOREGROUND"])


NGINX_CONF = """
load_module {module};
worker_processes 2;
worker_rlimit_nofile {nofile};
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
daemon off;
events {{ worker_connections {conns}; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  keepalive_requests 100000;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location ~ ^/sub/(.+)$ {{
      nchan_subscriber longpoll;
      nchan_channel_id $1;
      nchan_subscriber_first_message newest;
      nchan_subscriber_timeout {poll}s;
      nchan_longpoll_multipart_response on;
    }}
    location ~ ^/sse/(.+)$ {{
      nchan_subscriber eventsource;
      nchan_channel_id $1;
      nchan_subscriber_first_message newest;
    }}
    location ~ ^/pub/(.+)$ {{
      nchan_publisher;
      nchan_channel_id $1;
      nchan_message_buffer_length {buf};
      nchan_message_timeout {age}s;
    }}
    location = /nchan_status {{ nchan_stub_status; }}
  }}
}}
"""


def nchan_module():
    for d in ("/usr/lib/nginx/modules", "/usr/share/nginx/modules"):
        p = os.path.join(d, "ngx_nchan_module.so")
        if os.path.exists(p):
            return p
    return None


class NchanStack:
    name = "nchan"

    def __init__(self, tmp):
        self.dir = tempfile.mkdtemp(prefix="nchan-", dir=tmp)
        self.port = free_port()
        self.proc = None

    def start(self):
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        hard = hard_nofile()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(module=nchan_module(), dir=self.dir, port=self.port,
                                      nofile=min(20000, hard), conns=min(19000, hard - 1000),
                                      poll=POLL_TIMEOUT, buf=BUFFER_MESSAGES, age=BUFFER_AGE))
        self.proc = subprocess.Popen(["nginx", "-p", self.dir, "-c", conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(self.dir, "nginx.out"), "wb"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        if not wait_until(lambda: self.held() >= 0, 10):
            raise RuntimeError("nginx/nchan did not start: %s" % open(
                os.path.join(self.dir, "nginx.out"), errors="replace").read()[-2000:])
        return self

    def stop(self):
        stop_pid(self.proc)

    def backend_pids(self):
        return []

    def web_pids(self):
        return family(self.proc.pid)

    def held(self):
        st, body = http("GET", self.port, "/nchan_status", timeout=1)
        m = re.search(r"subscribers: (\d+)", body) if st == 200 else None
        return int(m.group(1)) if m else -1

    def sub(self, channel, transport):
        if transport == "longpoll":
            return "nchan-longpoll", "/sub/" + channel
        return "nchan-sse", "/sse/" + channel

    def pub(self, channel):
        return "/pub/" + channel, ""


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


def server_cpu(stack):
    return {"web": cpu_s(stack.web_pids()), "backend": cpu_s(stack.backend_pids())}


def cpu_delta(a, b, wall):
    d = {k: round(b[k] - a[k], 3) for k in a}
    d["wall_s"] = round(wall, 3)
    d["web_pct"] = round(100 * d["web"] / wall, 1) if wall > 0 else 0
    d["backend_pct"] = round(100 * d["backend"] / wall, 1) if wall > 0 else 0
    return d


def per_delivery_us(cpu, deliveries):
    """CPU microseconds per delivered message for each process group (web server, backend)."""
    if not deliveries:
        return {"web": None, "backend": None, "total": None}
    d = {k: round(cpu[k] * 1e6 / deliveries, 2) for k in ("web", "backend")}
    d["total"] = round(d["web"] + d["backend"], 2)
    return d


def wait_held(stack, n, timeout=30):
    return wait_until(lambda: stack.held() >= n, timeout, 0.2) and stack.held()


# ---- scenarios --------------------------------------------------------------------------------

def scenario_hold(cfg, make_stack, transport, n):
    stack = make_stack().start()
    try:
        time.sleep(0.5)
        base = {"web": mem_kib(stack.web_pids()), "backend": mem_kib(stack.backend_pids())}
        c0, t0 = server_cpu(stack), time.monotonic()
        gens, ready = start_subs(cfg, stack, "hold", transport, n, 0, cfg.hold_secs + 120,
                                 no_reconnect=True)
        held0 = wait_held(stack, n, 30)
        time.sleep(cfg.hold_secs)
        held1 = stack.held()
        now = {"web": mem_kib(stack.web_pids()), "backend": mem_kib(stack.backend_pids())}
        c1, t1 = server_cpu(stack), time.monotonic()
        for g in gens:
            g.stop()
        res = merge_subs([g.result(10) for g in gens])
    finally:
        stack.stop()
    per = {}
    for side in ("web", "backend"):
        for k in ("pss_kib", "rss_kib"):
            per["%s_%s_per_sub_bytes" % (side, k[:3])] = round(
                (now[side][k] - base[side][k]) * 1024 / n, 1)
    per["total_pss_per_sub_bytes"] = round(per["web_pss_per_sub_bytes"] +
                                           per["backend_pss_per_sub_bytes"], 1)
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


def machine():
    info = {"nproc": os.cpu_count(), "kernel": platform.release()}
    with open("/proc/cpuinfo") as f:
        m = re.search(r"model name\s*:\s*(.*)", f.read())
        info["cpu_model"] = m.group(1).strip() if m else "?"
    with open("/proc/meminfo") as f:
        info["ram_kib"] = int(re.search(r"MemTotal:\s*(\d+)", f.read()).group(1))
    for tool, cmd in (("lighttpd", ["lighttpd", "-v"]), ("nginx", ["nginx", "-v"])):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=5)
            info[tool] = (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            info[tool] = None
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libnginx-mod-nchan"],
                           capture_output=True, text=True, timeout=5)
        info["nchan"] = r.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        info["nchan"] = None
    return info


def fmt_us(d):
    if not d or d.get("total") is None:
        return "-"
    return "%.1f / %.1f / %.1f" % (d["web"], d["backend"], d["total"])


def table(results):
    out = []
    a = [r for r in results if r["scenario"] == "A"]
    if a:
        out += ["### A. Held subscribers (memory per held subscriber, from Pss/Rss deltas)", "",
                "| server | transport | subs | ready | held (server, end) | open (client, end) | web Pss B/sub | backend Pss B/sub | backend Rss B/sub | total Pss B/sub | server CPU % (web/backend) | client CPU s |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in a:
            p = r["per_subscriber"]
            out.append("| %s | %s | %d | %d | %s | %d | %.0f | %.0f | %.0f | %.0f | %s/%s | %s |" % (
                r["server"], r["transport"], r["subscribers"], r["ready"], r["server_held_end"],
                r["client_open_end"], p["web_pss_per_sub_bytes"], p["backend_pss_per_sub_bytes"],
                p["backend_rss_per_sub_bytes"], p["total_pss_per_sub_bytes"],
                r["server_cpu"]["web_pct"], r["server_cpu"]["backend_pct"], r["client_cpu_s"]))
        out.append("")
    b = [r for r in results if r["scenario"] == "B"]
    if b:
        out += ["### B. Fan-out to N subscribers of one channel (20 publishes)", "",
                "| server | transport | subs | delivered % | p50 ms | p99 ms | max ms | 100% delivered: median / max ms | lost | dup | ooo | server CPU s (web/backend) | CPU µs/delivery web / backend / total | client CPU s | wall s |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in b:
            s = r["seq"]
            out.append("| %s | %s | %d | %.2f | %.2f | %.2f | %.2f | %s / %s | %d | %d | %d | %s/%s | %s | %s | %s |" % (
                r["server"], r["transport"], r["subscribers"], r["delivered_pct"],
                r["latency_ms"]["p50"], r["latency_ms"]["p99"], r["latency_ms"]["max"],
                r["time_to_100pct_ms"]["median"], r["time_to_100pct_ms"]["max"], s["lost"],
                s["duplicates"], s["out_of_order"], r["server_cpu"]["web"],
                r["server_cpu"]["backend"], fmt_us(r.get("cpu_per_delivery_us")),
                r["client_cpu_s"], r["server_cpu"]["wall_s"]))
        out.append("")
    c = [r for r in results if r["scenario"] == "C"]
    if c:
        out += ["### C. Publish rate with zero loss (one publisher connection, requests pipelined in order)", "",
                "| server | transport | subs | highest zero-loss rate msg/s | steps (target→achieved, clean) | publisher CPU % at last step | server CPU % web/backend at last step | CPU µs/delivery web / backend / total, fastest clean step |",
                "|---|---|---|---|---|---|---|---|"]
        for r in c:
            steps = ", ".join("%s→%.0f %s" % (s["target_rate"], s["achieved_rate"],
                                               "ok" if s["zero_loss"] else "LOSS(lost %d dup %d ooo %d)" % (
                                                   s["seq"]["lost"], s["seq"]["duplicates"], s["seq"]["out_of_order"]))
                              for s in r["steps"])
            last = r["steps"][-1] if r["steps"] else None
            clean = [s for s in r["steps"] if s["zero_loss"]]
            best = max(clean, key=lambda s: s["achieved_rate"]) if clean else None
            out.append("| %s | %s | %d | %.0f | %s | %s | %s | %s |" % (
                r["server"], r["transport"], r["subscribers"], r["max_zero_loss_rate"], steps,
                last["publisher_cpu_pct"] if last else "-",
                "%s/%s" % (last["server_cpu"]["web_pct"], last["server_cpu"]["backend_pct"]) if last else "-",
                fmt_us(best.get("cpu_per_delivery_us")) if best else "-"))
        out.append("")
    e = [r for r in results if r["scenario"] == "E"]
    if e:
        out += ["### E. Publish latency by journal policy (sequential publishes through lighttpd, no subscriber)", "",
                "| journal_sync | publishes | failed | rate msg/s | p50 ms | p99 ms | max ms |",
                "|---|---|---|---|---|---|---|"]
        for r in e:
            out.append("| %s | %d | %d | %.0f | %.3f | %.3f | %.3f |" % (
                "no state_dir" if r["policy"] == "none" else r["policy"], r["publishes"], r["failed"],
                r["rate_per_s"], r["latency_ms"]["p50"], r["latency_ms"]["p99"], r["latency_ms"]["max"]))
        out.append("")
    d = [r for r in results if r["scenario"] == "D"]
    if d:
        out += ["### D. Catch-up (away while 100 messages are published)", "",
                "| server | transport | exact | received | lost | dup | ooo | unexpected |",
                "|---|---|---|---|---|---|---|---|"]
        for r in d:
            s = r["seq"]
            out.append("| %s | %s | %s | %d | %d | %d | %d | %d |" % (
                r["server"], r["transport"], "yes" if r["exact"] else "NO", s["received"],
                s["lost"], s["duplicates"], s["out_of_order"], s["unexpected"]))
        out.append("")
    return "\n".join(out)


def plot_cpu_per_delivery(cfg, results, stamp):
    """B: CPU µs per delivered message, stacked web server + backend, one bar per case."""
    b = [r for r in results if r["scenario"] == "B" and r.get("cpu_per_delivery_us", {}).get("total")]
    if not b:
        return None
    png = os.path.join(cfg.out, "cpu-per-delivery-%s.png" % stamp)
    dat = os.path.join(cfg.out, "cpu-per-delivery-%s.dat" % stamp)
    with open(dat, "w") as f:
        f.write("case web backend\n")
        for r in b:
            d = r["cpu_per_delivery_us"]
            f.write('"%s %s %d" %.2f %.2f\n' % (r["server"], r["transport"], r["subscribers"],
                                                d["web"], d["backend"]))
    script = ("set terminal png size 1100,600; set output '%s'; set style data histograms; "
              "set style histogram rowstacked; set style fill solid 0.8 border -1; "
              "set boxwidth 0.7; set xtics rotate by -30; set ylabel 'CPU µs per delivered message'; "
              "set key top left autotitle columnhead; set grid ytics; "
              "set title 'B: server CPU per delivery (web server + backend)'; "
              "plot '%s' using 2:xtic(1), '' using 3\n" % (png, dat))
    subprocess.run(["gnuplot"], input=script, text=True, timeout=60)
    return png


def plots(cfg, results, stamp):
    if not shutil.which("gnuplot"):
        log("gnuplot not found: no plots")
        return []
    made = []
    b = [r for r in results if r["scenario"] == "B" and r.get("latency_cdf_file")]
    if b:
        png = os.path.join(cfg.out, "fanout-latency-%s.png" % stamp)
        series = ", ".join("'%s' using 1:2 with lines lw 2 title '%s %s %d'" % (
            os.path.join(cfg.out, r["latency_cdf_file"]), r["server"], r["transport"],
            r["subscribers"]) for r in b)
        script = ("set terminal png size 1000,600; set output '%s'; set logscale x; "
                  "set xlabel 'per-delivery latency (ms, log)'; set ylabel 'fraction delivered'; "
                  "set key bottom right; set grid; set title 'B: fan-out latency CDF (20 publishes)'; "
                  "plot %s\n" % (png, series))
        subprocess.run(["gnuplot"], input=script, text=True, timeout=60)
        made.append(png)
    png = plot_cpu_per_delivery(cfg, results, stamp)
    if png:
        made.append(png)
    a = [r for r in results if r["scenario"] == "A"]
    if a:
        png = os.path.join(cfg.out, "memory-vs-subscribers-%s.png" % stamp)
        dat = os.path.join(cfg.out, "memory-%s.dat" % stamp)
        keys = sorted({(r["server"], r["transport"]) for r in a})
        with open(dat, "w") as f:
            for k in keys:
                f.write("# %s %s\n" % k)
                f.write("0 0\n")
                for r in sorted((r for r in a if (r["server"], r["transport"]) == k),
                                key=lambda r: r["subscribers"]):
                    added = (r["mem_held"]["web"]["pss_kib"] - r["mem_before"]["web"]["pss_kib"] +
                             r["mem_held"]["backend"]["pss_kib"] - r["mem_before"]["backend"]["pss_kib"])
                    f.write("%d %.3f\n" % (r["subscribers"], added / 1024.0))
                f.write("\n\n")
        series = ", ".join("'%s' index %d using 1:2 with linespoints lw 2 title '%s %s'" % (
            dat, i, k[0], k[1]) for i, k in enumerate(keys))
        script = ("set terminal png size 1000,600; set output '%s'; "
                  "set xlabel 'held subscribers'; set ylabel 'added Pss, web server + backend (MiB)'; "
                  "set key top left; set grid; set title 'A: memory vs held subscribers'; "
                  "plot %s\n" % (png, series))
        subprocess.run(["gnuplot"], input=script, text=True, timeout=60)
        made.append(png)
    return made


# ---- main -------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smoke test: small N, a few minutes")
    ap.add_argument("--out", help="output directory (default docs/perf; --quick: a temp dir)")
    ap.add_argument("--servers", default="holdfast,holdfast-nginx,nchan",
                    help="holdfast (behind lighttpd), holdfast-nginx, holdfast-apache, nchan")
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
              for cls in (HoldfastStack, HoldfastNginxStack, HoldfastApacheStack)}
    if "nchan" in servers:
        if nchan_module() and shutil.which("nginx"):
            stacks["nchan"] = lambda: NchanStack(cfg.tmp)
        else:
            log("nginx or ngx_nchan_module.so not found: Nchan skipped (HOLDFAST_WITH_BENCH=1 scripts/install-deps)")
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
                        "nginx": "worker_processes 2, worker_connections 19000, nchan_longpoll_multipart_response on"},
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
