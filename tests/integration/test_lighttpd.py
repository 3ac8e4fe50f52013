"""deploy/lighttpd: the shipped config renders, passes `lighttpd -tt`, and streams through
(server.stream-response-body = 2 on the data mount, WEBSERVERS.md §6)."""

import os
import re
import subprocess
import tempfile
import time
import shutil

import harness


def test_deploy_config_checks():
    d = tempfile.mkdtemp(prefix="hf-lt-")
    try:
        lt = harness.Lighttpd(d, os.path.join(d, "control.sock"), os.path.join(d, "data.sock"))
        code, out = lt.check_config()
        assert code == 0, out
        # the production fragment alone, with its own capacity settings
        conf = os.path.join(d, "prod.conf")
        with open(conf, "w") as f:
            f.write('server.document-root = "%s"\nserver.port = %d\nserver.bind = "127.0.0.1"\n'
                    'include "%s"\n' % (d, harness.free_port(), lt.fragment))
        r = subprocess.run(["lighttpd", "-tt", "-f", conf], capture_output=True, text=True,
                           timeout=20)
        assert r.returncode == 0, r.stdout + r.stderr
        p = subprocess.run(["lighttpd", "-p", "-f", conf], capture_output=True, text=True,
                           timeout=20).stdout
        assert re.search(r'server\.stream-response-body\s*=\s*2', p), p
        assert re.search(r'"check-local"\s*=>\s*"disable"', p), p
        for key in ("server.max-fds", "server.max-connections", "server.listen-backlog"):
            assert key in p, key
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_static_docroot_served(env):
    r = env.http("GET", "/")
    assert r.status == 200 and b"holdfast" in r.body


def test_sse_streams_through_lighttpd(env):
    # heartbeat 1 s (conftest). With stream-response-body = 2 the preamble, heartbeats and a
    # published message arrive as they are written, not when the stream ends.
    reader = harness.StreamReader(env.port, "/push/sub/live?transport=sse", max_seconds=10)
    try:
        first = reader.wait_for(b"retry:", 2.0)
        assert first - reader.started_at < 0.5, "SSE preamble took %.3fs" % (
            first - reader.started_at)
        head = reader.data()
        assert b"text/event-stream" in head and b"no-store" in head, head[:500]
        env.wait_held(1, "sse")
        reader.wait_for(b"event: heartbeat", 3.0)
        r = env.publish("live", '{"streamed":1}')
        published_at = time.monotonic()
        assert r.status == 201
        arrived = reader.wait_for(b'"streamed":1', 2.0)
        assert arrived - published_at < 0.1, "message arrived %.3fs after the publish" % (
            arrived - published_at)
    finally:
        reader.stop()
