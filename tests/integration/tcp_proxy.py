"""A TCP relay on loopback between holdfast and a real server, for failures no real server shows
on demand: freeze() stops relaying one connection in both directions while keeping its socket
open, as a connection whose packets a broken network drops (nothing is closed, nothing arrives).

Connections accepted after a freeze are relayed as usual. Every thread is a daemon and stop()
closes every socket the relay opened.
"""

import select
import socket
import threading


class Connection:
    def __init__(self, client, upstream):
        self.client = client
        self.upstream = upstream
        self.sent = b""  # what the client sent, the first 64 KiB (to tell connections apart)
        self.frozen = threading.Event()


class TcpProxy:
    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.1)  # the accept loop sees stop() within that
        self.port = self.listener.getsockname()[1]
        self.connections = []
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return "redis://127.0.0.1:%d" % self.port

    def _accept(self):
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:
                client.close()
                continue
            conn = Connection(client, upstream)
            with self.lock:
                self.connections.append(conn)
            threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    def _relay(self, conn):
        """Copies bytes both ways until either side closes, the relay stops or it is frozen."""
        peers = {conn.client: conn.upstream, conn.upstream: conn.client}
        try:
            while not self.stopped.is_set() and not conn.frozen.is_set():
                ready, _, _ = select.select(list(peers), [], [], 0.05)
                for s in ready:
                    if conn.frozen.is_set():
                        break
                    data = s.recv(65536)
                    if not data:
                        return
                    if s is conn.client and len(conn.sent) < 65536:
                        conn.sent += data
                    peers[s].sendall(data)
        except OSError:
            return

    def freeze(self, sent_marker):
        """Freezes the open connection whose client sent `sent_marker` (bytes); returns it."""
        with self.lock:
            matching = [c for c in self.connections if sent_marker in c.sent]
        assert matching, "no relayed connection sent %r" % sent_marker
        conn = matching[-1]
        conn.frozen.set()
        return conn

    def connections_sent(self, sent_marker):
        with self.lock:
            return sum(1 for c in self.connections if sent_marker in c.sent)

    def stop(self):
        self.stopped.set()
        self.listener.close()
        with self.lock:
            for c in self.connections:
                c.client.close()
                c.upstream.close()
