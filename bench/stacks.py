"""The stacks the benchmark runs (bench/bench.py), each started fresh per case: Holdfast behind
lighttpd (deploy/lighttpd), nginx (deploy/nginx) or Apache (deploy/apache), on the memory engine
or on Redis with one or more processes; Nchan in Debian's nginx, on its memory store or on Redis.
Plus the /proc and process helpers they share. Only loopback addresses; every wait is bounded;
only the processes started here are signalled, by PID.
"""
import json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request

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

    def spawn_holdfast(self, d, extra=()):
        """One holdfast with its sockets and output in folder d and the benchmark's settings."""
        args = [self.bin, "--control", "unix:" + os.path.join(d, "control.sock"),
                "--data", "unix:" + os.path.join(d, "data.sock"),
                "--publish-key", KEY, "--buffer-messages", str(BUFFER_MESSAGES),
                "--buffer-age", str(BUFFER_AGE), "--poll-timeout", str(POLL_TIMEOUT),
                "--log-level", "warn"] + list(extra) + self.extra
        return subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                stdout=open(os.path.join(d, "holdfast.out"), "wb"),
                                stderr=subprocess.STDOUT, start_new_session=True)

    def _start(self):
        ctl, data = os.path.join(self.dir, "control.sock"), os.path.join(self.dir, "data.sock")
        self.hf = self.spawn_holdfast(self.dir)
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
        return self.spawn_lighttpd(frag, docroot, 2)

    def spawn_lighttpd(self, frag, docroot, workers):
        """deploy/lighttpd/lighttpd.conf including the rendered fragment `frag`."""
        max_fds = min(20000, hard_nofile())
        conf = render(os.path.join(self.deploy, "lighttpd", "lighttpd.conf"),
                      os.path.join(self.dir, "lighttpd.conf"),
                      {"PORT": self.port, "DOCROOT": docroot, "TMPDIR": self.dir,
                       "HOLDFAST_CONF": frag, "MAX_FDS": max_fds,
                       "MAX_CONNECTIONS": max_fds // 2, "MAX_WORKER": workers})
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

    def redis_pids(self):
        return []

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
worker_processes {workers};
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
  {extra}
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
    """Nchan in Debian's nginx on its memory store, `workers` worker processes."""
    name = "nchan"

    def __init__(self, tmp, workers=2):
        self.dir = tempfile.mkdtemp(prefix="nchan-", dir=tmp)
        self.port = free_port()
        self.proc = None
        self.workers = workers
        if workers != 2:
            self.name = "nchan-w%d" % workers

    def http_directives(self):
        return ""

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
                                      workers=self.workers, extra=self.http_directives(),
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

    def redis_pids(self):
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


# ---- Redis stacks -----------------------------------------------------------------------------

class RedisServer:
    """redis-server on a free loopback TCP port (both Holdfast and Nchan reach it the same
    way) without persistence: the benchmark compares the engines, not the disk (docs/redis.md
    covers AOF and what each fsync policy risks)."""

    def __init__(self, d):
        self.dir = os.path.join(d, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.proc = None

    @property
    def url(self):
        return "redis://127.0.0.1:%d" % self.port

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes",
             "--logfile", os.path.join(self.dir, "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        if not wait_until(self.ping, 10):
            raise RuntimeError("redis-server did not answer PING on %d" % self.port)
        return self

    def ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        stop_pid(self.proc)

    def pids(self):
        return [self.proc.pid] if self.proc else []


class OwnRedis:
    """Mixin for a stack with its own redis-server (self.redis): started before the stack's
    processes, stopped after them, and counted as the stack's Redis process group."""

    def _start(self):
        self.redis.start()
        return super()._start()

    def stop(self):
        super().stop()
        self.redis.stop()

    def redis_pids(self):
        return self.redis.pids()


def multi_fragment(text, nodes):
    """deploy/lighttpd/holdfast-multi.conf (rendered) listing `nodes` processes: the entries of
    process 1 are repeated for 1..nodes and those of the shipped 2 and 3 dropped."""
    out = []
    for line in text.splitlines():
        if "/1/" in line:
            out += [line.replace("/1/", "/%d/" % i) for i in range(1, nodes + 1)]
        elif "/2/" in line or "/3/" in line:
            continue
        else:
            out.append(line)
    return "\n".join(out) + "\n"


class HoldfastRedisStack(HoldfastStack):
    """`nodes` holdfast processes with --redis on one redis-server, behind one lighttpd with
    deploy/lighttpd/holdfast-multi.conf (sockets in RUN_DIR/N/ as holdfast@.service lays them
    out), `workers` lighttpd workers. Held counts and CPU are summed over the processes."""
    web = "lighttpd"

    def __init__(self, tmp, holdfast_bin, deploy, nodes, workers=2, ctl_bin=None):
        super().__init__(tmp, holdfast_bin, deploy)
        self.nodes, self.workers = nodes, workers
        self.name = "holdfast-redis" if nodes == 1 else "holdfast-redis%d" % nodes
        self.ctl_bin = ctl_bin or os.path.join(os.path.dirname(holdfast_bin), "holdfastctl")
        self.redis = RedisServer(self.dir)
        self.procs = []

    def _start(self):
        self.redis.start()
        run_dir = os.path.join(self.dir, "run")
        for i in range(1, self.nodes + 1):
            d = os.path.join(run_dir, str(i))
            os.makedirs(d)
            self.procs.append(self.spawn_holdfast(d, ["--redis", self.redis.url]))
        socks = [os.path.join(run_dir, str(i), n) for i in range(1, self.nodes + 1)
                 for n in ("control.sock", "data.sock")]
        if not wait_until(lambda: all(os.path.exists(s) for s in socks), 10):
            raise RuntimeError("holdfast nodes did not start")
        if not wait_until(lambda: all(self.node_health(i) for i in range(1, self.nodes + 1)), 10):
            raise RuntimeError("holdfast nodes did not reach redis")
        docroot = os.path.join(self.dir, "docroot")
        os.makedirs(docroot, exist_ok=True)
        self.lt = self.start_web(run_dir, docroot)
        if not wait_until(lambda: self.ctl_ok(), 10):
            raise RuntimeError("lighttpd did not answer: %s" % self.tail("lighttpd.out"))
        return self

    def start_web(self, run_dir, docroot):
        ldir = os.path.join(self.deploy, "lighttpd")
        frag = os.path.join(self.dir, "holdfast.conf")
        render(os.path.join(ldir, "holdfast-multi.conf"), frag, {"RUN_DIR": run_dir})
        with open(frag) as f:
            text = multi_fragment(f.read(), self.nodes)
        with open(frag, "w") as f:
            f.write(text)
        return self.spawn_lighttpd(frag, docroot, self.workers)

    def ctl(self, node, *args):
        sock = os.path.join(self.dir, "run", str(node), "control.sock")
        try:
            r = subprocess.run([self.ctl_bin, "--control", "unix:" + sock, "--key", KEY] +
                               list(args), capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout if r.returncode == 0 else None

    def node_health(self, node):
        return self.ctl(node, "health") is not None

    def held(self):
        total = 0
        for i in range(1, self.nodes + 1):
            out = self.ctl(i, "stats")
            if out is None:
                return -1
            total += json.loads(out)["held"]["total"]
        return total

    def stop(self):
        stop_pid(self.lt)
        for p in self.procs:
            stop_pid(p)
        self.redis.stop()

    def backend_pids(self):
        return [p.pid for p in self.procs]

    def redis_pids(self):
        return self.redis.pids()


class HoldfastRedisNginxStack(OwnRedis, HoldfastNginxStack):
    """One holdfast with --redis behind nginx (the shipped deploy/nginx files): publishes reach
    holdfast over nginx's kept-alive control connections instead of a new FastCGI connection
    per request as behind lighttpd."""
    name = "holdfast-redis-nginx"

    def __init__(self, tmp, holdfast_bin, deploy):
        super().__init__(tmp, holdfast_bin, deploy)
        self.redis = RedisServer(self.dir)
        self.extra += ["--redis", self.redis.url]


class NchanRedisStack(OwnRedis, NchanStack):
    """Nchan with its Redis storage (nchan_redis_url, distributed mode: messages and fan-out
    through Redis) on its own redis-server, otherwise as NchanStack."""
    name = "nchan-redis"

    def __init__(self, tmp, workers=2):
        super().__init__(tmp, workers)
        self.redis = RedisServer(self.dir)
        self.name = "nchan-redis" if workers == 2 else "nchan-redis-w%d" % workers

    def http_directives(self):
        return 'nchan_redis_url "%s"; nchan_use_redis on;' % self.redis.url
