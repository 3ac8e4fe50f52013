"""The processes of a soak: holdfast (and its hand-over successors) and lighttpd in front of it,
and the faults done to them. Only processes started here are signalled, each by its PID: the
holdfast processes this module started (their Popen objects) and successors named by the
`pid` of /health after a hand-over that this module asked for."""

import os
import signal
import time

import harness


def health_pid(control_socket, timeout=3.0):
    """The pid serving the control socket (from /health), or None when none answers 200."""
    try:
        r = harness.fcgi_call(control_socket, "GET", "/push/ctl/health", timeout=timeout)
    except (OSError, AssertionError):
        return None
    if r.status != 200:
        return None
    return r.json().get("pid")


def gone(pid):
    """True when pid no longer runs (no such process, or a zombie)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[-1].split()[0] in ("Z", "X")
    except OSError:
        return True


def wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.02)
    return gone(pid)


class Processes:
    """holdfast with --state-dir in tmpdir and lighttpd (deploy/lighttpd) in front of it.

    `serving` is the pid believed to serve; every start, restart and hand-over updates it, so a
    holdfast that dies on its own is noticed by check() (a crash)."""

    def __init__(self, tmpdir, holdfast_args, log):
        self.tmpdir, self.args, self.log = tmpdir, holdfast_args, log
        self.generation = 0
        self.started = []      # harness.Holdfast objects (our children)
        self.successors = []   # pids of hand-over successors (not our children)
        self.serving = None
        self.problems = []
        self.lighttpd = None

    # holdfast --------------------------------------------------------------------------------
    def start_holdfast(self):
        self.generation += 1
        hf = harness.Holdfast(self.tmpdir, self.args, poll_timeout=5, heartbeat=1)
        hf.stderr_path = os.path.join(self.tmpdir, "holdfast.%d.stderr" % self.generation)
        hf.stdout_path = os.path.join(self.tmpdir, "holdfast.%d.stdout" % self.generation)
        hf.start(timeout=30)
        self.started.append(hf)
        self.serving = hf.proc.pid
        self.control_socket, self.data_socket = hf.control_socket, hf.data_socket
        return hf

    def own(self, pid):
        for hf in self.started:
            if hf.proc.pid == pid:
                return hf
        return None

    def check(self):
        """Notes a holdfast that stopped serving without being told to, and restarts it."""
        if self.serving is None or not gone(self.serving):
            return False
        hf = self.own(self.serving)
        code = hf.proc.poll() if hf else "unknown (a hand-over successor)"
        self.problems.append("holdfast pid %d exited on its own (exit %s)" % (self.serving, code))
        self.log("CRASH: holdfast pid %d exited on its own (exit %s)" % (self.serving, code))
        self.start_holdfast()
        return True

    def stop_signal(self, sig, restart=True):
        """SIGTERM or SIGKILL to the serving holdfast, wait for it to go, start a new one."""
        pid = self.serving
        os.kill(pid, sig)
        if not wait_gone(pid, 15):
            self.problems.append("holdfast pid %d still ran 15 s after %s" % (pid, sig.name))
            os.kill(pid, signal.SIGKILL)
            wait_gone(pid, 5)
        self.reap(pid, 0 if sig == signal.SIGTERM else -signal.SIGKILL, sig.name)
        self.serving = None
        if restart:
            self.start_holdfast()

    def power_loss(self, state_dir):
        """SIGKILL, then the journal removed (what a machine crash can leave under
        journal_sync=off: nothing written back since the snapshot), then a new holdfast."""
        self.stop_signal(signal.SIGKILL, restart=False)
        try:
            os.unlink(os.path.join(state_dir, "holdfast.journal"))
        except FileNotFoundError:
            pass
        self.start_holdfast()

    def reap(self, pid, expected, why):
        hf = self.own(pid)
        if hf is None:
            return
        code = hf.proc.wait(timeout=5)
        if code not in (expected if isinstance(expected, tuple) else (expected,)):
            self.problems.append("holdfast pid %d exited %r after %s (expected %r)"
                                 % (pid, code, why, expected))

    def handover(self):
        """SIGUSR2: wait for a successor to serve (its pid from /health) and the old one to go."""
        old = self.serving
        os.kill(old, signal.SIGUSR2)
        deadline = time.monotonic() + 20
        new = None
        while time.monotonic() < deadline:
            new = health_pid(self.control_socket)
            if new and new != old:
                break
            if gone(old):
                break
            time.sleep(0.05)
        if new and new != old:
            self.successors.append(new)
            self.serving = new
        if not wait_gone(old, 15):
            self.problems.append("holdfast pid %d still ran 15 s after SIGUSR2" % old)
        self.reap(old, 0, "SIGUSR2")
        if self.serving == old:
            self.problems.append("no successor served after SIGUSR2 to pid %d" % old)
            self.serving = None
            self.start_holdfast()

    def handover_killed(self, delay, after_spawn):
        """SIGUSR2, then SIGKILL to the old process: `delay` seconds later, or (after_spawn) as
        soon as its log says the successor was started (before or while the successor loads
        the state and reports that it serves). A successor that came up must serve; when none
        does within 5 s (the kill came before it was started) a new holdfast is started."""
        old = self.serving
        log_path = self.started[-1].stderr_path  # successors write to their first's stderr
        spawned = self.count_in_log(log_path, "hand-over: successor started")
        os.kill(old, signal.SIGUSR2)
        if after_spawn:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and \
                    self.count_in_log(log_path, "hand-over: successor started") == spawned:
                time.sleep(0.001)
        else:
            time.sleep(delay)
        os.kill(old, signal.SIGKILL)
        wait_gone(old, 5)
        self.reap(old, (-signal.SIGKILL, 0), "SIGKILL during a hand-over")
        self.serving = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            new = health_pid(self.control_socket)
            if new and new != old:
                self.successors.append(new)
                self.serving = new
                return
            time.sleep(0.05)
        self.log("  no successor serves after the SIGKILL: starting holdfast")
        self.start_holdfast()

    @staticmethod
    def count_in_log(path, text):
        try:
            with open(path, "rb") as f:
                return f.read().count(text.encode())
        except OSError:
            return 0

    # lighttpd --------------------------------------------------------------------------------
    def start_lighttpd(self, port=None):
        self.lighttpd = harness.Lighttpd(self.tmpdir, self.control_socket, self.data_socket,
                                         port=port).start(timeout=20)
        return self.lighttpd

    def restart_lighttpd(self):
        self.lighttpd.stop()
        deadline = time.monotonic() + 10
        while True:
            try:
                self.lighttpd.start(timeout=10)
                return
            except AssertionError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.2)

    def stats(self):
        try:
            r = harness.fcgi_call(self.control_socket, "GET", "/push/ctl/stats",
                                  headers={"Authorization": "Bearer " + harness.PUBLISH_KEY},
                                  timeout=3)
        except (OSError, AssertionError):
            return None
        return r.json() if r.status == 200 else None

    def open_fds(self):
        try:
            return len(os.listdir("/proc/%d/fd" % self.serving))
        except (OSError, TypeError):
            return None

    def wait_released(self, timeout):
        """After the clients stopped: waits until the serving holdfast holds no request and
        has no data connection (a dead long-poll behind lighttpd ends at the poll timeout).
        Returns the last /stats seen (None if it never answered)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.stats() or last
            if last and last["held"]["total"] == 0 and last["connections"]["data"] == 0:
                return last
            time.sleep(0.2)
        self.problems.append("%s s after the clients stopped holdfast still held %s request(s) "
                             "on %s data connection(s)"
                             % (timeout, last and last["held"]["total"],
                                last and last["connections"]["data"]))
        return last

    # the end -------------------------------------------------------------------------------
    def wait_serving(self, timeout):
        """Waits until the serving holdfast answers /health on its socket and through lighttpd
        (which answers 503 for a moment after a backend came back)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if health_pid(self.control_socket) == self.serving and self.lighttpd_healthy():
                return True
            time.sleep(0.05)
        return False

    def lighttpd_healthy(self):
        try:
            r = harness.http(self.lighttpd.port, "GET", "/push/ctl/health", timeout=3)
        except OSError:
            return False
        return r.status == 200

    def shutdown(self):
        """Stops lighttpd and the serving holdfast (SIGTERM, exit 0 expected), then makes sure
        nothing started here still runs (SIGKILL by pid)."""
        if self.lighttpd:
            self.lighttpd.stop()
        if self.serving and not gone(self.serving):
            self.stop_signal(signal.SIGTERM, restart=False)
        for pid in self.successors:
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
                self.problems.append("successor pid %d still ran at the end (killed)" % pid)
        for hf in self.started:
            if hf.proc.poll() is None:
                hf.proc.kill()
                hf.proc.wait(timeout=5)
                self.problems.append("holdfast pid %d still ran at the end (killed)"
                                     % hf.proc.pid)

    def sanitizer_reports(self):
        out = []
        for g in range(1, self.generation + 1):
            path = os.path.join(self.tmpdir, "holdfast.%d.stderr" % g)
            try:
                with open(path, "rb") as f:
                    report = harness.sanitizer_report(f.read().decode("utf-8", "replace"))
            except OSError:
                continue
            if report:
                out.append("%s: %s" % (os.path.basename(path), report))
        return out
