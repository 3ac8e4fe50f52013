"""Every Comet transport, heartbeats, sessions and the control channel, through a real lighttpd
configured with deploy/lighttpd (docs/api.md; DESIGN.md §3, §4, §5).

holdfast + lighttpd are started once per configuration (module-scoped) and shared by the tests
that need that configuration; every test uses its own channel names and starts when nothing is
held any more, so tests stay independent.
"""

import json
import re
import time
import uuid

import pytest

import harness
from conftest import Env
import transport_helpers as th

TOKEN_KEY = "tokensecret"
ORIGIN = "http://example.test"
OTHER_ORIGIN = "http://other.test"
ID_RE = re.compile(r"^([A-Za-z0-9_-]{1,32})-(\d+)$")
DELIVERY_BUDGET = 0.15  # seconds between a publish returning and its frame reaching the client

CONFIGS = {
    # transports, heartbeats (1 s), resume, sessions, auth, CORS, private channels, deletes
    "main": dict(args=["--allowed-origins", ORIGIN, "--client-publish", "room.*",
                       "--token-key", TOKEN_KEY], poll_timeout=5, heartbeat=1),
    # stream rollover, session expiry and eviction gaps
    "short": dict(args=["--max-stream-age", "2", "--session-ttl", "1",
                        "--buffer-messages", "5"], poll_timeout=5, heartbeat=1),
    # slow consumers
    "slow": dict(args=["--max-output-buffer", "65536"], poll_timeout=5, heartbeat=1),
}


@pytest.fixture(scope="module")
def servers():
    started = {}

    def get(name):
        if name not in started:
            started[name] = th.SharedServer(**CONFIGS[name]).start()
        return started[name]

    yield get
    problems = []
    for name, server in started.items():
        problems += ["[%s] %s" % (name, p) for p in server.stop()]
    if problems:
        pytest.fail("holdfast teardown: " + "\n".join(problems), pytrace=False)


def _env_for(servers, name, request):
    server = servers(name)
    env = Env(server.hf, server.lt)
    settle(env)
    yield env
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        print("---- holdfast [%s] stderr (tail) ----\n%s" % (name, server.hf.stderr()[-4000:]))
        print("---- lighttpd log (tail) ----\n" + server.lt.log()[-2000:])


@pytest.fixture
def main(servers, request):
    yield from _env_for(servers, "main", request)


@pytest.fixture
def short(servers, request):
    yield from _env_for(servers, "short", request)


@pytest.fixture
def slow(servers, request):
    yield from _env_for(servers, "slow", request)


def settle(env, timeout=6.0):
    """Waits (bounded) until the shared holdfast holds nothing from an earlier test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if env.stats()["held"]["total"] == 0:
            return
        time.sleep(0.05)


def chan(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def split_id(message_id):
    m = ID_RE.match(message_id)
    assert m, "bad message id %r" % message_id
    return m.group(1), int(m.group(2))


def assert_error(r, status):
    assert r.status == status, "expected %d, got %d: %r" % (status, r.status, r.body[:500])
    assert (r.header("content-type") or "").split(";")[0].strip() == "application/json", \
        r.headers
    body = r.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("message"), str) and body["message"], body
    return body


def check_message(m, channel, message_id, data, event="message"):
    for key in ("channel", "id", "event", "data", "time"):
        assert key in m, "message lacks %r: %r" % (key, m)
    assert m["channel"] == channel, m
    assert m["id"] == message_id, m
    assert m["event"] == event, m
    assert m["data"] == data, m
    assert isinstance(m["time"], int) and abs(m["time"] / 1000.0 - time.time()) < 60, m


def publish_ok(env, channel, data, event=None):
    r = env.publish(channel, data, event=event)
    assert r.status in (201, 202), (r.status, r.body)
    return r.json()["id"]


def open_stream(env, transport, channels, headers=None, max_seconds=15.0, callback=None,
                **query):
    q = dict(query)
    if transport is not None:
        q["transport"] = transport
    if callback:
        q["callback"] = callback
    s = th.Stream(env.port, env.sub_path(channels, **q), headers=headers,
                  max_seconds=max_seconds, kind=transport, callback=callback)
    return s


def session_close(env, sid):
    return env.http("POST", "/push/ctl/session/%s/close" % sid)


# NASTY data must never break out of a frame in any format.
NASTY = "</script><!-- \u2028\u2029 <b>&amp; \"q\" \\ end"


def messages_for(channel):
    return [{"n": 0, "text": "first"}, {"n": 1, "text": NASTY}, {"n": 2, "text": "third"}]


# ---------------------------------------------------------------------------------------------
# Streaming transports: each message as it is published, in the documented format


@pytest.mark.parametrize("transport", ["sse", "iframe", "multipart", "ndjson"])
def test_stream_transport_delivers_each_message_as_published(main, transport):
    env = main
    c = chan("st-" + transport)
    cb = "CB" if transport == "iframe" else None
    s = open_stream(env, transport, c, callback=cb)
    try:
        assert s.wait_head() == 200, s.body()[:300]
        hello_frame, hello_at = s.wait_type("hello", 2.0)
        assert hello_at - s.started_at < 0.5, "hello took %.3fs" % (hello_at - s.started_at)
        env.wait_held(1, transport)
        sent = []  # (publish start, publish returned, id, data, event)
        datas = messages_for(c)
        for i, data in enumerate(datas):
            if i:
                time.sleep(0.2)
            event = "alert" if i == 2 else None
            t0 = time.monotonic()
            r = env.publish(c, data, event=event)
            t1 = time.monotonic()
            assert r.status == 201, (r.status, r.body)
            assert r.json()["subscribers"] == 1, r.json()
            sent.append((t0, t1, r.json()["id"], data, event or "message"))
        s.wait_frame(lambda o: o.get("type") == "message" and o.get("id") == sent[-1][2], 2.0)
        time.sleep(0.1)
        frames = s.frames()
        msg_frames = [f for f in frames if f.obj.get("type") == "message"]
        assert [f.obj["id"] for f in msg_frames] == [x[2] for x in sent], \
            [f.obj for f in frames]
        for f, (t0, t1, mid, data, event) in zip(msg_frames, sent):
            at = s.arrival(f.end)
            assert t0 <= at <= t1 + DELIVERY_BUDGET, (
                "message %s arrived %.3fs after its publish returned (budget %.3fs)"
                % (mid, at - t1, DELIVERY_BUDGET))
            check_message(f.obj, c, mid, data, event)
            assert f.obj["cursor"] == "%s:%s" % (c, mid), f.obj
        assert s.eof_at is None, "stream ended: %r" % s.body()[-300:]

        # hello: first frame, cursor at the channel's position before the first message
        epoch, _ = split_id(sent[0][2])
        assert frames[0].obj == hello_frame.obj
        assert hello_frame.obj["cursor"] == "%s:%s-0" % (c, epoch), hello_frame.obj
        assert hello_frame.obj["heartbeat"] == 1, hello_frame.obj
        assert "session" not in hello_frame.obj, hello_frame.obj
        assert "no-store" in (s.header("cache-control") or ""), s.dec.headers
        assert s.header("x-content-type-options") == "nosniff", s.dec.headers

        body = s.body()
        ctype = s.header("content-type") or ""
        if transport == "sse":
            assert ctype.split(";")[0].strip() == "text/event-stream", ctype
            assert body.startswith(b"retry: "), body[:100]
            retry, _ = th.parse_sse(body)
            assert retry is not None and retry.isdigit(), body[:100]
            assert frames[0].meta.get("event") == "hello", frames[0].meta
            assert frames[0].meta.get("id") == hello_frame.obj["cursor"], frames[0].meta
            for f, x in zip(msg_frames, sent):
                assert f.meta.get("id") == f.obj["cursor"], f.meta
                assert f.meta.get("event") == x[4], f.meta
        elif transport == "iframe":
            assert ctype.split(";")[0].strip() == "text/html", ctype
            first_script = body.find(b"<script>")
            assert first_script >= 2048, "only %d bytes before the first <script>" % first_script
            rest = body[first_script:]
            n = len(frames)
            assert rest.count(b"<script>") == n and rest.count(b"</script>") == n, \
                "a frame broke out of its <script>: %r" % rest
            assert b"<!--" not in rest and "\u2028".encode() not in rest \
                and "\u2029".encode() not in rest, rest
            for f in frames:
                assert body[f.meta["start"]:].startswith(b"<script>parent.CB("), f
        elif transport == "multipart":
            m = re.match(r"multipart/x-mixed-replace;\s*boundary=(holdfast-\S+)$", ctype)
            assert m, ctype
            assert body.startswith(b"--" + m.group(1).encode() + b"\r\n"), body[:200]
            for f in frames:
                assert f.meta["headers"].get("content-type") == "application/json", f.meta
        else:
            assert ctype.split(";")[0].strip() == "application/x-ndjson", ctype
            lines = body.split(b"\n")
            assert lines[-1] == b"", "incomplete last line: %r" % lines[-1]
            assert len(lines) - 1 == len(frames)
            for line in lines[:-1]:
                assert isinstance(json.loads(line), dict) and json.loads(line)["type"], line
    finally:
        s.close()


def test_multipart_boundary_is_random_per_response(main):
    c = chan("mpb")
    a = open_stream(main, "multipart", c)
    b = open_stream(main, "multipart", c)
    try:
        a.wait_type("hello", 2.0)
        b.wait_type("hello", 2.0)
        assert a.header("content-type") != b.header("content-type"), a.header("content-type")
    finally:
        a.close()
        b.close()


# ---------------------------------------------------------------------------------------------
# Long-poll kinds: one request per message, re-polled with the cursor


# lighttpd 1.4.69 itself rewrites a backend's "application/javascript" to "text/javascript" (the
# RFC 9239 name; verified with a stub FastCGI backend), so through lighttpd either name is the
# JavaScript type; holdfast's own header is checked exactly on the data socket
# (test_jsonp_content_type_on_the_data_socket).
JS_TYPES_VIA_LIGHTTPD = ("application/javascript", "text/javascript")


def parse_jsonp(r, callback, types=JS_TYPES_VIA_LIGHTTPD):
    assert (r.header("content-type") or "").split(";")[0].strip() in types, r.headers
    assert r.header("x-content-type-options") == "nosniff", r.headers
    m = re.match(rb"^/\*\*/" + re.escape(callback.encode()) + rb"\((.*)\);\s*$", r.body, re.S)
    assert m, "not /**/%s({...}); : %r" % (callback, r.body[:300])
    for ch in (b"<", b">", b"&", "\u2028".encode(), "\u2029".encode()):
        assert ch not in m.group(1), "unescaped %r in JSONP body %r" % (ch, r.body)
    return json.loads(m.group(1))


def test_jsonp_content_type_on_the_data_socket(main):
    c = chan("jsonp-raw")
    mid = publish_ok(main, c, {"t": NASTY})
    r = harness.fcgi_call(main.data_socket, "GET",
                          "/push/sub/%s?transport=jsonp&callback=cb&since=oldest" % c)
    assert r.status == 200, (r.status, r.body)
    body = parse_jsonp(r, "cb", types=("application/javascript",))
    assert [m["id"] for m in body["messages"]] == [mid] and \
        body["messages"][0]["data"] == {"t": NASTY}, body


def parse_longpoll(r):
    assert (r.header("content-type") or "").split(";")[0].strip() == "application/json", \
        r.headers
    return r.json()


@pytest.mark.parametrize("transport", ["longpoll", "jsonp"])
def test_held_poll_answers_each_message_as_published(main, transport):
    env = main
    c = chan("lp-" + transport)
    cursor = env.poll_cursor(c)
    datas = messages_for(c)
    for i, data in enumerate(datas):
        q = dict(transport=transport, cursor=cursor)
        if transport == "jsonp":
            q["callback"] = "cb"
        pending = env.sub_async(c, **q)
        env.wait_held(1, transport)
        time.sleep(0.2)
        assert not pending.done.is_set(), "answered before anything was published"
        t0 = time.monotonic()
        mid = publish_ok(env, c, data)
        t1 = time.monotonic()
        r = harness.wait_result(pending, 5)
        assert r.status == 200, (r.status, r.body)
        assert pending.done_at - t1 <= DELIVERY_BUDGET, (
            "answer came %.3fs after the publish returned" % (pending.done_at - t1))
        assert pending.done_at >= t0
        assert "no-store" in (r.header("cache-control") or ""), r.headers
        body = parse_jsonp(r, "cb") if transport == "jsonp" else parse_longpoll(r)
        assert len(body["messages"]) == 1, body
        check_message(body["messages"][0], c, mid, data)
        assert body["cursor"] == "%s:%s" % (c, mid), body
        assert "heartbeat" not in body, body
        cursor = body["cursor"]


def test_poll_answers_at_once(main):
    env = main
    c = chan("poll")
    cursor = env.poll_cursor(c)
    t = time.monotonic()
    r = env.sub(c, transport="poll", cursor=cursor)
    assert time.monotonic() - t < 0.5, "poll was held for %.3fs" % (time.monotonic() - t)
    assert r.status == 200 and parse_longpoll(r)["messages"] == [], r.body
    for i, data in enumerate(messages_for(c)):
        time.sleep(0.2)
        mid = publish_ok(env, c, data)
        t1 = time.monotonic()
        r = env.sub(c, transport="poll", cursor=cursor)
        assert time.monotonic() - t1 <= DELIVERY_BUDGET, "poll took %.3fs" % (
            time.monotonic() - t1)
        body = parse_longpoll(r)
        assert len(body["messages"]) == 1, body
        check_message(body["messages"][0], c, mid, data)
        assert body["cursor"] == "%s:%s" % (c, mid), body
        cursor = body["cursor"]


# ---------------------------------------------------------------------------------------------
# Transport chosen by Accept


def test_accept_event_stream_selects_sse(main):
    c = chan("acc-sse")
    s = open_stream(main, None, c, headers={"Accept": "text/event-stream"})
    s.kind = "sse"
    try:
        assert s.wait_head() == 200
        s.wait_type("hello", 2.0)
        assert (s.header("content-type") or "").startswith("text/event-stream"), s.dec.headers
        assert s.body().startswith(b"retry: ")
        main.wait_held(1, "sse")
    finally:
        s.close()


@pytest.mark.parametrize("accept", ["multipart/x-mixed-replace", "multipart/mixed"])
def test_accept_multipart_selects_multipart(main, accept):
    c = chan("acc-mp")
    s = open_stream(main, None, c, headers={"Accept": accept})
    s.kind = "multipart"
    try:
        assert s.wait_head() == 200
        s.wait_type("hello", 2.0)
        assert re.match(r"multipart/x-mixed-replace;\s*boundary=",
                        s.header("content-type") or ""), s.dec.headers
        main.wait_held(1, "multipart")
    finally:
        s.close()


def test_no_accept_selects_longpoll_json(main):
    env = main
    c = chan("acc-lp")
    r = env.sub(c, timeout=0)
    body = parse_longpoll(r)
    assert r.status == 200 and body["messages"] == [] and body["cursor"].startswith(c + ":"), \
        body
    pending = env.sub_async(c, headers={"Accept": "text/html,*/*"})
    env.wait_held(1, "longpoll")
    mid = publish_ok(env, c, {"x": 1})
    r = harness.wait_result(pending, 5)
    body = parse_longpoll(r)
    assert [m["id"] for m in body["messages"]] == [mid], body


# ---------------------------------------------------------------------------------------------
# Heartbeats and stream age


def test_heartbeats_at_configured_interval(main):
    env = main
    c = chan("hb")
    streams = [open_stream(env, "sse", c), open_stream(env, "ndjson", c)]
    try:
        for s in streams:
            s.wait_type("hello", 2.0)
        time.sleep(2.5)
        for s in streams:
            hello = s.objs("hello")[0]
            assert hello["heartbeat"] == 1, hello
            beats = [f for f in s.frames() if f.obj.get("type") == "heartbeat"]
            assert len(beats) >= 2, "%s: %d heartbeats in 2.5 s: %r" % (
                s.kind, len(beats), s.body()[-500:])
            times = [s.arrival(f.end) for f in beats]
            assert times[0] - s.started_at <= 1.5, "first heartbeat after %.2fs" % (
                times[0] - s.started_at)
            gaps = [b - a for a, b in zip(times, times[1:])]
            assert all(0.6 <= g <= 1.4 for g in gaps), "%s heartbeat gaps %r" % (s.kind, gaps)
            for f in beats:
                assert isinstance(f.obj.get("time"), int) and \
                    abs(f.obj["time"] / 1000.0 - time.time()) < 60, f.obj
                if s.kind == "sse":
                    assert f.meta.get("event") == "heartbeat", f.meta
    finally:
        for s in streams:
            s.close()


@pytest.mark.parametrize("transport", ["sse", "ndjson"])
def test_max_stream_age_ends_with_reconnect(short, transport):
    env = short
    c = chan("age-" + transport)
    s = open_stream(env, transport, c)
    try:
        s.wait_type("hello", 2.0)
        mid = publish_ok(env, c, {"before": "rollover"})
        s.wait_frame(lambda o: o.get("id") == mid, 1.0)
        end = s.wait_eof(4.0)
        age = end - s.started_at
        assert 1.5 <= age <= 3.5, "stream ended after %.2fs (max_stream_age 2)" % age
        frames = s.frames()
        last = frames[-1]
        assert last.obj["type"] == "reconnect", [f.obj for f in frames]
        assert last.obj["cursor"] == "%s:%s" % (c, mid), last.obj
        assert last.obj.get("reason") == "max_stream_age", last.obj
        if transport == "sse":
            assert last.meta.get("id") == last.obj["cursor"], last.meta
            assert last.meta.get("event") == "reconnect", last.meta
    finally:
        s.close()


# ---------------------------------------------------------------------------------------------
# SSE resume


def read_sse_ids(env, c, n_publish, data_tag):
    """Opens SSE on c, publishes n messages, returns (ids, last SSE id) and closes."""
    s = open_stream(env, "sse", c)
    try:
        s.wait_type("hello", 2.0)
        ids = [publish_ok(env, c.split(",")[i % len(c.split(","))], {"tag": data_tag, "i": i})
               for i in range(n_publish)]
        f, _ = s.wait_frame(lambda o: o.get("id") == ids[-1], 2.0)
        return ids, f.meta["id"], f.obj
    finally:
        s.close()


def resumed_messages(env, c, headers=None, expect_last=None, **query):
    s = open_stream(env, "sse", c, headers=headers, **query)
    try:
        assert s.wait_head() == 200
        s.wait_frame(lambda o: o.get("id") == expect_last, 2.0)
        time.sleep(0.3)  # anything delivered twice or extra would show now
        frames = s.frames()
        return frames
    finally:
        s.close()


@pytest.mark.parametrize("how", ["header", "param"])
def test_sse_resume_from_last_event_id(main, how):
    env = main
    c = chan("resume-" + how)
    ids, last_event_id, last = read_sse_ids(env, c, 3, "before")
    assert last_event_id == last["cursor"] == "%s:%s" % (c, ids[-1])
    missed = [publish_ok(env, c, {"tag": "missed", "i": i}) for i in range(5)]
    if how == "header":
        frames = resumed_messages(env, c, headers={"Last-Event-ID": last_event_id},
                                  expect_last=missed[-1])
    else:
        frames = resumed_messages(env, c, expect_last=missed[-1], last_event_id=last_event_id)
    got = [f.obj for f in frames if f.obj.get("type") == "message"]
    assert [m["id"] for m in got] == missed, [f.obj for f in frames]
    assert [m["data"] for m in got] == [{"tag": "missed", "i": i} for i in range(5)]
    assert not [f for f in frames if f.obj.get("type") == "gap"], [f.obj for f in frames]
    assert got[-1]["cursor"] == frames[-1].meta["id"] == "%s:%s" % (c, missed[-1])


def test_sse_resume_multi_channel_from_one_id(main):
    env = main
    a, b = chan("mca"), chan("mcb")
    s = open_stream(env, "sse", a + "," + b)
    try:
        s.wait_type("hello", 2.0)
        ia = publish_ok(env, a, {"ch": "a", "i": 0})
        ib = publish_ok(env, b, {"ch": "b", "i": 0})
        f, _ = s.wait_frame(lambda o: o.get("id") == ib and o.get("channel") == b, 2.0)
        fa, _ = s.wait_frame(lambda o: o.get("id") == ia and o.get("channel") == a, 0.5)
        last_event_id = f.meta["id"]
    finally:
        s.close()
    entries = dict(e.split(":", 1) for e in last_event_id.split(","))
    assert entries == {a: ia, b: ib}, last_event_id
    order = [(a, 1), (b, 1), (a, 2), (b, 2), (b, 3)]
    missed = [(ch, publish_ok(env, ch, {"ch": ch, "i": i})) for ch, i in order]
    s = open_stream(env, "sse", a + "," + b, headers={"Last-Event-ID": last_event_id})
    try:
        s.wait_frame(lambda o: o.get("channel") == b and o.get("id") == missed[-1][1], 2.0)
        s.wait_frame(lambda o: o.get("channel") == a and o.get("id") == missed[2][1], 1.0)
        time.sleep(0.3)
        got = [(f.obj["channel"], f.obj["id"]) for f in s.frames()
               if f.obj.get("type") == "message"]
        assert sorted(got) == sorted(missed) and len(got) == 5, got
        for ch in (a, b):
            assert [x for x in got if x[0] == ch] == [x for x in missed if x[0] == ch], got
        assert not s.objs("gap"), s.objs("gap")
    finally:
        s.close()


def test_gap_after_eviction(short):
    env = short
    c = chan("gap")
    ids = [publish_ok(env, c, {"i": i + 1}) for i in range(20)]
    epoch, seq = split_id(ids[0])
    assert seq == 1 and all(split_id(x) == (epoch, i + 1) for i, x in enumerate(ids))
    s = open_stream(env, "sse", c, cursor="%s:%s-2" % (c, epoch))
    try:
        s.wait_frame(lambda o: o.get("id") == ids[-1], 1.5)
        frames = [f.obj for f in s.frames()]
        kinds = [o["type"] for o in frames]
        assert kinds[:2] == ["hello", "gap"], frames
        gap = frames[1]
        # "requested" names the first message the cursor asks for (seq 3, the one after 2),
        # as in docs/api.md's example and test_core.py
        assert gap == {"type": "gap", "channel": c, "requested": "%s-3" % epoch,
                       "first_available": "%s-16" % epoch, "reason": "evicted"}, gap
        msgs = [o for o in frames if o["type"] == "message"]
        assert [o["id"] for o in msgs] == ids[15:], [o["id"] for o in msgs]
        assert [o["data"] for o in msgs] == [{"i": i} for i in range(16, 21)]
        assert kinds.index("gap") < kinds.index("message")
        assert kinds.count("gap") == 1, kinds
    finally:
        s.close()


# ---------------------------------------------------------------------------------------------
# Sessions


def new_session(env, c):
    r = env.sub(c, transport="poll", session="new")
    assert r.status == 200, r
    sid = r.json().get("session")
    assert sid and r.header("x-holdfast-session") == sid, (r.headers, r.body)
    return sid


def test_session_new_header_and_hello(main):
    env = main
    c = chan("sess")
    r = env.sub(c, timeout=0, session="new")
    assert r.status == 200
    sid1 = r.json().get("session")
    assert sid1 and r.header("x-holdfast-session") == sid1, (r.headers, r.body)
    s = open_stream(env, "sse", c, session="new")
    try:
        assert s.wait_head() == 200
        hello, _ = s.wait_type("hello", 2.0)
        sid2 = s.header("x-holdfast-session")
        assert sid2 and hello.obj.get("session") == sid2, (s.dec.headers, hello.obj)
        assert sid2 != sid1
        for sid in (sid1, sid2):
            # 128 random bits: at least 22 base64url / 32 hex characters
            assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", sid), sid
    finally:
        s.close()
    for sid in (sid1, sid2):
        session_close(env, sid)


def test_session_close_releases_held_longpoll(main):
    env = main
    c = chan("sclose")
    sid = new_session(env, c)
    pending = env.sub_async(c, session=sid, timeout=5)
    env.wait_held(1, "longpoll")
    t0 = time.monotonic()
    r = env.http("POST", "/push/ctl/session/%s/close" % sid)
    assert r.status == 200, (r.status, r.body)
    assert r.json() == {"session": sid, "closed": True}, r.body
    lp = harness.wait_result(pending, 2)
    assert pending.done_at - t0 < 0.1, "long-poll answered %.3fs after the close" % (
        pending.done_at - t0)
    assert lp.status == 200, (lp.status, lp.body)
    body = lp.json()
    assert body.get("closed") and body["messages"] == [], body
    env.wait_held(0, "total", timeout=1.0)
    assert_error(env.http("GET", "/push/ctl/session/%s" % sid), 404)


def test_session_close_ends_stream(main):
    env = main
    c = chan("sclose-s")
    s = open_stream(env, "sse", c, session="new")
    try:
        hello, _ = s.wait_type("hello", 2.0)
        sid = hello.obj["session"]
        env.wait_held(1, "sse")
        t0 = time.monotonic()
        r = session_close(env, sid)
        assert r.status == 200, (r.status, r.body)
        f, at = s.wait_type("closed", 1.0)
        end = s.wait_eof(1.0)
        assert at - t0 < 0.1 and end - t0 < 0.1, (
            "closed frame %.3fs, end of stream %.3fs after the close" % (at - t0, end - t0))
        assert isinstance(f.obj.get("reason"), str), f.obj
        assert f.meta.get("event") == "closed", f.meta
        env.wait_held(0, "total", timeout=1.0)
        assert env.stats()["held"]["sse"] == 0
    finally:
        s.close()


def test_session_superseded_longpoll_gets_409(main):
    env = main
    c = chan("super-lp")
    sid = new_session(env, c)
    first = env.sub_async(c, session=sid, timeout=5)
    env.wait_held(1, "longpoll")
    second = env.sub_async(c, session=sid, timeout=5)
    r1 = harness.wait_result(first, 2)
    assert_error(r1, 409)
    env.wait_held(1, "longpoll")
    mid = publish_ok(env, c, {"to": "second"})
    r2 = harness.wait_result(second, 2)
    assert r2.status == 200 and [m["id"] for m in r2.json()["messages"]] == [mid], r2.body
    session_close(env, sid)


def test_session_superseded_stream_gets_closed_frame(main):
    env = main
    c = chan("super-s")
    s = open_stream(env, "sse", c, session="new")
    try:
        hello, _ = s.wait_type("hello", 2.0)
        sid = hello.obj["session"]
        env.wait_held(1, "sse")
        second = env.sub_async(c, session=sid, timeout=5)
        f, _ = s.wait_type("closed", 2.0)
        assert f.obj.get("reason") == "superseded", f.obj
        s.wait_eof(1.0)
        env.wait_held(1, "longpoll")
        env.wait_held(0, "sse")
        session_close(env, sid)
        r = harness.wait_result(second, 2)
        assert r.status == 200 and r.json().get("closed"), r.body
    finally:
        s.close()


def test_session_subscribe_and_unsubscribe_live_stream(main):
    env = main
    c1, c2 = chan("live1"), chan("live2")
    s = open_stream(env, "sse", c1, session="new")
    try:
        hello, _ = s.wait_type("hello", 2.0)
        sid = hello.obj["session"]
        r = env.http("POST", "/push/ctl/session/%s/subscribe?channel=%s" % (sid, c2))
        assert r.status == 200, (r.status, r.body)
        body = r.json()
        assert body["session"] == sid and c2 in body["channels"], body
        r = env.publish(c2, {"k": 1})
        assert r.status == 201 and r.json()["subscribers"] == 1, (r.status, r.body)
        m1 = r.json()["id"]
        f, _ = s.wait_frame(lambda o: o.get("channel") == c2 and o.get("id") == m1, 1.0)
        assert f.obj["data"] == {"k": 1}
        r = env.http("POST", "/push/ctl/session/%s/unsubscribe?channel=%s" % (sid, c2))
        assert r.status == 200, (r.status, r.body)
        r = env.publish(c2, {"k": 2})
        assert r.status == 202 and r.json()["subscribers"] == 0, (r.status, r.body)
        m3 = publish_ok(env, c1, {"k": 3})
        s.wait_frame(lambda o: o.get("id") == m3 and o.get("channel") == c1, 1.0)
        time.sleep(0.2)
        got = [(o["channel"], o["data"]) for o in s.objs("message")]
        assert got == [(c2, {"k": 1}), (c1, {"k": 3})], got
        assert len(s.objs("hello")) == 1 and s.eof_at is None
    finally:
        s.close()
        session_close(env, sid)


def test_piggyback_after_longpoll(main):
    env = main
    c = chan("piggy")
    pending = env.sub_async(c, session="new", timeout=5)
    env.wait_held(1, "longpoll")
    m0 = publish_ok(env, c, {"p": 0})
    r = harness.wait_result(pending, 2)
    body = r.json()
    sid = body["session"]
    assert [m["id"] for m in body["messages"]] == [m0], body
    m1 = publish_ok(env, c, {"p": 1})
    m2 = publish_ok(env, c, {"p": 2})
    r = env.http("GET", "/push/ctl/session/%s" % sid)
    assert r.status == 200, (r.status, r.body)
    body = r.json()
    assert "messages" in body, (
        "GET /push/ctl/session/ID is a piggyback read (docs/api.md): expected the 2 pending "
        "messages, got %r" % body)
    assert [m["id"] for m in body["messages"]] == [m1, m2], body
    assert [m["data"] for m in body["messages"]] == [{"p": 1}, {"p": 2}]
    assert body["cursor"] == "%s:%s" % (c, m2), body
    session_close(env, sid)


def test_piggyback_on_publish(main):
    env = main
    c, other = chan("piggy2"), chan("piggy-other")
    pending = env.sub_async(c, session="new", timeout=5)
    env.wait_held(1, "longpoll")
    publish_ok(env, c, {"p": 0})
    sid = harness.wait_result(pending, 2).json()["session"]
    m1 = publish_ok(env, c, {"p": 1})
    m2 = publish_ok(env, c, {"p": 2})
    r = env.ctl("POST", "/pub/%s?session=%s" % (other, sid), '{"unrelated":1}',
                {"Content-Type": "application/json"})
    assert r.status in (201, 202), (r.status, r.body)
    body = r.json()
    assert [m["id"] for m in body.get("messages", [])] == [m1, m2], body
    session_close(env, sid)


def test_session_expires_after_ttl(short):
    env = short
    c = chan("ttl")
    r = env.sub(c, timeout=0, session="new")
    sid = r.json()["session"]
    assert env.http("GET", "/push/ctl/session/%s" % sid).status == 200
    assert env.stats()["sessions"] == 1
    time.sleep(2.5)
    assert_error(env.http("GET", "/push/ctl/session/%s" % sid), 404)
    assert env.stats()["sessions"] == 0


# ---------------------------------------------------------------------------------------------
# Auth, private channels, CORS


def test_publish_key_errors(main):
    env = main
    c = chan("auth")
    assert_error(env.publish(c, {"a": 1}, key=None), 401)
    assert_error(env.publish(c, {"a": 1}, key="wrong"), 403)
    assert env.sub(c, transport="poll", since="oldest").json()["messages"] == []


def test_client_publish_patterns(main):
    env = main
    room = "room." + uuid.uuid4().hex[:8]
    r = env.publish(room, {"hi": 1}, key=None)
    assert r.status in (201, 202), (r.status, r.body)
    assert split_id(r.json()["id"])[1] == 1
    other = "other." + uuid.uuid4().hex[:8]
    assert_error(env.publish(other, {"hi": 1}, key=None), 401)
    assert env.publish(other, {"hi": 1}).status == 202


def test_private_channel_tokens(main):
    env = main
    c = "private.a" + uuid.uuid4().hex[:8]
    now = int(time.time())
    assert_error(env.sub(c, transport="poll"), 403)
    assert_error(env.sub(c, transport="poll", token=th.make_token(TOKEN_KEY, c, now - 10)), 403)
    assert_error(env.sub(c, transport="poll",
                         token=th.make_token(TOKEN_KEY, c + "x", now + 3600)), 403)
    assert_error(env.sub(c, transport="poll", token=th.make_token("otherkey", c, now + 3600)),
                 403)
    token = th.make_token(TOKEN_KEY, c, now + 3600)
    r = env.sub(c, transport="poll", token=token)
    assert r.status == 200, (r.status, r.body)
    s = open_stream(env, "sse", c, token=token)
    try:
        assert s.wait_head() == 200, s.body()[:300]
        s.wait_type("hello", 2.0)
        mid = publish_ok(env, c, {"secret": 1})
        s.wait_frame(lambda o: o.get("id") == mid, 1.0)
    finally:
        s.close()


@pytest.mark.parametrize("mount", ["data", "control"])
def test_cors(main, mount):
    env = main
    c = chan("cors")
    if mount == "data":
        get_path, pre_path, method = "/push/sub/%s?transport=poll" % c, "/push/sub/" + c, "GET"
    else:
        get_path, pre_path, method = "/push/ctl/health", "/push/ctl/pub/" + c, "POST"
    r = env.http("GET", get_path, headers={"Origin": ORIGIN})
    assert r.status == 200, r
    assert r.header("access-control-allow-origin") == ORIGIN, r.headers
    assert "origin" in (r.header("vary") or "").lower(), r.headers
    assert "x-holdfast-session" in (r.header("access-control-expose-headers") or "").lower(), \
        r.headers
    pre = {"Origin": ORIGIN, "Access-Control-Request-Method": method,
           "Access-Control-Request-Headers": "Content-Type, Authorization"}
    r = env.http("OPTIONS", pre_path, headers=pre)
    assert r.status == 204, (r.status, r.headers, r.body)
    assert r.header("access-control-allow-origin") == ORIGIN, r.headers
    assert method in (r.header("access-control-allow-methods") or ""), r.headers
    r = env.http("GET", get_path, headers={"Origin": OTHER_ORIGIN})
    assert r.status == 200 and r.header("access-control-allow-origin") is None, r.headers
    pre["Origin"] = OTHER_ORIGIN
    r = env.http("OPTIONS", pre_path, headers=pre)
    assert r.status == 403, (r.status, r.headers, r.body)
    assert r.header("access-control-allow-origin") is None, r.headers


# ---------------------------------------------------------------------------------------------
# Slow consumers and dead clients


def read_until_hello(conn, timeout=3.0):
    deadline = time.monotonic() + timeout
    out = b""
    for _ in range(100):
        rec = conn.read_record(max(0.01, deadline - time.monotonic()))
        assert rec is not None, "EOF before hello: %r" % out
        if rec[0] == harness.FCGI_STDOUT:
            out += rec[2]
            if b"event: hello" in out and b"\n\n" in out.split(b"event: hello", 1)[1]:
                return out
    raise AssertionError("no hello: %r" % out)


def test_slow_consumer_is_dropped_normal_reader_gets_everything(slow):
    env = slow
    c = chan("slow")
    normal = open_stream(env, "sse", c, max_seconds=30)
    raw = th.small_rcvbuf_fcgi(env.data_socket, 4096)
    try:
        normal.wait_type("hello", 2.0)
        raw.request("GET", "/push/sub/%s?transport=sse" % c)
        env.wait_held(2, "sse")
        before = env.stats()["dropped"]["slow"]
        pad = "x" * 8192
        ids = []
        deadline = time.monotonic() + 30
        for i in range(300):
            r = env.fcgi_ctl("POST", "/pub/" + c, json.dumps({"n": i, "pad": pad}),
                             content_type="application/json")
            assert r.status in (201, 202), (r.status, r.body)
            ids.append(r.json()["id"])
            # A reader that keeps up stays within a few messages (32 KiB) of the publisher, so
            # only the reader that never reads can exceed the 64 KiB output cap.
            if i >= 4:
                normal.wait_frame(lambda o, k=ids[i - 4]: o.get("id") == k, 5.0)
            assert time.monotonic() < deadline, "publishing took over 30 s"
        harness.wait_until(lambda: env.stats()["dropped"]["slow"] >= before + 1, 5,
                           what="dropped.slow to grow")
        assert raw.wait_closed(5.0), "the slow subscriber's connection was not closed"
        normal.wait_frame(lambda o: o.get("id") == ids[-1], 10.0)
        got = normal.objs("message")
        assert [m["data"]["n"] for m in got] == list(range(300)), \
            "normal reader got %d messages" % len(got)
        assert all(m["data"]["pad"] == pad for m in got)
        assert normal.eof_at is None
        assert env.stats()["held"]["sse"] == 1
    finally:
        raw.close()
        normal.close()


def test_closed_fcgi_subscriber_is_freed(main):
    env = main
    c = chan("gone-raw")
    conn = harness.FcgiConnection(env.data_socket)
    try:
        conn.request("GET", "/push/sub/%s?transport=sse" % c)
        read_until_hello(conn)
        env.wait_held(1, "sse")
    finally:
        conn.close()
    t0 = time.monotonic()
    env.wait_held(0, "sse", timeout=2.5)
    assert time.monotonic() - t0 <= 2.5


def test_closed_http_sse_client_is_freed_behind_lighttpd(main):
    env = main
    c = chan("gone-http")
    s = open_stream(env, "sse", c)
    s.wait_type("hello", 2.0)
    env.wait_held(1, "sse")
    s.close()
    t0 = time.monotonic()
    env.wait_held(0, "sse", timeout=3.0)  # 3 heartbeat intervals
    assert time.monotonic() - t0 <= 3.0


# ---------------------------------------------------------------------------------------------
# Channel delete


def test_delete_ends_held_stream_with_deleted_frame(main):
    env = main
    c = chan("del-s")
    s = open_stream(env, "sse", c)
    try:
        s.wait_type("hello", 2.0)
        env.wait_held(1, "sse")
        r = env.ctl("DELETE", "/channels/" + c)
        assert r.status == 200 and r.json() == {"channel": c, "deleted": True}, r.body
        f, _ = s.wait_type("deleted", 1.0)
        assert f.obj.get("channel") == c, f.obj
        s.wait_eof(1.0)
        assert s.frames()[-1].obj["type"] == "deleted"
        env.wait_held(0, "sse", timeout=1.0)
    finally:
        s.close()


def test_delete_answers_held_longpoll_with_410(main):
    env = main
    c = chan("del-lp")
    pending = env.sub_async(c, timeout=5)
    env.wait_held(1, "longpoll")
    r = env.ctl("DELETE", "/channels/" + c)
    assert r.status == 200, r.body
    assert_error(harness.wait_result(pending, 2), 410)


def test_session_answered_at_once_supersedes_a_held_request(main):
    env = main
    c = chan("super-now")
    sid = new_session(env, c)
    held = env.sub_async(c, session=sid, timeout=5)
    env.wait_held(1, "longpoll")
    now = env.sub(c, transport="poll", session=sid)  # answered at once, same session
    assert now.status == 200 and now.json()["session"] == sid
    assert_error(harness.wait_result(held, 2), 409)
    env.wait_held(0)
    session_close(env, sid)


def test_session_used_without_holds_stays_alive_past_its_ttl(short):
    env = short  # session_ttl 1 s
    c = chan("ttl-poll")
    sid = new_session(env, c)
    for _ in range(6):  # 3 s of polling every 0.5 s: each answer restarts the ttl
        time.sleep(0.5)
        r = env.sub(c, transport="poll", session=sid)
        assert r.status == 200, r.body
    time.sleep(2.5)  # idle past the ttl (and a sweep): now it is gone
    assert_error(env.sub(c, transport="poll", session=sid), 404)


def test_session_cannot_grow_past_max_channels(main):
    env = main
    c = chan("grow")
    sid = new_session(env, c)
    names = ",".join("%s-%d" % (c, i) for i in range(40))
    ok = env.http("POST", "/push/ctl/session/%s/subscribe?channel=%s" % (sid, names))
    assert ok.status == 200, ok.body
    more = ",".join("%s-x%d" % (c, i) for i in range(30))  # 1 + 40 + 30 > 64
    body = assert_error(env.http("POST", "/push/ctl/session/%s/subscribe?channel=%s"
                                 % (sid, more)), 400)
    assert body["error"] == "too_many_channels"
    session_close(env, sid)


def test_session_subscribe_checks_every_token_before_changing_anything(main):
    env = main
    c = chan("tok")
    sid = new_session(env, c)
    r = env.http("POST", "/push/ctl/session/%s/subscribe?channel=%s-open,private.%s"
                 % (sid, c, c))
    assert_error(r, 403)
    info = env.http("GET", "/push/ctl/session/%s" % sid)
    assert info.status == 200
    # the open channel before the refused private one was not added either
    ok = env.http("POST", "/push/ctl/session/%s/unsubscribe?channel=%s" % (sid, c))
    assert ok.json()["channels"] == [], ok.body
    session_close(env, sid)
