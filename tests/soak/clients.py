"""The soak's clients, all through lighttpd on 127.0.0.1: a publisher per channel, long-poll
loops and SSE readers that resume by cursor / Last-Event-ID after any disconnect (like a
browser), and connection churn. Every loop ends at its deadline or when `stop` is set."""

import http.client
import json
import socket
import struct
import threading
import time
import urllib.parse
from collections import Counter

import harness

AUTH = {"Authorization": "Bearer " + harness.PUBLISH_KEY}
QUOTE_SAFE = ":,"


def _sleep(stop, seconds):
    stop.wait(seconds)


class Publisher(threading.Thread):
    """Publishes {"n","a"} on one channel at `rate` per second. 201/202 is acknowledged; a 503
    or a refused connection (nothing was sent) is retried with the same N, backing off up to 1 s
    for at most `retry_for` seconds; any other failure after the request was sent leaves N
    uncertain (it may or may not have been published) and the next message takes N+1."""

    def __init__(self, port, channel, published, rate, stop, deadline, retry_for=30.0):
        super().__init__(daemon=True, name="pub-" + channel)
        self.port, self.channel, self.published = port, channel, published
        self.interval, self.stop, self.deadline = 1.0 / rate, stop, deadline
        self.retry_for = retry_for
        self.errors = []

    def run(self):
        n = 0
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            n += 1
            self.publish(n)
            _sleep(self.stop, self.interval)

    def publish(self, n):
        give_up_at = time.monotonic() + self.retry_for
        backoff, attempt = 0.05, 0
        while time.monotonic() < give_up_at and not self.stop.is_set():
            outcome = self.attempt(n, attempt)
            if outcome in ("acked", "uncertain", "error"):
                return
            with self.published.lock:
                if outcome == "503":
                    self.published.retries_503 += 1
                else:
                    self.published.retries_refused += 1
            attempt += 1 if outcome == "503" else 0
            _sleep(self.stop, backoff)
            backoff = min(1.0, backoff * 2)
        with self.published.lock:
            self.published.given_up[self.channel].add(n)

    def attempt(self, n, attempt):
        body = json.dumps({"n": n, "a": attempt})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            try:
                conn.connect()
            except OSError:
                return "refused"
            try:
                conn.request("POST", "/push/ctl/pub/" + self.channel, body=body,
                             headers=dict(AUTH, **{"Content-Type": "application/json"}))
                r = conn.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException):
                return self.uncertain(n, "connection")
            return self.answered(n, r.status, data)
        finally:
            conn.close()

    def answered(self, n, status, data):
        with self.published.lock:
            self.published.statuses[status] += 1
        if status in (201, 202):
            self.published.ack(self.channel, n, json.loads(data)["id"])
            return "acked"
        if status == 503:
            return "503"
        if 400 <= status < 500:
            self.errors.append("publish %s n=%d: %d %r" % (self.channel, n, status, data[:200]))
            return "error"
        return self.uncertain(n, status)

    def uncertain(self, n, why):
        with self.published.lock:
            self.published.uncertain[self.channel].add(n)
            self.published.statuses["uncertain:%s" % why] += 1
        return "uncertain"


class Subscriber(threading.Thread):
    """Common state of a sequence-checking subscriber on `channels` starting at `cursor`."""

    kind = "?"

    def __init__(self, name, port, channels, cursor, received, stop, deadline, rng,
                 abort_rate):
        super().__init__(daemon=True, name=name)
        self.port, self.channels, self.cursor = port, channels, cursor
        self.received, self.stop, self.deadline = received, stop, deadline
        self.rng, self.abort_rate = rng, abort_rate
        self.statuses = Counter()
        self.requests = self.aborts = self.errors = self.reconnects = 0
        self.unexpected = []

    def path(self, query):
        return "/push/sub/%s?%s" % (",".join(self.channels), query)

    def backoff(self, failures):
        _sleep(self.stop, min(2.0, 0.1 * (2 ** min(failures, 5))))

    def run(self):
        failures = 0
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            self.requests += 1
            try:
                ok = self.once()
            except socket.timeout:
                ok = False
                self.errors += 1
            except (OSError, http.client.HTTPException, ValueError):
                ok = False
                self.errors += 1
            failures = 0 if ok else failures + 1
            if not ok:
                self.backoff(failures)

    def take_message(self, m):
        self.received.message(m.get("channel"), m.get("data"), m.get("id"))

    def take_gap(self, g):
        self.received.gap(g.get("channel"), g.get("reason"))


class LongPoller(Subscriber):
    """Long-poll loop (transport=longpoll, cursor in the query). With probability abort_rate a
    request is abandoned 0-300 ms after it was sent, whether or not its answer had arrived
    (unread, half of the time with a reset): the client then resumes from the cursor it had."""

    kind = "longpoll"

    def once(self):
        query = "transport=longpoll&timeout=5&cursor=" + urllib.parse.quote(self.cursor,
                                                                             QUOTE_SAFE)
        if self.rng.random() < self.abort_rate:
            return self.abandon(self.path(query))
        r = harness.http(self.port, "GET", self.path(query), timeout=15.0)
        self.statuses[r.status] += 1
        if r.status != 200:
            return False
        body = json.loads(r.body)
        for g in body.get("gap") or []:
            self.take_gap(g)
        for m in body.get("messages", []):
            self.take_message(m)
        self.cursor = body["cursor"]
        if body.get("reconnect"):
            self.reconnects += 1
            _sleep(self.stop, 0.2)
        return True

    def abandon(self, path):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        try:
            s.sendall(harness.http_request_bytes("GET", path, self.port))
            _sleep(self.stop, self.rng.uniform(0, 0.3))
            if self.rng.random() < 0.5:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            s.close()
        self.aborts += 1
        return True


class SseReader(Subscriber):
    """EventSource-like reader: resumes with Last-Event-ID (the id of the last dispatched event)
    after every end of stream; with probability 5 x abort_rate (at most 1) a stream is closed
    by the client at a random moment within its first few seconds."""

    kind = "sse"

    def once(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        abort_at = None
        if self.rng.random() < min(1.0, 5 * self.abort_rate):
            abort_at = time.monotonic() + self.rng.uniform(0.05, 4.0)
        try:
            conn.request("GET", self.path("transport=sse"),
                         headers={"Accept": "text/event-stream", "Last-Event-ID": self.cursor})
            r = conn.getresponse()
            self.statuses[r.status] += 1
            if r.status != 200:
                return False
            return self.read_events(r, abort_at)
        finally:
            conn.close()

    def read_events(self, r, abort_at):
        pending_id, data = None, None
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            if abort_at is not None and time.monotonic() >= abort_at:
                self.aborts += 1
                return True
            line = r.readline()
            if not line:
                return True  # end of stream: reconnect with Last-Event-ID
            line = line.decode("utf-8").rstrip("\r\n")
            if line.startswith("id:"):
                pending_id = line[3:].strip()
            elif line.startswith("data:"):
                data = json.loads(line[5:])
            elif line == "":
                if pending_id is not None:
                    self.cursor = pending_id  # the browser updates it when the event dispatches
                if data is not None:
                    self.frame(data)
                pending_id, data = None, None
        return True

    def frame(self, f):
        kind = f.get("type")
        if kind == "message":
            self.take_message(f)
        elif kind == "gap":
            self.take_gap(f)
        elif kind == "reconnect":
            self.reconnects += 1
        elif kind not in ("hello", "heartbeat"):
            self.unexpected.append(kind)


class Churn(threading.Thread):
    """Connections that go away: through lighttpd (SSE / long-poll / ndjson requests closed
    after 0-500 ms, half of them with a reset, some before the request was complete) and on the
    data socket (FastCGI requests cut off or ended with FCGI_ABORT_REQUEST). At most `rate`
    a second, until the deadline."""

    def __init__(self, port, data_socket, channels, stop, deadline, rng, rate=5.0):
        super().__init__(daemon=True, name="churn")
        self.port, self.data_socket, self.channels = port, data_socket, channels
        self.stop, self.deadline, self.rng, self.interval = stop, deadline, rng, 1.0 / rate
        self.counts = Counter()

    def run(self):
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            kind = self.rng.choice(["http", "http", "http-partial", "fcgi-cut", "fcgi-abort"])
            try:
                getattr(self, kind.replace("-", "_"))()
                self.counts[kind] += 1
            except OSError:
                self.counts[kind + " (connect failed)"] += 1
            _sleep(self.stop, self.interval)

    def request_path(self):
        ch = self.rng.choice(self.channels)
        transport = self.rng.choice(["sse", "longpoll", "ndjson"])
        return "/push/sub/%s?transport=%s" % (ch, transport)

    def close(self, s):
        if self.rng.random() < 0.5:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()

    def http(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        try:
            s.sendall(harness.http_request_bytes("GET", self.request_path(), self.port))
            self.linger(s)
        finally:
            self.close(s)

    def http_partial(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        try:
            raw = harness.http_request_bytes("GET", self.request_path(), self.port)
            s.sendall(raw[:self.rng.randrange(1, len(raw) - 1)])
            self.linger(s)
        finally:
            self.close(s)

    def fcgi_cut(self):
        raw = harness.fcgi_request_bytes("GET", self.request_path())
        s = self.fcgi_socket()
        try:
            s.sendall(raw[:self.rng.randrange(1, len(raw) + 1)])
            self.linger(s)
        finally:
            self.close(s)

    def fcgi_abort(self):
        s = self.fcgi_socket()
        try:
            s.sendall(harness.fcgi_request_bytes("GET", self.request_path()))
            self.linger(s)
            s.sendall(harness.fcgi_record(harness.FCGI_ABORT_REQUEST, 1))
            self.linger(s)
        finally:
            self.close(s)

    def fcgi_socket(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(self.data_socket)
        except OSError:
            s.close()
            raise
        return s

    def linger(self, s):
        """Reads (and drops) whatever arrives for 0-500 ms."""
        end = time.monotonic() + self.rng.uniform(0, 0.5)
        while time.monotonic() < end:
            s.settimeout(max(0.01, end - time.monotonic()))
            try:
                if not s.recv(65536):
                    return
            except socket.timeout:
                return
