"""Apache and nginx in front of holdfast, from the shipped deploy/ configs (lighttpd lives in
harness.py). The configs are rendered only for ports and paths (@PORT@, @DOCROOT@, @TMPDIR@,
@CONF_DIR@, @CONTROL_SOCKET@, @DATA_SOCKET@), exactly as docs/deploy.md tells users to.

Both servers run their workers as an unprivileged user when started as root (Apache: `User
www-data` in deploy/apache/httpd.conf; nginx: its default `nobody`), so the per-test temp dir
and holdfast's sockets are opened up with open_permissions() before the server starts.

Every process is started in its own session and stopped by its PID (then its process group,
which holds only the server's own workers). Every wait is bounded.
"""

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time

import harness

APACHE_DIR = os.path.join(harness.REPO, "deploy", "apache")
NGINX_DIR = os.path.join(harness.REPO, "deploy", "nginx")
APACHE_BIN = os.environ.get("HOLDFAST_APACHE", "/usr/sbin/apache2")
NGINX_BIN = os.environ.get("HOLDFAST_NGINX", "/usr/sbin/nginx")
# nginx's standard parameter file. holdfast-server.conf includes "fastcgi_params", which
# nginx resolves next to the main config file, as in a packaged /etc/nginx.
NGINX_FASTCGI_PARAMS = "/etc/nginx/fastcgi_params"
SERVERS = ("lighttpd", "apache", "nginx")


def open_permissions(tmpdir, *sockets):
    """Lets the web server's unprivileged workers reach tmpdir and connect to the sockets
    (connecting to a unix socket needs write permission on it)."""
    os.chmod(tmpdir, 0o777)
    for path in sockets:
        os.chmod(path, 0o777)


def make_docroot(tmpdir):
    docroot = os.path.join(tmpdir, "docroot")
    os.makedirs(docroot, exist_ok=True)
    with open(os.path.join(docroot, "index.html"), "w") as f:
        f.write("<!doctype html><title>holdfast test</title>\n")
    os.chmod(docroot, 0o755)
    return docroot


def read_text(*paths):
    text = ""
    for path in paths:
        try:
            with open(path, "rb") as f:
                text += f.read().decode("utf-8", "replace")
        except OSError:
            pass
    return text


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def stop_server(proc, sig=signal.SIGTERM, timeout=5.0):
    """Stops a web server we started (its own session, so its process group id is its pid):
    sig to the pid, wait; then SIGKILL for whatever is left of that process group (worker
    children that outlived their parent). Returns the exit code."""
    if proc is None:
        return None
    code = proc.poll()
    if code is None:
        proc.send_signal(sig)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait(timeout=5)
    deadline = time.monotonic() + 3
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _group_alive(proc.pid):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return code


def wait_listening(proc, port, timeout, log):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("server exited with %d at start:\n%s" % (proc.returncode, log()))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise AssertionError("server did not listen on %d within %.0fs:\n%s" % (port, timeout, log()))


class _WebServer:
    """Starts `_run_args()` in the foreground with output to self.out_path and waits for
    self.port; subclasses set conf, port, out_path and provide log() and stop()."""

    def start(self, timeout=15.0):
        with open(self.out_path, "wb") as out:
            self.proc = subprocess.Popen(self._run_args(), stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_listening(self.proc, self.port, timeout, self.log)
        except BaseException:
            self.stop()
            raise
        return self


class Apache(_WebServer):
    """apache2 -DFOREGROUND with deploy/apache/httpd.conf + holdfast.conf rendered into
    tmpdir/apache."""

    name = "apache"

    def __init__(self, tmpdir, control_socket, data_socket, port=None, run_dir=None):
        """run_dir: render holdfast-multi.conf (several processes, RUN_DIR/N/*.sock) instead."""
        self.tmpdir = tmpdir
        self.port = port or harness.free_port()
        self.docroot = make_docroot(tmpdir)
        self.conf_dir = os.path.join(tmpdir, "apache")
        os.makedirs(self.conf_dir, exist_ok=True)
        values = {"PORT": self.port, "DOCROOT": self.docroot, "TMPDIR": self.conf_dir,
                  "CONF_DIR": self.conf_dir, "CONTROL_SOCKET": control_socket,
                  "DATA_SOCKET": data_socket, "RUN_DIR": run_dir}
        fragment = "holdfast-multi.conf" if run_dir else "holdfast.conf"
        self.fragment = harness.render(os.path.join(APACHE_DIR, fragment),
                                       os.path.join(self.conf_dir, "holdfast.conf"), values)
        self.conf = harness.render(os.path.join(APACHE_DIR, "httpd.conf"),
                                   os.path.join(self.conf_dir, "httpd.conf"), values)
        os.chmod(self.conf_dir, 0o777)
        self.out_path = os.path.join(self.conf_dir, "apache.out")
        self.proc = None

    def check_config(self):
        r = subprocess.run([APACHE_BIN, "-t", "-f", self.conf], capture_output=True, text=True,
                           timeout=20)
        return r.returncode, r.stdout + r.stderr

    def dump(self, what):
        """apache2 -t -D DUMP_<what> (e.g. MODULES, VHOSTS, RUN_CFG)."""
        r = subprocess.run([APACHE_BIN, "-t", "-D", "DUMP_" + what, "-f", self.conf],
                           capture_output=True, text=True, timeout=20)
        return r.stdout + r.stderr

    def _run_args(self):
        return [APACHE_BIN, "-f", self.conf, "-DFOREGROUND"]

    def log(self):
        return read_text(self.out_path, os.path.join(self.conf_dir, "apache-error.log"))

    def stop(self):
        # SIGTERM: Apache stops at once (SIGWINCH would wait for the held requests).
        return stop_server(self.proc)


class Nginx(_WebServer):
    """nginx (daemon off) with deploy/nginx/nginx.conf + holdfast-{http,server}.conf rendered
    into tmpdir/nginx."""

    name = "nginx"

    def __init__(self, tmpdir, control_socket, data_socket, port=None, run_dir=None):
        """run_dir: render holdfast-multi-http.conf (several processes) as holdfast-http.conf."""
        self.tmpdir = tmpdir
        self.port = port or harness.free_port()
        self.docroot = make_docroot(tmpdir)
        self.conf_dir = os.path.join(tmpdir, "nginx")
        os.makedirs(self.conf_dir, exist_ok=True)
        values = {"PORT": self.port, "DOCROOT": self.docroot, "TMPDIR": self.conf_dir,
                  "CONF_DIR": self.conf_dir, "CONTROL_SOCKET": control_socket,
                  "DATA_SOCKET": data_socket, "RUN_DIR": run_dir}
        for name in ("holdfast-http.conf", "holdfast-server.conf", "nginx.conf"):
            source = "holdfast-multi-http.conf" if run_dir and name == "holdfast-http.conf" \
                else name
            harness.render(os.path.join(NGINX_DIR, source), os.path.join(self.conf_dir, name),
                           values)
        self.conf = os.path.join(self.conf_dir, "nginx.conf")
        # A packaged nginx has fastcgi_params next to nginx.conf; so does this one.
        with open(NGINX_FASTCGI_PARAMS) as src, \
                open(os.path.join(self.conf_dir, "fastcgi_params"), "w") as dst:
            dst.write(src.read())
        os.chmod(self.conf_dir, 0o777)
        self.out_path = os.path.join(self.conf_dir, "nginx.out")
        self.proc = None

    def _args(self):
        return [NGINX_BIN, "-p", self.conf_dir + "/", "-c", self.conf,
                "-e", os.path.join(self.conf_dir, "nginx-error.log")]

    def check_config(self):
        r = subprocess.run(self._args() + ["-t"], capture_output=True, text=True, timeout=20)
        return r.returncode, r.stdout + r.stderr

    def dump(self):
        """nginx -T: the whole configuration as nginx read it."""
        r = subprocess.run(self._args() + ["-T"], capture_output=True, text=True, timeout=20)
        return r.stdout

    def _run_args(self):
        return self._args()

    def log(self):
        return read_text(self.out_path, os.path.join(self.conf_dir, "nginx-error.log"))

    def stop(self):
        # SIGTERM: fast shutdown (SIGQUIT would wait for held requests).
        return stop_server(self.proc)


class Lighttpd(harness.Lighttpd):
    name = "lighttpd"

    def __init__(self, tmpdir, control_socket, data_socket, port=None, run_dir=None):
        if run_dir:
            super().__init__(tmpdir, control_socket, data_socket, port,
                             fragment="holdfast-multi.conf", values={"RUN_DIR": run_dir})
        else:
            super().__init__(tmpdir, control_socket, data_socket, port)


def web_server(kind, tmpdir, control_socket, data_socket, run_dir=None):
    """An unstarted server of kind ("lighttpd", "apache", "nginx") in front of the sockets, or,
    with run_dir, of the processes whose sockets are RUN_DIR/N/{control,data}.sock (the shipped
    multi-process configs)."""
    cls = {"lighttpd": Lighttpd, "apache": Apache, "nginx": Nginx}[kind]
    return cls(tmpdir, control_socket, data_socket, run_dir=run_dir)


def socket_mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


# ---------------------------------------------------------------------------------------------
# Streaming responses read with harness.StreamReader (raw bytes: head, maybe chunked body)


def split_head(raw):
    """(status, {lower name: value}, raw body) once the head is complete, else None."""
    i = raw.find(b"\r\n\r\n")
    if i < 0:
        return None
    lines = raw[:i].decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, raw[i + 4:]


def dechunk(raw):
    """The decoded bytes of the complete chunks in raw (a chunked body read so far)."""
    out, j = b"", 0
    while True:
        k = raw.find(b"\r\n", j)
        if k < 0:
            return out
        size = int(raw[j:k].split(b";")[0], 16)
        if size == 0 or len(raw) < k + 2 + size:
            return out
        out += raw[k + 2:k + 2 + size]
        j = k + 2 + size + 2


def stream_body(reader):
    """(status, headers, decoded body so far) of a StreamReader's response; None before the
    head arrived."""
    head = split_head(reader.data())
    if head is None:
        return None
    status, headers, body = head
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = dechunk(body)
    return status, headers, body


def sse_frames(body):
    """[(fields, frame JSON or None)] of the complete SSE events in body."""
    events = []
    for block in body.decode("utf-8").split("\n\n")[:-1]:
        fields, data = {}, []
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data.append(value)
            elif name:
                fields[name] = value
        events.append((fields, json.loads("\n".join(data)) if data else None))
    return events


def iframe_frames(body, callback):
    """Frame JSON objects of the `<script>parent.CALLBACK(frame);</script>` calls in body."""
    pat = re.compile(rb"<script>parent\." + re.escape(callback.encode()) + rb"\((.*?)\);</script>",
                     re.S)
    return [json.loads(m.group(1).decode("utf-8")) for m in pat.finditer(body)]


def wait_frames(reader, parse, pred, timeout, what):
    """Waits until pred(frames) is truthy, frames = parse(decoded body); returns (value, time)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        closed = reader.closed.is_set()
        got = stream_body(reader)
        if got is not None:
            try:
                last = parse(got[2])
            except ValueError:
                last = None
            if last is not None:
                value = pred(last)
                if value:
                    return value, time.monotonic()
        if closed or time.monotonic() >= deadline:
            raise AssertionError("stream%s: no %s within %.1fs; got %r"
                                 % (" ended" if closed else "", what, timeout,
                                    reader.data()[-1500:]))
        time.sleep(0.01)


# ---------------------------------------------------------------------------------------------
# holdfast + one web server


def start_stack(kind, tmpdir, poll_timeout=2, heartbeat=1, extra_args=()):
    """Starts holdfast on unix sockets in tmpdir (opened up for the server's workers) and the
    web server `kind` in front of it. Returns (holdfast, server); the caller stops both."""
    hf = harness.Holdfast(tmpdir, extra_args, poll_timeout, heartbeat).start()
    try:
        open_permissions(tmpdir, hf.control_socket, hf.data_socket)
        srv = web_server(kind, tmpdir, hf.control_socket, hf.data_socket)
        code, out = srv.check_config()
        assert code == 0, "%s rejects the rendered deploy config:\n%s" % (kind, out)
        srv.start()
    except BaseException:
        hf.stop()
        raise
    return hf, srv


# ---------------------------------------------------------------------------------------------
# Service managers: systemd socket activation (LISTEN_FDS) and spawn-fcgi

# Runs in a fresh single-threaded python between fork and holdfast: puts the inherited
# listening sockets on fds 3, 4, ... (as systemd does), closes the originals, sets LISTEN_PID
# to its own pid (kept by exec) and execs holdfast.
_ACTIVATE = r"""
import fcntl, os, sys
fds = [int(x) for x in sys.argv[1].split(",")]
floor = max(fds + [64]) + 1                # above every fd that may be in the way
high = [fcntl.fcntl(fd, fcntl.F_DUPFD, floor) for fd in fds]
for fd in fds:
    os.close(fd)
for i, fd in enumerate(high):
    os.dup2(fd, 3 + i)                     # dup2'd fds are inheritable
    os.close(fd)
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[2], sys.argv[2:])
"""


def unix_listener(path, backlog=128):
    """A listening unix socket at path (as a systemd .socket unit would create it)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(backlog)
    return s


def spawn_activated(args, sockets, names, stderr_path, cwd, extra_env=None):
    """Starts `args` (holdfast and its flags) the way systemd starts a socket-activated
    service: `sockets` become fds 3.. with LISTEN_FDS, LISTEN_FDNAMES (names joined by ':')
    and LISTEN_PID = the service's pid. Returns the Popen (its pid is holdfast's pid)."""
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    env.update({"LISTEN_FDS": str(len(sockets)), "LISTEN_FDNAMES": ":".join(names)})
    env.pop("LISTEN_PID", None)
    env.update(extra_env or {})
    fds = [s.fileno() for s in sockets]
    with open(stderr_path, "ab") as err:
        return subprocess.Popen(
            [sys.executable, "-c", _ACTIVATE, ",".join(map(str, fds))] + list(args),
            pass_fds=fds, stdin=subprocess.DEVNULL, stdout=err, stderr=err, cwd=cwd, env=env,
            start_new_session=True)
