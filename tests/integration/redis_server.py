"""A real redis-server for the Redis engine tests: loopback only, a free port, its files in a
temporary directory, AOF on with appendfsync always (nothing acknowledged is lost on restart).
Started and stopped by PID; restartable on the same port and directory."""

import os
import socket
import subprocess

import harness


class RedisServer:
    def __init__(self, tmpdir, password=None):
        self.password = password
        self.socket_path = os.path.join(tmpdir, "redis.sock")
        self.dir = os.path.join(tmpdir, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.port = harness.free_port()
        self.proc = None
        self.log_path = os.path.join(self.dir, "redis.log")

    @property
    def url(self):
        return "redis://127.0.0.1:%d" % self.port

    def start(self, timeout=10.0):
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.dir, "--appendonly", "yes", "--appendfsync", "always",
                "--save", "", "--daemonize", "no", "--logfile", self.log_path,
                "--protected-mode", "yes", "--unixsocket", self.socket_path,
                "--unixsocketperm", "700"]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        harness.wait_until(lambda: self.ping() or self._exited(), timeout, what="redis PONG")
        assert self.proc.poll() is None, "redis-server exited: %s" % self.log()
        return self

    def _exited(self):
        return self.proc.poll() is not None

    def ping(self):
        return self.command("PING") in (b"+PONG", b"-NOAUTH Authentication required.")

    def command(self, *args):
        """One command over a fresh connection; the first reply line (or None)."""
        raw = self.raw(*args)
        return None if raw is None else raw.split(b"\r\n")[0]

    def raw(self, *args):
        """One command over a fresh connection; the reply bytes of one read (or None)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as s:
                if self.password:
                    s.sendall(b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n"
                              % (len(self.password), self.password.encode()))
                    s.recv(1024)
                out = b"*%d\r\n" % len(args)
                for a in args:
                    a = a.encode() if isinstance(a, str) else a
                    out += b"$%d\r\n%s\r\n" % (len(a), a)
                s.sendall(out)
                return s.recv(65536)
        except OSError:
            return None

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            harness.stop_process(self.proc, 10.0)
        self.proc = None

    def kill(self):
        """SIGKILL: a crash; only what AOF fsynced survives."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None
