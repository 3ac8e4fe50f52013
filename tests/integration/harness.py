"""Integration-test harness: holdfast and lighttpd processes, HTTP and FastCGI clients.

Everything binds to loopback or to unix sockets in a per-test temporary directory. Every wait
is bounded in time; processes are stopped by the PID we started them with.
"""

import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import threading
import time
import http.client as httpclient
from collections import namedtuple

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LIGHTTPD_DIR = os.path.join(REPO, "deploy", "lighttpd")
PUBLISH_KEY = "testkey"
# holdfast's stderr must never contain these (ASan/LSan/UBSan builds).
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def holdfast_binary():
    """The binary under test: $HOLDFAST_BIN, else build/holdfast in the repository."""
    return os.environ.get("HOLDFAST_BIN") or os.path.join(REPO, "build", "holdfast")


def require_binary():
    """The binary under test, or a failure naming where it was looked for."""
    binary = holdfast_binary()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        raise AssertionError(
            "holdfast binary not found at %s: build it (scripts/build) or set HOLDFAST_BIN"
            % binary)
    return binary


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    """Polls predicate() until it returns a truthy value (returned) or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s (last: %r)"
                                 % (timeout, what, last))
        time.sleep(interval)


def stop_process(proc, timeout=5.0):
    """SIGTERM, wait up to timeout, then SIGKILL. Returns (exit code, killed)."""
    if proc.poll() is not None:
        return proc.returncode, False
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout), False
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=5), True


def sanitizer_report(text):
    """The first line of a sanitizer report in text, or None."""
    for marker in SANITIZER_MARKERS:
        i = text.find(marker)
        if i >= 0:
            return text[max(0, text.rfind("\n", 0, i) + 1):].splitlines()[0]
    return None


# ---------------------------------------------------------------------------------------------
# holdfast


class Holdfast:
    """One holdfast process on unix sockets in tmpdir. Start with start(), end with stop()."""

    def __init__(self, tmpdir, extra_args=(), poll_timeout=2, heartbeat=1):
        self.tmpdir = tmpdir
        self.control_socket = os.path.join(tmpdir, "control.sock")
        self.data_socket = os.path.join(tmpdir, "data.sock")
        self.stderr_path = os.path.join(tmpdir, "holdfast.stderr")
        self.stdout_path = os.path.join(tmpdir, "holdfast.stdout")
        self.args = [
            holdfast_binary(),
            "--control", "unix:" + self.control_socket,
            "--data", "unix:" + self.data_socket,
            "--publish-key", PUBLISH_KEY,
            "--poll-timeout", str(poll_timeout),
            "--heartbeat", str(heartbeat),
        ] + list(extra_args)
        self.proc = None
        self.exit_code = None

    def start(self, timeout=10.0):
        require_binary()
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, cwd=self.tmpdir, env=env,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("holdfast exited with %d at start: %s\nstderr:\n%s"
                                     % (self.proc.returncode, " ".join(self.args), self.stderr()))
            if all(_unix_connectable(p) for p in (self.control_socket, self.data_socket)):
                return self
            time.sleep(0.02)
        self.stop()
        raise AssertionError("holdfast did not create %s and %s within %.0fs\nstderr:\n%s"
                             % (self.control_socket, self.data_socket, timeout, self.stderr()))

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout):
        try:
            self.exit_code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.exit_code

    def stop(self):
        """Stops the process (SIGTERM, then SIGKILL after 5 s). Returns a list of problems."""
        if self.proc is None:
            return []
        code, killed = stop_process(self.proc, 5.0)
        self.exit_code = code
        problems = []
        if killed:
            problems.append("holdfast did not exit within 5 s of SIGTERM (killed)")
        elif code != 0:
            problems.append("holdfast exited with code %r" % code)
        report = sanitizer_report(self.stderr())
        if report:
            problems.append("sanitizer report in holdfast's stderr: " + report)
        if problems:
            tail = self.stderr()[-4000:]
            problems.append("stderr tail:\n" + tail)
        return problems


def _unix_connectable(path):
    if not os.path.exists(path):
        return False
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


# ---------------------------------------------------------------------------------------------
# lighttpd


def fd_hard_limit():
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return 1 << 20 if hard == resource.RLIM_INFINITY else hard


def render(template_path, out_path, values):
    with open(template_path) as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace("@%s@" % key, str(value))
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    left = re.findall(r"@[A-Z_]+@", code)
    if left:
        raise AssertionError("unrendered placeholders in %s: %s" % (template_path, left))
    with open(out_path, "w") as f:
        f.write(text)
    return out_path


class Lighttpd:
    """lighttpd in the foreground (-D) with deploy/lighttpd's config rendered into tmpdir."""

    def __init__(self, tmpdir, control_socket, data_socket, port=None, fragment="holdfast.conf",
                 values=None):
        """`fragment`: the deploy/lighttpd file to include (holdfast-multi.conf: several
        processes, rendered with values={"RUN_DIR": ...})."""
        self.tmpdir = tmpdir
        self.port = port or free_port()
        self.docroot = os.path.join(tmpdir, "docroot")
        os.makedirs(self.docroot, exist_ok=True)
        with open(os.path.join(self.docroot, "index.html"), "w") as f:
            f.write("<!doctype html><title>holdfast test</title>\n")
        # Tests hold a few thousand requests: stay well under the hard fd limit (lighttpd fails
        # to start when server.max-fds exceeds it) and use a single process.
        max_fds = min(16384, fd_hard_limit() - 64)
        self.fragment = render(os.path.join(LIGHTTPD_DIR, fragment),
                               os.path.join(tmpdir, "holdfast.conf"),
                               dict({"CONTROL_SOCKET": control_socket,
                                     "DATA_SOCKET": data_socket}, **(values or {})))
        self.conf = render(os.path.join(LIGHTTPD_DIR, "lighttpd.conf"),
                           os.path.join(tmpdir, "lighttpd.conf"),
                           {"PORT": self.port, "DOCROOT": self.docroot, "TMPDIR": tmpdir,
                            "HOLDFAST_CONF": self.fragment, "MAX_FDS": max_fds,
                            "MAX_CONNECTIONS": max_fds // 2, "MAX_WORKER": 0})
        self.log_path = os.path.join(tmpdir, "lighttpd.out")
        self.proc = None

    def check_config(self):
        r = subprocess.run(["lighttpd", "-tt", "-f", self.conf], capture_output=True, text=True,
                           timeout=20)
        return r.returncode, r.stdout + r.stderr

    def start(self, timeout=10.0):
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(["lighttpd", "-D", "-f", self.conf],
                                         stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("lighttpd exited with %d at start:\n%s"
                                     % (self.proc.returncode, self.log()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise AssertionError("lighttpd did not listen on %d within %.0fs:\n%s"
                             % (self.port, timeout, self.log()))

    def log(self):
        text = ""
        for path in (self.log_path, os.path.join(self.tmpdir, "lighttpd-error.log")):
            try:
                with open(path, "rb") as f:
                    text += f.read().decode("utf-8", "replace")
            except OSError:
                pass
        return text

    def stop(self):
        if self.proc is None:
            return None
        code, _ = stop_process(self.proc, 5.0)
        return code


# ---------------------------------------------------------------------------------------------
# HTTP through lighttpd

Response = namedtuple("Response", "status headers body")


def _json_of(resp):
    return json.loads(resp.body.decode("utf-8"))


Response.json = _json_of
Response.header = lambda self, name: self.headers.get(name.lower())


def http(port, method, path, body=None, headers=None, timeout=10.0):
    """One request on a fresh connection. Returns Response(status, headers, body); header names
    are lower-cased (a repeated header keeps its last value)."""
    conn = httpclient.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        if isinstance(body, str):
            body = body.encode("utf-8")
        conn.request(method, path, body=body, headers=dict(headers or {}))
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        conn.close()


class HttpResult:
    """Completion of a request run in a thread: response (or exception) and when it arrived."""

    def __init__(self):
        self.response = None
        self.error = None
        self.done_at = None
        self.done = threading.Event()


def http_async(port, method, path, body=None, headers=None, timeout=15.0):
    """Runs http() in a daemon thread; returns an HttpResult to wait on."""
    result = HttpResult()

    def run():
        try:
            result.response = http(port, method, path, body, headers, timeout)
        except Exception as e:  # reported by the waiting test
            result.error = e
        result.done_at = time.monotonic()
        result.done.set()

    threading.Thread(target=run, daemon=True).start()
    return result


def wait_result(result, timeout):
    if not result.done.wait(timeout):
        raise AssertionError("request did not complete within %.1fs" % timeout)
    if result.error:
        raise result.error
    return result.response


class StreamReader:
    """Reads a streaming response on a raw socket in a thread, recording (monotonic time,
    bytes) for every chunk received until EOF, stop() or max_seconds. Subclasses may override
    _received(now, data) to process chunks as they arrive (it runs under self._lock)."""

    def __init__(self, port, path, headers=None, max_seconds=30.0):
        self.chunks = []
        self.closed = threading.Event()
        self.eof_at = None  # monotonic time the server closed the stream
        self.error = None   # a socket or processing error seen by the reader thread
        self.started_at = time.monotonic()
        self._stop = threading.Event()
        self._max = max_seconds
        lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port, "Connection: close"]
        lines += ["%s: %s" % kv for kv in (headers or {}).items()]
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self._sock.settimeout(0.05)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        deadline = self.started_at + self._max
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                try:
                    data = self._sock.recv(262144)
                except socket.timeout:
                    continue
                except OSError as e:
                    self.error = e
                    break
                now = time.monotonic()
                if not data:
                    self.eof_at = now
                    break
                with self._lock:
                    self._received(now, data)
        except Exception as e:  # a processing error in _received: reported by the test
            self.error = e
        finally:
            self.closed.set()

    def _received(self, now, data):
        self.chunks.append((now, data))

    def data(self):
        with self._lock:
            return b"".join(c for _, c in self.chunks)

    def wait_for(self, needle, timeout):
        """Waits until the received bytes contain needle; returns the arrival time of the
        chunk that completed it."""
        if isinstance(needle, str):
            needle = needle.encode()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                buf = b""
                for t, c in self.chunks:
                    buf += c
                    if needle in buf:
                        return t
            if self.closed.is_set():
                break
            time.sleep(0.01)
        raise AssertionError("stream did not contain %r within %.1fs; got %r"
                             % (needle, timeout, self.data()[-2000:]))

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


# ---------------------------------------------------------------------------------------------
# Raw FastCGI client (FastCGI 1.0 spec), used to talk to holdfast's sockets directly.

FCGI_VERSION_1 = 1
FCGI_BEGIN_REQUEST = 1
FCGI_ABORT_REQUEST = 2
FCGI_END_REQUEST = 3
FCGI_PARAMS = 4
FCGI_STDIN = 5
FCGI_STDOUT = 6
FCGI_STDERR = 7
FCGI_DATA = 8
FCGI_GET_VALUES = 9
FCGI_GET_VALUES_RESULT = 10
FCGI_UNKNOWN_TYPE = 11
FCGI_RESPONDER = 1
FCGI_AUTHORIZER = 2
FCGI_FILTER = 3
FCGI_KEEP_CONN = 1
FCGI_REQUEST_COMPLETE = 0
FCGI_CANT_MPX_CONN = 1
FCGI_OVERLOADED = 2
FCGI_UNKNOWN_ROLE = 3
FCGI_MAX_CONTENT = 65535


def fcgi_record(rtype, request_id, content=b"", padding=None):
    """One record; padding defaults to aligning the record to 8 bytes."""
    if padding is None:
        padding = (8 - len(content) % 8) % 8
    return (struct.pack("!BBHHBx", FCGI_VERSION_1, rtype, request_id, len(content), padding)
            + content + b"\0" * padding)


def fcgi_stream(rtype, request_id, data, chunk=FCGI_MAX_CONTENT):
    """data split into records of at most chunk bytes, then the empty record ending the stream."""
    out = b""
    for i in range(0, len(data), chunk):
        out += fcgi_record(rtype, request_id, data[i:i + chunk])
    return out + fcgi_record(rtype, request_id, b"")


def fcgi_nv(name, value):
    def length(n):
        return struct.pack("!B", n) if n < 128 else struct.pack("!I", n | 0x80000000)
    if isinstance(name, str):
        name = name.encode()
    if isinstance(value, str):
        value = value.encode()
    return length(len(name)) + length(len(value)) + name + value


def fcgi_parse_nv(data):
    out, i = {}, 0
    while i < len(data):
        lens = []
        for _ in range(2):
            if data[i] & 0x80:
                lens.append(struct.unpack("!I", data[i:i + 4])[0] & 0x7FFFFFFF)
                i += 4
            else:
                lens.append(data[i])
                i += 1
        name = data[i:i + lens[0]].decode()
        i += lens[0]
        out[name] = data[i:i + lens[1]].decode()
        i += lens[1]
    return out


def cgi_params(method, uri, body=b"", headers=None, script_name=None, content_type=None):
    """The params lighttpd sends for a request to a mount (see WEBSERVERS.md §7)."""
    path, _, query = uri.partition("?")
    if script_name is None:
        script_name = "/push/ctl" if path.startswith("/push/ctl") else "/push/sub"
    params = {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "holdfast-tests",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_ADDR": "127.0.0.1",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "REQUEST_METHOD": method,
        "REQUEST_URI": uri,
        "QUERY_STRING": query,
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path[len(script_name):] if path.startswith(script_name) else "",
        "DOCUMENT_ROOT": "/nonexistent",
        "HTTP_HOST": "127.0.0.1",
    }
    if body or method in ("POST", "PUT"):
        params["CONTENT_LENGTH"] = str(len(body))
    if content_type:
        params["CONTENT_TYPE"] = content_type
    for k, v in (headers or {}).items():
        params["HTTP_" + k.upper().replace("-", "_")] = v
    return params


FcgiResponse = namedtuple(
    "FcgiResponse", "status headers body stderr app_status protocol_status records")
FcgiResponse.json = lambda self: json.loads(self.body.decode("utf-8"))
FcgiResponse.header = lambda self, name: self.headers.get(name.lower())


def parse_cgi_output(raw):
    """Splits a CGI response ("Status: 200 OK\\r\\nHeader: v\\r\\n\\r\\nbody") into
    (status, {lower-case name: value}, body)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = raw.find(sep)
        if i >= 0:
            head, body = raw[:i], raw[i + len(sep):]
            break
    else:
        raise AssertionError("CGI response without a header terminator: %r" % raw[:500])
    headers = {}
    for line in head.decode("latin-1").splitlines():
        if not line.strip():
            continue
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    status = int(headers.get("status", "200").split()[0])
    return status, headers, body


class FcgiConnection:
    """A FastCGI connection to a unix socket. Records are written as given; read_record()
    returns (type, request id, content) or None at EOF."""

    def __init__(self, path, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self._buf = b""
        self.eof = False

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def begin(self, request_id=1, role=FCGI_RESPONDER, keep_conn=False):
        flags = FCGI_KEEP_CONN if keep_conn else 0
        self.send(fcgi_record(FCGI_BEGIN_REQUEST, request_id, struct.pack("!HB5x", role, flags)))

    def request(self, method, uri, body=b"", headers=None, request_id=1, keep_conn=False,
                content_type=None, params=None):
        """Sends a whole request (BEGIN_REQUEST, PARAMS, STDIN) in one write."""
        if isinstance(body, str):
            body = body.encode()
        p = params if params is not None else cgi_params(method, uri, body, headers,
                                                          content_type=content_type)
        flags = FCGI_KEEP_CONN if keep_conn else 0
        data = fcgi_record(FCGI_BEGIN_REQUEST, request_id, struct.pack("!HB5x", FCGI_RESPONDER,
                                                                        flags))
        data += fcgi_stream(FCGI_PARAMS, request_id, b"".join(fcgi_nv(k, v) for k, v in p.items()))
        data += fcgi_stream(FCGI_STDIN, request_id, body)
        self.send(data)

    def abort(self, request_id=1):
        self.send(fcgi_record(FCGI_ABORT_REQUEST, request_id))

    def _fill(self, n, deadline):
        while len(self._buf) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("no FastCGI record within the deadline")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                self.eof = True
                return False
            self._buf += data
        return True

    def read_record(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        if not self._fill(8, deadline):
            if self._buf:
                raise AssertionError("EOF inside a record header: %r" % self._buf)
            return None
        version, rtype, rid, clen, plen = struct.unpack("!BBHHBx", self._buf[:8])
        assert version == FCGI_VERSION_1, "server sent record version %d" % version
        if not self._fill(8 + clen + plen, deadline):
            raise AssertionError("EOF inside a record body")
        content = self._buf[8:8 + clen]
        self._buf = self._buf[8 + clen + plen:]
        return rtype, rid, content

    def read_response(self, request_id=1, timeout=10.0):
        """Reads records until END_REQUEST for request_id. Records of other requests are kept
        in self.other. Raises on EOF before END_REQUEST."""
        deadline = time.monotonic() + timeout
        stdout, stderr, records = b"", b"", []
        self.other = getattr(self, "other", [])
        while True:
            rec = self.read_record(max(0.0, deadline - time.monotonic()))
            if rec is None:
                raise AssertionError("connection closed before END_REQUEST; stdout so far: %r"
                                     % stdout[:1000])
            rtype, rid, content = rec
            if rid != request_id:
                self.other.append(rec)
                continue
            records.append((rtype, len(content)))
            if rtype == FCGI_STDOUT:
                stdout += content
            elif rtype == FCGI_STDERR:
                stderr += content
            elif rtype == FCGI_END_REQUEST:
                app_status, proto = struct.unpack("!IB3x", content)
                if stdout:
                    status, headers, body = parse_cgi_output(stdout)
                else:
                    status, headers, body = None, {}, b""
                return FcgiResponse(status, headers, body, stderr, app_status, proto, records)
            else:
                raise AssertionError("unexpected record type %d for request %d" % (rtype, rid))

    def wait_closed(self, timeout):
        """True if the server closes the connection within timeout (data read is discarded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not data:
                return True
        return False


def fcgi_call(socket_path, method, uri, body=b"", headers=None, content_type=None,
              timeout=10.0):
    """One request on a fresh FastCGI connection; returns FcgiResponse."""
    conn = FcgiConnection(socket_path, timeout)
    try:
        conn.request(method, uri, body, headers, content_type=content_type)
        return conn.read_response(1, timeout)
    finally:
        conn.close()


def cgi_fcgi(socket_path, method, uri, body=b"", content_type=None, authorization=None,
             timeout=10.0):
    """Runs libfcgi's cgi-fcgi as an independent FastCGI client. Returns (status, headers,
    body, raw stdout)."""
    path, _, query = uri.partition("?")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GATEWAY_INTERFACE": "CGI/1.1",
           "SERVER_PROTOCOL": "HTTP/1.1", "REQUEST_METHOD": method, "REQUEST_URI": uri,
           "QUERY_STRING": query, "SCRIPT_NAME": "/push/ctl", "SERVER_NAME": "127.0.0.1",
           "REMOTE_ADDR": "127.0.0.1", "CONTENT_LENGTH": str(len(body))}
    if content_type:
        env["CONTENT_TYPE"] = content_type
    if authorization:
        env["HTTP_AUTHORIZATION"] = authorization
    if isinstance(body, str):
        body = body.encode()
    r = subprocess.run(["cgi-fcgi", "-bind", "-connect", socket_path], input=body, env=env,
                       capture_output=True, timeout=timeout)
    assert r.returncode == 0, "cgi-fcgi exited %d: %r" % (r.returncode, r.stderr)
    status, headers, resp_body = parse_cgi_output(r.stdout)
    return status, headers, resp_body, r.stdout


# ---------------------------------------------------------------------------------------------
# Many held requests without a thread each


class ManyRequests:
    """Sends the same kind of request on n sockets and collects the complete responses with
    select(). kind "http" goes through lighttpd, "fcgi" straight to a unix socket."""

    def __init__(self, kind, target, payloads):
        self.kind = kind
        self.socks = []
        self.bufs = {}
        self.done = {}
        for payload in payloads:
            if kind == "http":
                s = socket.create_connection(("127.0.0.1", target), timeout=10)
            else:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(10)
                s.connect(target)
            s.sendall(payload)
            s.setblocking(False)
            self.socks.append(s)
            self.bufs[s] = b""

    def collect(self, timeout):
        """Reads until every socket reaches EOF or timeout passes; returns the raw bytes per
        socket (in send order)."""
        deadline = time.monotonic() + timeout
        poller = select.poll()
        by_fd = {}
        for s in self.socks:
            if s not in self.done:
                poller.register(s.fileno(), select.POLLIN)
                by_fd[s.fileno()] = s
        while by_fd and time.monotonic() < deadline:
            for fd, _ in poller.poll(50):
                s = by_fd[fd]
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data:
                    self.bufs[s] += data
                else:
                    self.done[s] = True
                    poller.unregister(fd)
                    del by_fd[fd]
        return [self.bufs[s] for s in self.socks]

    def close(self):
        for s in self.socks:
            s.close()


def http_request_bytes(method, path, port, headers=None, body=b""):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1:%d" % port,
             "Connection: close"]
    lines += ["%s: %s" % kv for kv in (headers or {}).items()]
    if body:
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def fcgi_request_bytes(method, uri, body=b"", headers=None, request_id=1):
    p = cgi_params(method, uri, body, headers)
    data = fcgi_record(FCGI_BEGIN_REQUEST, request_id, struct.pack("!HB5x", FCGI_RESPONDER, 0))
    data += fcgi_stream(FCGI_PARAMS, request_id, b"".join(fcgi_nv(k, v) for k, v in p.items()))
    return data + fcgi_stream(FCGI_STDIN, request_id, body)


def parse_http_response(raw):
    """(status, headers, body) of a raw HTTP/1.1 response read to EOF (chunked decoded)."""
    i = raw.find(b"\r\n\r\n")
    if i < 0:
        raise AssertionError("incomplete HTTP response: %r" % raw[:300])
    head, body = raw[:i].decode("latin-1"), raw[i + 4:]
    lines = head.split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        out, j = b"", 0
        while True:
            k = body.find(b"\r\n", j)
            if k < 0:
                break
            size = int(body[j:k].split(b";")[0], 16)
            if size == 0:
                break
            out += body[k + 2:k + 2 + size]
            j = k + 2 + size + 2
        body = out
    return status, headers, body


def parse_fcgi_stream_response(raw):
    """(status, headers, body, end_request seen) of raw bytes of one FastCGI request."""
    stdout, ended, i = b"", False, 0
    while i + 8 <= len(raw):
        _, rtype, _, clen, plen = struct.unpack("!BBHHBx", raw[i:i + 8])
        content = raw[i + 8:i + 8 + clen]
        i += 8 + clen + plen
        if rtype == FCGI_STDOUT:
            stdout += content
        elif rtype == FCGI_END_REQUEST:
            ended = True
    if not stdout:
        return None, {}, b"", ended
    status, headers, body = parse_cgi_output(stdout)
    return status, headers, body, ended
