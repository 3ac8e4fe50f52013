"""Helpers for test_transports.py: a streaming HTTP reader that de-chunks as it reads and keeps
the arrival time of every body byte, per-transport frame parsers, shared holdfast + lighttpd
processes per configuration, and subscribe tokens.

Everything is on loopback or unix sockets; every loop and wait is bounded in time.
"""

import base64
import hashlib
import hmac
import json
import re
import shutil
import socket
import tempfile
import threading
import time
from collections import namedtuple

import harness

# ---------------------------------------------------------------------------------------------
# Incremental HTTP/1.1 response decoder


class HttpStreamDecoder:
    """Fed raw response bytes; parses the head and de-chunks the body incrementally."""

    def __init__(self):
        self._buf = b""
        self.status = None
        self.headers = None  # lower-case names
        self.body = bytearray()
        self.chunked = None
        self.finished = False  # the last chunk (size 0) was seen
        self._state = "size"
        self._remaining = 0

    def feed(self, data):
        self._buf += data
        if self.headers is None:
            i = self._buf.find(b"\r\n\r\n")
            if i < 0:
                return
            head = self._buf[:i].decode("latin-1").split("\r\n")
            self._buf = self._buf[i + 4:]
            self.status = int(head[0].split()[1])
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            self.headers = headers
            self.chunked = headers.get("transfer-encoding", "").lower() == "chunked"
        if not self.chunked:
            self.body += self._buf
            self._buf = b""
            return
        for _ in range(1 << 20):  # bounded: each pass consumes input or returns
            if self._state == "size":
                k = self._buf.find(b"\r\n")
                if k < 0:
                    return
                size = int(self._buf[:k].split(b";")[0].strip() or b"0", 16)
                self._buf = self._buf[k + 2:]
                if size == 0:
                    self.finished = True
                    self._state = "done"
                    return
                self._remaining = size
                self._state = "data"
            elif self._state == "data":
                if not self._buf:
                    return
                take = min(self._remaining, len(self._buf))
                self.body += self._buf[:take]
                self._buf = self._buf[take:]
                self._remaining -= take
                if self._remaining == 0:
                    self._state = "crlf"
            elif self._state == "crlf":
                if len(self._buf) < 2:
                    return
                self._buf = self._buf[2:]
                self._state = "size"
            else:
                return


# ---------------------------------------------------------------------------------------------
# Frames of the streaming transports

# end: offset in the body just after the frame; obj: the frame JSON; meta: SSE fields or part
# headers (dict), or None.
Frame = namedtuple("Frame", "end obj meta")


def parse_sse(body):
    """(retry value or None, [Frame]) of complete SSE events. meta = {"id","event","retry"}."""
    text = body.decode("utf-8")
    frames, pos, retry_first = [], 0, None
    first = True
    for _ in range(1 << 20):
        j = text.find("\n\n", pos)
        if j < 0:
            break
        block = text[pos:j]
        end = len(text[:j + 2].encode("utf-8"))
        pos = j + 2
        fields, data_lines = {}, []
        for k, line in enumerate(block.split("\n")):
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if first and k == 0:
                retry_first = value if name == "retry" else None
            if name == "data":
                data_lines.append(value)
            else:
                fields[name] = value
        first = False
        obj = json.loads("\n".join(data_lines)) if data_lines else None
        frames.append(Frame(end, obj, fields))
    return retry_first, frames


def parse_ndjson(body):
    frames, pos = [], 0
    for _ in range(1 << 20):
        j = body.find(b"\n", pos)
        if j < 0:
            break
        line = body[pos:j]
        pos = j + 1
        frames.append(Frame(pos, json.loads(line.decode("utf-8")), None))
    return frames


def parse_iframe(body, callback):
    """Frames of `<script>parent.CB(json);</script>`; meta = {"start": offset of <script>}."""
    frames = []
    pat = re.compile(rb"<script>parent\." + re.escape(callback.encode()) +
                     rb"\((.*?)\);</script>", re.S)
    for m in pat.finditer(bytes(body)):
        frames.append(Frame(m.end(), json.loads(m.group(1).decode("utf-8")),
                            {"start": m.start()}))
    return frames


def parse_multipart(body, boundary):
    """Complete parts (a part is complete once the delimiter after it arrived).
    meta = {"headers": {lower name: value}}."""
    delim = b"--" + boundary.encode()
    body = bytes(body)
    positions = [m.start() for m in re.finditer(re.escape(delim), body)]
    frames = []
    for a, b in zip(positions, positions[1:]):
        seg = body[a + len(delim):b]
        assert seg.startswith(b"\r\n"), "part does not start with CRLF: %r" % seg[:100]
        assert seg.endswith(b"\r\n"), "part does not end with CRLF before the delimiter: %r" % (
            seg[-100:])
        seg = seg[2:-2]
        head, sep, content = seg.partition(b"\r\n\r\n")
        assert sep, "part without a header block: %r" % seg[:200]
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        frames.append(Frame(b, json.loads(content.decode("utf-8")), {"headers": headers}))
    return frames


# ---------------------------------------------------------------------------------------------
# A streaming response read in a thread


class Stream(harness.StreamReader):
    """GET path through lighttpd on a raw socket, read in a thread until EOF, close() or
    max_seconds (harness.StreamReader), decoding the HTTP response as it arrives and keeping,
    for every recv, (arrival time, decoded body length so far)."""

    def __init__(self, port, path, headers=None, max_seconds=20.0, kind=None, callback=None):
        self.path = path
        self.kind = kind
        self.callback = callback
        self.dec = HttpStreamDecoder()
        self.arrivals = []  # (monotonic time, body length after this recv)
        super().__init__(port, path, headers, max_seconds)

    def _received(self, now, data):
        self.dec.feed(data)
        self.arrivals.append((now, len(self.dec.body)))

    @property
    def eof(self):
        return self.closed

    # --- state ---------------------------------------------------------------------------
    def body(self):
        with self._lock:
            return bytes(self.dec.body)

    @property
    def status(self):
        return self.dec.status

    def header(self, name):
        return (self.dec.headers or {}).get(name.lower())

    def arrival(self, offset):
        """When the body byte at offset-1 (the end of a frame) arrived."""
        with self._lock:
            for t, n in self.arrivals:
                if n >= offset:
                    return t
        return None

    def wait_head(self, timeout=3.0):
        harness.wait_until(lambda: self.dec.headers is not None or self.eof.is_set(), timeout,
                           interval=0.01, what="response head of %s" % self.path)
        assert self.dec.headers is not None, "no response head for %s; error %r" % (
            self.path, self.error)
        return self.dec.status

    def frames(self):
        if self.dec.headers is None:
            return []
        body = self.body()
        if self.kind == "sse":
            return parse_sse(body)[1]
        if self.kind == "ndjson":
            return parse_ndjson(body)
        if self.kind == "iframe":
            return parse_iframe(body, self.callback or "holdfast")
        if self.kind == "multipart":
            ctype = self.header("content-type") or ""
            m = re.search(r"boundary=([^;\s]+)", ctype)
            assert m, "multipart response without a boundary: %r" % ctype
            return parse_multipart(body, m.group(1).strip('"'))
        raise AssertionError("unknown stream kind %r" % self.kind)

    def objs(self, type_=None):
        return [f.obj for f in self.frames() if type_ is None or f.obj.get("type") == type_]

    def wait_frame(self, pred, timeout, what="frame"):
        """Waits for the first frame with pred(obj) true; returns (Frame, arrival time)."""
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.005) + 2):
            for f in self.frames():
                if f.obj is not None and pred(f.obj):
                    return f, self.arrival(f.end)
            if self.eof.is_set() or time.monotonic() >= deadline:
                break
            time.sleep(0.005)
        for f in self.frames():  # one last look after EOF
            if f.obj is not None and pred(f.obj):
                return f, self.arrival(f.end)
        raise AssertionError("%s did not arrive within %.1fs on %s (eof=%s); frames: %r"
                             % (what, timeout, self.path, self.eof.is_set(),
                                [f.obj for f in self.frames()][-10:]))

    def wait_type(self, type_, timeout):
        return self.wait_frame(lambda o: o.get("type") == type_, timeout, what="a %r frame"
                               % type_)

    def wait_eof(self, timeout):
        if not self.eof.wait(timeout):
            raise AssertionError("stream %s did not end within %.1fs" % (self.path, timeout))
        return self.eof_at

    def close(self):
        try:
            self.stop()
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------
# Raw FastCGI connection with a small receive buffer


def small_rcvbuf_fcgi(path, rcvbuf=4096, timeout=5.0):
    """A harness.FcgiConnection whose socket had SO_RCVBUF set before connect()."""
    conn = harness.FcgiConnection.__new__(harness.FcgiConnection)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(path)
    conn.sock = s
    conn._buf = b""
    conn.eof = False
    return conn


# ---------------------------------------------------------------------------------------------
# Tokens


def b64url_nopad(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def make_token(key, channel, exp):
    sig = hmac.new(key.encode(), ("%s\n%d" % (channel, exp)).encode(), hashlib.sha256).digest()
    return "%d.%s" % (exp, b64url_nopad(sig))


# ---------------------------------------------------------------------------------------------
# One holdfast + lighttpd per configuration, shared by the tests of a module


class SharedServer:
    """Starts holdfast with args (plus lighttpd in front); stop() returns problems."""

    def __init__(self, args=(), poll_timeout=5, heartbeat=1):
        self.tmpdir = tempfile.mkdtemp(prefix="hf-tr-")
        self.hf = harness.Holdfast(self.tmpdir, list(args), poll_timeout, heartbeat)
        self.lt = None

    def start(self):
        self.hf.start()
        try:
            self.lt = harness.Lighttpd(self.tmpdir, self.hf.control_socket,
                                       self.hf.data_socket).start()
        except BaseException:
            self.hf.stop()
            raise
        return self

    def stop(self):
        if self.lt:
            self.lt.stop()
        problems = self.hf.stop()
        if problems and self.lt:
            problems.append("lighttpd log tail:\n" + self.lt.log()[-2000:])
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        return problems
