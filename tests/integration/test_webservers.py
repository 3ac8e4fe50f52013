"""The same end-to-end scenario behind each of lighttpd, Apache and nginx, run from the shipped
deploy/ configs (rendered only for ports and paths): long-poll answered by a publish through the
server's control mount (Authorization passes through), SSE and iframe streams (headers within
1 s thanks to the hello preamble, messages as they are published), session close through the
control mount, cursor resume, and long-polls that end in a heartbeat, not a 504
(WEBSERVERS.md, DESIGN.md §1, §3, §4)."""

import os
import signal
import re
import socket
import time

import pytest

import harness
import webservers
from conftest import Env

# A held request and its answer must cross the web server within this (seconds).
PROMPT = 1.0
# A published message must reach a stream within this: buffering settings that are wrong
# (Apache without flushpackets, nginx with fastcgi_buffering, lighttpd's default
# stream-response-body) hold it back far longer, or until the stream ends.
STREAM_LATENCY = 0.5


@pytest.fixture(params=webservers.SERVERS)
def web(request, hf_tmpdir):
    """holdfast and one web server (lighttpd, apache, nginx) in front of it; the test's
    `holdfast` marker may set poll_timeout (default 10), heartbeat (default 1) and args."""
    m = request.node.get_closest_marker("holdfast")
    opts = dict(m.kwargs) if m else {}
    hf, srv = webservers.start_stack(request.param, hf_tmpdir, opts.get("poll_timeout", 10),
                                     opts.get("heartbeat", 1), opts.get("args", ()))
    e = Env(hf, srv)
    e.kind = request.param
    e.srv = srv
    yield e
    srv.stop()
    already_exited = not hf.alive()
    problems = hf.stop()
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        print("---- holdfast stderr (tail) ----\n" + hf.stderr()[-4000:])
        print("---- %s log (tail) ----\n%s" % (request.param, srv.log()[-4000:]))
    if problems:
        pytest.fail("holdfast teardown%s: %s" % (" (had already exited)" if already_exited
                                                  else "", "\n".join(problems)),
                    pytrace=False)


def seq_of(message_id):
    return int(message_id.rpartition("-")[2])


def open_stream(env, path, headers=None):
    """A streaming GET through the web server; checks that the head arrives within PROMPT
    (the hello preamble is written with the headers) and returns (reader, status, headers)."""
    reader = harness.StreamReader(env.port, path, headers, max_seconds=20)
    try:
        got = harness.wait_until(lambda: webservers.stream_body(reader), PROMPT,
                                 interval=0.005, what="response head through %s" % env.kind)
    except AssertionError:
        reader.stop()
        raise
    status, head, _ = got
    return reader, status, head


# ---------------------------------------------------------------------------------------------
# long-poll + publish through the control mount


def test_longpoll_answered_by_publish_with_authorization(web):
    cursor = web.poll_cursor("lp")
    pending = web.sub_async("lp", transport="longpoll", cursor=cursor)
    web.wait_held(1, "longpoll")
    time.sleep(0.2)
    assert not pending.done.is_set(), "the long-poll was not held"

    # The Authorization header must reach holdfast: without it 401, wrong key 403.
    r = web.publish("lp", {"n": 0}, key=None)
    assert r.status == 401, "publish without a key through %s: %d %r" % (web.kind, r.status,
                                                                          r.body)
    r = web.publish("lp", {"n": 0}, key="wrong")
    assert r.status == 403, "publish with a wrong key through %s: %d %r" % (web.kind, r.status,
                                                                             r.body)
    assert not pending.done.is_set()

    t0 = time.monotonic()
    r = web.publish("lp", {"n": 1})
    assert r.status == 201, "publish through %s: %d %r" % (web.kind, r.status, r.body)
    assert r.json()["subscribers"] == 1
    got = harness.wait_result(pending, 5)
    assert pending.done_at - t0 < PROMPT, "long-poll answered %.3fs after the publish" % (
        pending.done_at - t0)
    assert got.status == 200, (got.status, got.body)
    assert got.header("content-type").startswith("application/json"), got.headers
    assert "no-store" in (got.header("cache-control") or ""), got.headers
    body = got.json()
    assert [m["data"] for m in body["messages"]] == [{"n": 1}], body
    assert body["messages"][0]["id"] == r.json()["id"]
    assert body["cursor"] == "lp:" + r.json()["id"], body
    web.wait_held(0, timeout=PROMPT)


# ---------------------------------------------------------------------------------------------
# streams


def test_sse_headers_prompt_and_messages_as_published(web):
    reader, status, head = open_stream(web, "/push/sub/sse1?transport=sse")
    try:
        assert status == 200, reader.data()[:500]
        assert head.get("content-type", "").startswith("text/event-stream"), head
        assert "no-store" in head.get("cache-control", ""), head
        # the hello frame came with the head
        (fields, hello), _ = webservers.wait_frames(
            reader, webservers.sse_frames,
            lambda fr: next(((f, o) for f, o in fr if o and o.get("type") == "hello"), None),
            PROMPT, "hello frame")
        assert fields.get("event") == "hello" and fields.get("id") == hello["cursor"], fields
        web.wait_held(1, "sse")

        ids = []
        for n in range(3):
            r = web.publish("sse1", '{"sse":%d}' % n)
            published = time.monotonic()
            assert r.status == 201, (r.status, r.body)
            ids.append(r.json()["id"])
            arrived = reader.wait_for(b'{"sse":%d}' % n, 3.0)
            assert arrived - published < STREAM_LATENCY, (
                "message %d reached the SSE client %.3fs after the publish through %s"
                % (n, arrived - published, web.kind))
        frames, _ = webservers.wait_frames(
            reader, webservers.sse_frames,
            lambda fr: fr if sum(1 for _, o in fr if o and o.get("type") == "message") == 3
            else None, 2.0, "three message frames")
        msgs = [(f, o) for f, o in frames if o and o.get("type") == "message"]
        assert [o["id"] for _, o in msgs] == ids
        assert [o["data"] for _, o in msgs] == [{"sse": n} for n in range(3)]
        for f, o in msgs:
            assert f.get("id") == o["cursor"] == "sse1:" + o["id"], (f, o)
        first_cursor = msgs[0][0]["id"]
    finally:
        reader.stop()
    web.wait_held(0, timeout=5)

    # Last-Event-ID passes through the server: a reconnect gets exactly the two later messages.
    reader, status, _ = open_stream(web, "/push/sub/sse1?transport=sse",
                                    {"Last-Event-ID": first_cursor})
    try:
        frames, _ = webservers.wait_frames(
            reader, webservers.sse_frames,
            lambda fr: fr if sum(1 for _, o in fr if o and o.get("type") == "message") >= 2
            else None, 3.0, "resumed messages")
        assert [o["id"] for _, o in frames if o and o.get("type") == "message"] == ids[1:]
    finally:
        reader.stop()


def test_iframe_stream_receives_a_message(web):
    reader, status, head = open_stream(web, "/push/sub/if1?transport=iframe&callback=cb")
    try:
        assert status == 200, reader.data()[:500]
        assert head.get("content-type", "").startswith("text/html"), head
        hello, _ = webservers.wait_frames(
            reader, lambda b: webservers.iframe_frames(b, "cb"),
            lambda fr: next((o for o in fr if o.get("type") == "hello"), None), PROMPT,
            "hello call")
        body = webservers.stream_body(reader)[2]
        assert body.index(b"<script>parent.cb(") >= 2048, "less than 2 KiB of padding"
        web.wait_held(1, "iframe")
        r = web.publish("if1", {"text": "</script><b>hi</b>"})
        published = time.monotonic()
        assert r.status == 201, (r.status, r.body)
        msg, arrived = webservers.wait_frames(
            reader, lambda b: webservers.iframe_frames(b, "cb"),
            lambda fr: next((o for o in fr if o.get("type") == "message"), None), 3.0,
            "message call")
        assert msg["data"] == {"text": "</script><b>hi</b>"} and msg["id"] == r.json()["id"]
        assert arrived - published < STREAM_LATENCY + 0.1, arrived - published
    finally:
        reader.stop()


# ---------------------------------------------------------------------------------------------
# session close through the control mount


def test_control_close_releases_held_request(web):
    # long-poll session
    r = web.sub("sc", transport="poll", session="new")
    assert r.status == 200, r
    session, cursor = r.json()["session"], r.json()["cursor"]
    pending = web.sub_async("sc", transport="longpoll", session=session, cursor=cursor)
    web.wait_held(1, "longpoll")
    t0 = time.monotonic()
    r = web.ctl("POST", "/session/%s/close" % session, key=None)
    assert r.status == 200 and r.json().get("closed") is True, (r.status, r.body)
    got = harness.wait_result(pending, 5)
    assert pending.done_at - t0 < PROMPT, pending.done_at - t0
    assert got.status == 200 and got.json().get("closed"), (got.status, got.body)
    web.wait_held(0, timeout=PROMPT)

    # stream session: a closed frame, and the response ends through the server
    reader, status, _ = open_stream(web, "/push/sub/sc?transport=sse&session=new")
    try:
        hello, _ = webservers.wait_frames(
            reader, webservers.sse_frames,
            lambda fr: next((o for _, o in fr if o and o.get("type") == "hello"), None),
            PROMPT, "hello frame")
        web.wait_held(1, "sse")
        t0 = time.monotonic()
        r = web.ctl("POST", "/session/%s/close" % hello["session"], key=None)
        assert r.status == 200, (r.status, r.body)
        webservers.wait_frames(
            reader, webservers.sse_frames,
            lambda fr: next((o for _, o in fr if o and o.get("type") == "closed"), None),
            PROMPT, "closed frame")
        web.wait_held(0, timeout=max(0.1, PROMPT - (time.monotonic() - t0)))
        assert reader.closed.wait(3.0), "%s kept the closed stream open" % web.kind
    finally:
        reader.stop()


# ---------------------------------------------------------------------------------------------
# cursor resume


def test_cursor_resume_after_ten_publishes(web):
    cursor = web.poll_cursor("res")
    ids = []
    for n in range(10):
        r = web.publish("res", {"i": n})
        assert r.status == 202, (r.status, r.body)
        ids.append(r.json()["id"])
    t0 = time.monotonic()
    r = web.sub("res", transport="longpoll", cursor=cursor)
    assert time.monotonic() - t0 < PROMPT, "a backlog must be answered at once"
    assert r.status == 200, (r.status, r.body)
    body = r.json()
    assert [m["id"] for m in body["messages"]] == ids
    assert [m["data"] for m in body["messages"]] == [{"i": n} for n in range(10)]
    assert [seq_of(i) for i in ids] == list(range(seq_of(ids[0]), seq_of(ids[0]) + 10))
    assert not body.get("gap") and body["cursor"] == "res:" + ids[-1], body
    r = web.sub("res", transport="poll", cursor=body["cursor"])
    assert r.json()["messages"] == [], r.body


# ---------------------------------------------------------------------------------------------
# timeouts


@pytest.mark.holdfast(poll_timeout=3)
def test_longpoll_timeout_is_a_heartbeat_not_504(web):
    cursor = web.poll_cursor("hb")
    t0 = time.monotonic()
    r = web.sub("hb", transport="longpoll", cursor=cursor, http_timeout=10)
    elapsed = time.monotonic() - t0
    assert r.status == 200, "%s answered %d after %.1fs: %r" % (web.kind, r.status, elapsed,
                                                                 r.body[:300])
    assert r.json().get("heartbeat") is True and r.json()["messages"] == [], r.body
    assert 2.5 < elapsed < 5, elapsed


def _block(text, start_pattern):
    """The {...} block that follows the first match of start_pattern in text."""
    m = re.search(start_pattern, text)
    assert m, "no %r in:\n%s" % (start_pattern, text)
    depth, i = 0, text.index("{", m.end() - 1)
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i:j + 1]
    raise AssertionError("unbalanced block after %r" % start_pattern)


def _seconds(value):
    m = re.fullmatch(r"(\d+)(s|m|h)?", value)
    assert m, value
    return int(m.group(1)) * {"s": 1, None: 1, "m": 60, "h": 3600}[m.group(2)]


# A held request is silent for up to poll_timeout (25 s) and a stream for up to heartbeat
# (25 s); the proxies' read timeouts must stay far above both (WEBSERVERS.md §5).
MIN_HOLD_TIMEOUT = 600


def test_nginx_config_timeouts_and_buffering(hf_tmpdir):
    ngx = webservers.Nginx(hf_tmpdir, os.path.join(hf_tmpdir, "c.sock"),
                           os.path.join(hf_tmpdir, "d.sock"))
    code, out = ngx.check_config()
    assert code == 0, out
    conf = ngx.dump()
    sub = _block(conf, r"location\s+/push/sub/\s*\{")
    ctl = _block(conf, r"location\s+/push/ctl/\s*\{")
    read = re.search(r"fastcgi_read_timeout\s+(\S+);", sub)
    assert read and _seconds(read.group(1)) >= MIN_HOLD_TIMEOUT, sub
    send = re.search(r"fastcgi_send_timeout\s+(\S+);", sub)
    assert send and _seconds(send.group(1)) >= MIN_HOLD_TIMEOUT, sub
    assert re.search(r"fastcgi_buffering\s+off;", sub), sub
    assert re.search(r"postpone_output\s+0;", sub), sub
    assert not re.search(r"fastcgi_ignore_client_abort\s+on;", sub), sub
    assert re.search(r"include\s+fastcgi_params;", sub) and re.search(
        r"include\s+fastcgi_params;", ctl)
    # the params holdfast routes on come from fastcgi_params
    for param in ("REQUEST_METHOD", "REQUEST_URI", "QUERY_STRING", "CONTENT_TYPE",
                  "CONTENT_LENGTH", "REMOTE_ADDR"):
        assert re.search(r"fastcgi_param\s+%s\s" % param, conf), param
    assert re.search(r"fastcgi_keep_conn\s+on;", ctl), ctl
    ups = _block(conf, r"upstream\s+holdfast_control\s*\{")
    assert re.search(r"keepalive\s+\d+;", ups), ups


def test_apache_config_timeouts_and_flushing(hf_tmpdir):
    data_sock = os.path.join(hf_tmpdir, "d.sock")
    ctl_sock = os.path.join(hf_tmpdir, "c.sock")
    ap = webservers.Apache(hf_tmpdir, ctl_sock, data_sock)
    code, out = ap.check_config()
    assert code == 0, out
    with open(ap.fragment) as f:
        text = "\n".join(l for l in f.read().splitlines() if not l.lstrip().startswith("#"))
    workers = {}
    for m in re.finditer(r'<Proxy\s+"([^"]+)">(.*?)</Proxy>', text, re.S):
        params = {}
        for ps in re.findall(r"ProxySet\s+(.*)", m.group(2)):
            params.update(kv.split("=", 1) for kv in ps.split())
        workers[m.group(1)] = params
    data_worker = "unix:%s|fcgi://holdfast-data/" % data_sock
    ctl_worker = "unix:%s|fcgi://holdfast-control/" % ctl_sock
    assert set(workers) == {data_worker, ctl_worker}, workers
    assert int(workers[data_worker].get("timeout", 0)) >= MIN_HOLD_TIMEOUT, workers
    assert workers[data_worker].get("flushpackets") == "on", workers
    assert workers[ctl_worker].get("enablereuse") == "on", workers
    # Every ProxyPass must resolve to one of these workers (their parameters apply only then),
    # and carry no parameters of its own (ignored with AH01146).
    passes = re.findall(r'^\s*ProxyPass\s+"([^"]+)"\s+"([^"]+)"(.*)$', text, re.M)
    assert {p for p, _, _ in passes} == {"/push/sub/", "/push/ctl/"}, passes
    for path, url, rest in passes:
        worker = data_worker if path == "/push/sub/" else ctl_worker
        assert url.startswith(worker), (path, url)
        assert not rest.strip(), "ProxyPass %s has parameters: %r" % (path, rest)
    assert re.search(r"CGIPassAuth\s+On", text), "Authorization would not reach holdfast"


def test_lighttpd_config_streams():
    # lighttpd has no backend read timeout unless one is set (WEBSERVERS.md §5).
    with open(os.path.join(harness.LIGHTTPD_DIR, "holdfast.conf")) as f:
        text = f.read()
    code = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
    assert "read-timeout" not in code, "a fastcgi read-timeout would end held requests"
    assert re.search(r"server\.stream-response-body\s*=\s*2", code)


# ---------------------------------------------------------------------------------------------
# nginx: a client that goes away frees its held request at once


def test_nginx_frees_held_longpoll_on_disconnect(hf_tmpdir):
    hf, srv = webservers.start_stack("nginx", hf_tmpdir, poll_timeout=20)
    env = Env(hf, srv)
    try:
        cursor = env.poll_cursor("gone")
        # The shipped config keeps data connections alive: the poll's connection may stay open,
        # idle in one nginx worker's cache. The held requests' connections must close; that one
        # may stay (it closes when a held request reuses it and its client leaves).
        time.sleep(0.2)
        idle = env.stats()["connections"]["data"]
        for how in ("fin", "rst"):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            s.sendall(harness.http_request_bytes(
                "GET", "/push/sub/gone?transport=longpoll&cursor=" + cursor, srv.port))
            env.wait_held(1, "longpoll")
            t0 = time.monotonic()
            if how == "rst":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            s.close()
            env.wait_held(0, timeout=PROMPT)
            assert time.monotonic() - t0 < PROMPT
        harness.wait_until(lambda: env.stats()["connections"]["data"] <= idle, PROMPT,
                           what="no data connection left but idle kept-alive ones")
    finally:
        srv.stop()
        problems = hf.stop()
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# restart behind the server with sockets kept open (systemd socket activation)


@pytest.mark.parametrize("kind", webservers.SERVERS)
def test_restart_with_activated_sockets_loses_no_request(kind, hf_tmpdir):
    """holdfast on sockets it inherits (LISTEN_FDS), with --state-dir, behind `kind`. SIGTERM
    answers a held long-poll with a reconnect through the server; a request made while no
    holdfast runs waits in the socket's backlog (the server's connect succeeds, so no 502/503
    and no backend marked down) and is answered by the next process, from the saved state."""
    ctl_path = os.path.join(hf_tmpdir, "control.sock")
    data_path = os.path.join(hf_tmpdir, "data.sock")
    listeners = [webservers.unix_listener(ctl_path), webservers.unix_listener(data_path)]
    webservers.open_permissions(hf_tmpdir, ctl_path, data_path)
    stderr_path = os.path.join(hf_tmpdir, "holdfast.stderr")
    args = [harness.require_binary(), "--publish-key", harness.PUBLISH_KEY, "--poll-timeout",
            "10", "--state-dir", os.path.join(hf_tmpdir, "state")]
    procs, srv = [], None

    def start_holdfast():
        p = webservers.spawn_activated(args, listeners, ["control", "data"], stderr_path,
                                       hf_tmpdir)
        procs.append(p)
        return p

    try:
        hf = start_holdfast()
        srv = webservers.web_server(kind, hf_tmpdir, ctl_path, data_path)
        code, out = srv.check_config()
        assert code == 0, out
        srv.start()
        fake = type("HF", (), {"control_socket": ctl_path, "data_socket": data_path})()
        env = Env(fake, srv)
        env.kind = kind
        harness.wait_until(lambda: "holdfast started" in webservers.read_text(stderr_path), 5,
                           what="holdfast started")

        cursor = env.poll_cursor("rs")
        first = env.publish("rs", {"n": 1})
        assert first.status == 202, (first.status, first.body)
        r = env.sub("rs", transport="poll", cursor=cursor)
        cursor = r.json()["cursor"]
        held = env.sub_async("rs", transport="longpoll", cursor=cursor)
        env.wait_held(1, "longpoll")

        hf.send_signal(signal.SIGTERM)
        got = harness.wait_result(held, 5)
        assert got.status == 200 and got.json().get("reconnect") is True, (got.status,
                                                                           got.body)
        assert got.json()["cursor"] == cursor
        assert hf.wait(timeout=5) == 0, webservers.read_text(stderr_path)[-3000:]

        # no holdfast now: the resumed long-poll waits in the data socket's backlog
        resumed = env.sub_async("rs", transport="longpoll", cursor=cursor, http_timeout=20)
        time.sleep(0.3)
        assert not resumed.done.is_set(), "answered without a backend: %r" % (
            resumed.response and (resumed.response.status, resumed.response.body))
        start_holdfast()
        r = env.publish("rs", {"n": 2}, timeout=15)
        assert r.status in (201, 202), (r.status, r.body)
        got = harness.wait_result(resumed, 15)
        assert got.status == 200, (got.status, got.body)
        body = got.json()
        assert [m["data"] for m in body["messages"]] == [{"n": 2}] and not body.get("gap"), body
        assert seq_of(body["messages"][0]["id"]) == 2
        assert body["messages"][0]["id"].rpartition("-")[0] == \
            first.json()["id"].rpartition("-")[0], "epoch changed across the restart"
    finally:
        if srv:
            srv.stop()
        for p in procs:
            harness.stop_process(p)
        for s in listeners:
            s.close()
    log = webservers.read_text(stderr_path)
    assert not harness.sanitizer_report(log), log[-3000:]
