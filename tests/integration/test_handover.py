"""Hand-over restarts (SIGUSR2, docs/operations.md): the listening sockets pass to a successor
process, so subscribers through lighttpd see no non-2xx answer and lose nothing, across a plain
restart and across a binary upgrade (the file replaced on disk first)."""
import http.client
import json
import os
import shutil
import signal
import threading
import time

import harness

CHANNEL = "handover"


class SseLoop(threading.Thread):
    """An EventSource-like reader: reconnects with Last-Event-ID after every end of stream."""

    def __init__(self, port, deadline):
        super().__init__(daemon=True)
        self.port, self.deadline = port, deadline
        self.ids, self.statuses, self.last_id = [], [], None
        self.stop = False

    def run(self):
        while not self.stop and time.monotonic() < self.deadline:
            headers = {"Accept": "text/event-stream"}
            if self.last_id:
                headers["Last-Event-ID"] = self.last_id
            try:
                self.read_once(headers)
            except (OSError, http.client.HTTPException):
                self.statuses.append("error")
                time.sleep(0.2)

    def read_once(self, headers):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/push/sub/%s?transport=sse" % CHANNEL, headers=headers)
            r = conn.getresponse()
            self.statuses.append(r.status)
            if r.status != 200:
                time.sleep(0.5)
                return
            data = None
            while not self.stop:
                line = r.readline()
                if not line:
                    return
                line = line.decode().rstrip("\r\n")
                if line.startswith("id:"):
                    self.last_id = line[3:].strip()
                elif line.startswith("data:"):
                    data = json.loads(line[5:])
                elif line == "" and data is not None:
                    if data.get("type") == "message":
                        self.ids.append(data["id"])
                    data = None
        finally:
            conn.close()


class LongPollLoop(threading.Thread):
    def __init__(self, port, deadline):
        super().__init__(daemon=True)
        self.port, self.deadline = port, deadline
        self.ids, self.statuses, self.cursor = [], [], None
        self.stop = False

    def run(self):
        while not self.stop and time.monotonic() < self.deadline:
            path = "/push/sub/%s?transport=longpoll&timeout=5" % CHANNEL
            if self.cursor:
                path += "&cursor=" + self.cursor
            try:
                r = harness.http(self.port, "GET", path, timeout=10)
            except OSError:
                self.statuses.append("error")
                time.sleep(0.2)
                continue
            self.statuses.append(r.status)
            if r.status != 200:
                time.sleep(0.5)
                continue
            body = json.loads(r.body)
            self.ids += [m["id"] for m in body["messages"]]
            self.cursor = body["cursor"]


def current_pid(control_socket):
    r = harness.fcgi_call(control_socket, "GET", "/push/ctl/health", timeout=3)
    assert r.status == 200, r.body
    return r.json()["pid"]


def wait_for_new_pid(control_socket, old, timeout=10):
    def changed():
        try:
            return current_pid(control_socket) != old
        except (OSError, AssertionError):
            return False
    harness.wait_until(changed, timeout, what="a successor serving the control socket")
    return current_pid(control_socket)


def publish_acked(env_sock, n, acked, refused):
    body = json.dumps({"n": n})
    for _ in range(50):  # bounded retries while a hand-over is under way
        r = harness.fcgi_call(env_sock, "POST", "/push/ctl/pub/" + CHANNEL, body,
                              {"Authorization": "Bearer " + harness.PUBLISH_KEY},
                              content_type="application/json")
        if r.status in (201, 202):
            acked.append(r.json()["id"])
            return
        assert r.status == 503, (r.status, r.body)
        refused.append(r.json()["error"])
        time.sleep(0.1)
    raise AssertionError("message %d was never accepted" % n)


def wait_gone(pid, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not os.path.exists("/proc/%d" % pid):
            return True
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


def test_handover_restart_and_upgrade_lose_nothing_and_answer_only_2xx(hf_tmpdir):
    binary = os.path.join(hf_tmpdir, "holdfast")
    shutil.copy2(harness.holdfast_binary(), binary)
    state = os.path.join(hf_tmpdir, "state")
    hf = harness.Holdfast(hf_tmpdir, ["--state-dir", state], poll_timeout=5, heartbeat=1)
    hf.args[0] = binary
    hf.start()
    lt = harness.Lighttpd(hf_tmpdir, hf.control_socket, hf.data_socket).start()
    deadline = time.monotonic() + 60
    sse, lp = SseLoop(lt.port, deadline), LongPollLoop(lt.port, deadline)
    successor = None
    try:
        sse.start()
        lp.start()
        harness.wait_until(lambda: len(sse.statuses) >= 1 and len(lp.statuses) >= 1, 10,
                           what="both subscribers connected")
        acked, refused = [], []
        first = hf.proc.pid
        for n in range(60):
            if n == 20:
                os.kill(first, signal.SIGUSR2)
            if n == 25:
                successor = wait_for_new_pid(hf.control_socket, first)
            if n == 40:
                # a binary upgrade: a new file at the same path, then the hand-over
                shutil.copy2(harness.holdfast_binary(), binary + ".new")
                os.rename(binary + ".new", binary)
                os.kill(successor, signal.SIGUSR2)
            if n == 45:
                successor = wait_for_new_pid(hf.control_socket, successor)
            publish_acked(hf.control_socket, n, acked, refused)
            time.sleep(0.05)
        assert os.readlink("/proc/%d/exe" % successor) == binary, "the upgrade did not run"
        harness.wait_until(lambda: set(acked) <= set(sse.ids) and set(acked) <= set(lp.ids),
                           20, what="every acknowledged message at both subscribers")
        for name, loop in (("sse", sse), ("longpoll", lp)):
            assert [s for s in loop.statuses if s != 200] == [], (name, loop.statuses)
            assert loop.ids == acked, (name, "got %d, want %d" % (len(loop.ids), len(acked)))
        assert set(refused) <= {"restarting", "shutting_down"}, refused
        assert hf.proc.wait(10) == 0, "the first process did not exit 0 after the hand-over"
    finally:
        sse.stop = lp.stop = True
        lt.stop()
        if successor:
            os.kill(successor, signal.SIGTERM)
            assert wait_gone(successor), "the successor did not stop on SIGTERM"
        problems = hf.stop()
        text = hf.stderr()
        assert harness.sanitizer_report(text) is None, text[-3000:]
        assert not [p for p in problems if "sanitizer" in p], problems
