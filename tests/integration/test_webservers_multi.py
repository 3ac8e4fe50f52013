"""The shipped multi-process configs (deploy/*/holdfast-multi*.conf): three holdfast processes
on one real redis-server, their sockets in RUN_DIR/N/ as deploy/systemd/holdfast@.service lays
them out, behind one lighttpd, Apache or nginx. One scenario per server: a session's long-poll
loop through the balancer (each poll may land on any process), publishes through the control
mount, SSE on one process fed by a publish on another, and a session close. No stickiness.

Every process is started in its own session and stopped by PID; every wait is bounded."""

import json
import os
import shutil
import subprocess
import tempfile

import pytest

import harness
import webservers
from redis_server import RedisServer
from test_redis import Node, in_background

AUTH = {"Authorization": "Bearer " + harness.PUBLISH_KEY}


def _have(kind):
    binary = {"lighttpd": shutil.which("lighttpd"), "apache": webservers.APACHE_BIN,
              "nginx": webservers.NGINX_BIN}[kind]
    return binary and os.path.exists(binary)


@pytest.fixture(params=webservers.SERVERS)
def stack(request):
    kind = request.param
    if not _have(kind):
        pytest.skip("%s not installed" % kind)
    root = tempfile.mkdtemp(prefix="hf-wm-")
    run_dir = os.path.join(root, "run")
    redis = RedisServer(root).start()
    nodes, srv = [], None
    try:
        for i in ("1", "2", "3"):
            nodes.append(Node(run_dir, i, redis.url).start())
        for d in (root, run_dir) + tuple(n.hf.tmpdir for n in nodes):
            os.chmod(d, 0o777)
        for n in nodes:
            webservers.open_permissions(n.hf.tmpdir, n.hf.control_socket, n.hf.data_socket)
        web_dir = os.path.join(root, "web")
        os.makedirs(web_dir)
        srv = webservers.web_server(kind, web_dir, None, None, run_dir=run_dir)
        code, out = srv.check_config()
        assert code == 0, "%s rejects the rendered multi-process config:\n%s" % (kind, out)
        srv.start()
        yield srv, nodes
    finally:
        if srv is not None:
            srv.stop()
        problems = []
        for n in nodes:
            problems += n.hf.stop()
        redis.stop()
        shutil.rmtree(root, ignore_errors=True)
    assert not problems, problems


def held_total(nodes):
    return sum(n.stats()["held"]["total"] for n in nodes)


def held_each(nodes):
    return [n.stats()["held"]["total"] for n in nodes]


def test_session_longpoll_loop_and_close_through_the_balancer(stack):
    """Each round opens one more SSE stream (kept open) before the session's poll, so the
    balancer's least-busy choice moves the poll from process to process; the session, its
    cursor and every message follow it. Then a publish on one process reaches the streams on
    all, and a close lands on whichever process takes it."""
    srv, nodes = stack
    port = srv.port
    first = harness.http(port, "GET", "/push/sub/multi?transport=poll&session=new")
    assert first.status == 200, first
    sid, cursor = first.json()["session"], first.json()["cursor"]
    served, streams = set(), []
    try:
        for i in range(6):
            streams.append(harness.StreamReader(port, "/push/sub/busy?transport=sse"))
            harness.wait_until(lambda: held_total(nodes) == len(streams), 5, what="streams")
            before = held_each(nodes)
            held = in_background(lambda cur=cursor: harness.http(
                port, "GET", "/push/sub/multi?session=%s&cursor=%s&timeout=5" % (sid, cur)))
            harness.wait_until(lambda: held_total(nodes) == len(streams) + 1, 5, what="poll")
            served |= {k for k, (x, y) in enumerate(zip(before, held_each(nodes))) if y > x}
            pub = harness.http(port, "POST", "/push/ctl/pub/multi", json.dumps({"i": i}),
                               {"Content-Type": "application/json", **AUTH})
            assert pub.status == 201, pub
            r = held()
            assert r.status == 200, r
            body = r.json()
            assert [m["data"] for m in body["messages"]] == [{"i": i}]
            cursor = body["cursor"]
        assert len(served) >= 2, "every poll went to one process: %r" % served
        assert all(n > 0 for n in held_each(nodes)), "streams not spread: %r" % held_each(nodes)
        pub = harness.http(port, "POST", "/push/ctl/pub/busy", json.dumps("all"),
                           {"Content-Type": "application/json", **AUTH})
        assert pub.status == 201
        for s in streams:
            s.wait_for('"data":"all"', 5)
    finally:
        for s in streams:
            s.stop()
    harness.wait_until(lambda: held_total(nodes) == 0, 5, what="streams released")
    held = in_background(lambda: harness.http(
        port, "GET", "/push/sub/multi?session=%s&cursor=%s&timeout=5" % (sid, cursor)))
    harness.wait_until(lambda: held_total(nodes) == 1, 5, what="one held request")
    close = harness.http(port, "POST", "/push/ctl/session/%s/close" % sid, b"", AUTH)
    assert close.status == 200, close
    r = held(3.0)
    assert r.status == 200 and r.json().get("closed") == "session closed"
    again = harness.http(port, "GET", "/push/sub/multi?transport=poll&session=" + sid)
    assert again.status == 404


def test_systemd_template_unit_verifies(tmp_path):
    """deploy/systemd/holdfast@.service: per-instance sockets under /run/holdfast/N/, the
    addresses the multi-process snippets use, and a unit systemd accepts."""
    with open(os.path.join(harness.REPO, "deploy", "systemd", "holdfast@.service")) as f:
        unit = f.read()
    assert "Environment=HOLDFAST_CONTROL=unix:/run/holdfast/%i/control.sock" in unit
    assert "Environment=HOLDFAST_DATA=unix:/run/holdfast/%i/data.sock" in unit
    assert "RuntimeDirectory=holdfast/%i" in unit
    for snippet in ("lighttpd/holdfast-multi.conf", "nginx/holdfast-multi-http.conf",
                    "apache/holdfast-multi.conf"):
        with open(os.path.join(harness.REPO, "deploy", snippet)) as f:
            text = f.read()
        assert "@RUN_DIR@/1/data.sock" in text and "@RUN_DIR@/3/control.sock" in text, snippet
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze not installed")
    text = unit.replace("/usr/local/bin/holdfast", harness.holdfast_binary())
    path = tmp_path / "holdfast@1.service"
    path.write_text(text)
    (tmp_path / "holdfast@.service").write_text(text)
    r = subprocess.run([analyze, "verify", "--man=no", str(path)], capture_output=True,
                       text=True, timeout=60, cwd=str(tmp_path))
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), \
        r.stdout + r.stderr
