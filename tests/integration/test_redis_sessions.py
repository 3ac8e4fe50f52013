"""Sessions across nodes on the Redis engine: a session issued by one node is known to every
node, and close/subscribe/unsubscribe/piggyback sent to one node reach the request another
node holds (over that node's pub/sub control channel).

Two (or three) holdfast nodes on one real redis-server on a free loopback port, talking
FastCGI to each node's sockets directly, and one test through a real lighttpd with several
sockets per mount. Every process is stopped by PID; every wait is bounded.
"""

import json
import os
import shutil
import signal
import tempfile
import time

import pytest

import harness
from redis_server import RedisServer
from test_redis import Node, Stream, in_background, ids


@pytest.fixture
def trio(request):
    root = tempfile.mkdtemp(prefix="hf-rs-")
    redis = RedisServer(root).start()
    nodes = []
    run_dir = os.path.join(root, "run")  # RUN_DIR/N/{control,data}.sock, as holdfast@N
    try:
        for name in ("1", "2", "3"):
            nodes.append(Node(run_dir, name, redis.url).start())
        yield root, redis, nodes
    finally:
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            for n in nodes:
                print("---- node %s stderr ----\n%s" % (n.hf.tmpdir, n.hf.stderr()[-3000:]))
        problems = []
        for n in nodes:
            if n.hf.alive():
                problems += n.hf.stop()
        redis.stop()
        shutil.rmtree(root, ignore_errors=True)
    assert not problems, problems


def new_session(node, channels):
    body = node.sub(channels, "transport=poll&session=new").json()
    return body["session"], body["cursor"]


def ended_within(stream, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if stream.ended:
            return True
        time.sleep(0.005)
    return stream.ended


def test_close_from_b_ends_the_sse_stream_on_a_within_100ms(trio):
    _, _, (a, b, _) = trio
    sid, _ = new_session(a, "close.sse")
    s = Stream.held(a, "close.sse", "transport=sse&session=" + sid)
    try:
        started = time.monotonic()
        r = b.ctl("POST", "/session/%s/close" % sid)
        assert r.status == 200 and r.json()["closed"] is True
        assert ended_within(s, 1.0)
        assert time.monotonic() - started < 0.1 + 0.05  # + the request's own round trip
        assert "event: closed" in s.text()
        assert a.sub("close.sse", "session=" + sid).status == 404
        assert b.ctl("GET", "/session/" + sid).status == 404
    finally:
        s.close()


def test_close_from_b_answers_the_longpoll_held_on_a_within_100ms(trio):
    _, _, (a, b, _) = trio
    sid, cursor = new_session(a, "close.lp")
    held = in_background(lambda: a.sub("close.lp", "session=%s&cursor=%s" % (sid, cursor)))
    a.wait_held(1)
    started = time.monotonic()
    assert b.ctl("POST", "/session/%s/close" % sid).status == 200
    got = held(2.0)
    assert time.monotonic() - started < 0.15
    assert got.status == 200
    assert got.json().get("closed") == "session closed"


def test_subscribe_and_unsubscribe_from_b_change_the_stream_on_a(trio):
    _, _, (a, b, _) = trio
    sid, _ = new_session(a, "chg.one")
    s = Stream.held(a, "chg.one", "transport=sse&session=" + sid)
    try:
        r = b.ctl("POST", "/session/%s/subscribe?channel=chg.two" % sid)
        assert r.status == 200
        # The session's channels: chg.one from its first poll, chg.two added.
        assert sorted(r.json()["channels"]) == ["chg.one", "chg.two"]
        harness.wait_until(lambda: a.stats()["channels"] == 2, 5, what="a subscribed chg.two")
        two = b.publish("chg.two", "to-two").json()["id"]
        s.wait_for(two)
        r = b.ctl("POST", "/session/%s/unsubscribe?channel=chg.one" % sid)
        assert r.status == 200 and r.json()["channels"] == ["chg.two"]
        harness.wait_until(lambda: a.stats()["channels"] == 1, 5, what="a dropped chg.one")
        gone = b.publish("chg.one", "not-delivered").json()["id"]
        after = b.publish("chg.two", "after").json()["id"]
        s.wait_for(after)
        assert gone not in s.text()
    finally:
        s.close()


def test_piggyback_on_b_returns_what_is_pending_for_a_session_of_a(trio):
    _, _, (a, b, _) = trio
    sid, _ = new_session(a, "piggy")
    pending = [b.publish("piggy", {"n": i}).json()["id"] for i in range(3)]
    r = b.ctl("POST", "/pub/other?session=" + sid, json.dumps(1), "application/json")
    assert r.status in (201, 202)
    assert [m["id"] for m in r.json()["messages"]] == pending
    # The cursor moved in Redis: nothing is pending any more, on any node.
    assert a.ctl("GET", "/session/" + sid).json()["messages"] == []
    more = a.publish("piggy", "x").json()["id"]
    assert [m["id"] for m in b.ctl("GET", "/session/" + sid).json()["messages"]] == [more]


def test_a_session_continues_across_nodes_in_a_longpoll_loop(trio):
    _, _, (a, b, c) = trio
    sid, cursor = new_session(a, "loop")
    nodes = [b, c, a]
    got = []
    for i in range(9):
        node = nodes[i % 3]
        held = in_background(lambda n=node, cur=cursor: n.sub(
            "loop", "session=%s&cursor=%s&timeout=5" % (sid, cur)))
        node.wait_held(1)
        sent = a.publish("loop", {"i": i}).json()["id"]
        r = held()
        assert r.status == 200, (node.hf.tmpdir, r)
        body = r.json()
        assert body["session"] == sid
        got += [m["id"] for m in body["messages"]]
        assert got[-1] == sent
        cursor = body["cursor"]
    assert len(got) == len(set(got)) == 9


def test_a_newer_request_on_b_supersedes_the_one_held_on_a(trio):
    _, _, (a, b, _) = trio
    sid, cursor = new_session(a, "super")
    held = in_background(lambda: a.sub("super", "session=%s&cursor=%s" % (sid, cursor)))
    a.wait_held(1)
    newer = in_background(lambda: b.sub("super", "session=%s&cursor=%s" % (sid, cursor)))
    assert held(3.0).status == 409
    b.wait_held(1)
    b.publish("super", "hi")
    assert newer().status == 200


def test_delete_on_b_reaches_a_session_stream_on_a(trio):
    _, _, (a, b, _) = trio
    sid, _ = new_session(a, "del.s")
    s = Stream.held(a, "del.s", "transport=sse&session=" + sid)
    try:
        assert b.ctl("DELETE", "/channels/del.s").status in (200, 204)
        assert ended_within(s, 2.0)
        assert "event: deleted" in s.text()
    finally:
        s.close()


def test_killed_node_clients_resume_on_another_node_with_nothing_lost(trio):
    _, _, (a, b, _) = trio
    sid, _ = new_session(a, "crash")
    s = Stream.held(a, "crash", "transport=sse&session=" + sid)
    first = b.publish("crash", "one").json()["id"]
    s.wait_for(first)
    last_id = [line[4:] for line in s.text().splitlines() if line.startswith("id: ")][-1]
    a.hf.proc.send_signal(signal.SIGKILL)
    a.hf.proc.wait(timeout=5)
    s.close()
    missed = [b.publish("crash", w).json()["id"] for w in ("two", "three")]
    r = b.sub("crash", "transport=poll&session=" + sid, headers={"Last-Event-ID": last_id})
    assert r.status == 200
    assert ids(r) == missed
    # The session lives on: control on the surviving node knows it.
    assert b.ctl("POST", "/session/%s/close" % sid).status == 200


def test_sessions_balanced_by_lighttpd_over_three_nodes(trio):
    root, _, nodes = trio
    lt = multi_lighttpd(root, nodes)
    try:
        port = lt.port
        first = json.loads(harness.http(port, "GET", "/push/sub/lt?transport=poll&session=new").body)
        sid, cursor = first["session"], first["cursor"]
        seen = []
        for i in range(6):
            held = in_background(lambda cur=cursor: harness.http(
                port, "GET", "/push/sub/lt?session=%s&cursor=%s&timeout=5" % (sid, cur)))
            harness.wait_until(lambda: sum(n.stats()["held"]["total"] for n in nodes) == 1, 5,
                               what="one held")
            pub = harness.http(port, "POST", "/push/ctl/pub/lt", json.dumps(i),
                               {"Content-Type": "application/json",
                                "Authorization": "Bearer " + harness.PUBLISH_KEY})
            assert pub.status == 201
            r = held()
            assert r.status == 200, r
            body = json.loads(r.body)
            seen += [m["data"] for m in body["messages"]]
            cursor = body["cursor"]
        assert seen == list(range(6))
        # A poll held through lighttpd, closed on the control socket of a node not holding it.
        held = in_background(lambda: harness.http(
            port, "GET", "/push/sub/lt?session=%s&cursor=%s&timeout=5" % (sid, cursor)))
        harness.wait_until(lambda: sum(n.stats()["held"]["total"] for n in nodes) == 1, 5,
                           what="one held")
        other = [n for n in nodes if n.stats()["held"]["total"] == 0][0]
        assert other.ctl("POST", "/session/%s/close" % sid).status == 200
        r = held(2.0)
        assert r.status == 200 and json.loads(r.body).get("closed") == "session closed"
    finally:
        lt.stop()


def multi_lighttpd(root, nodes):
    """deploy/lighttpd/holdfast-multi.conf rendered for the nodes' sockets (RUN_DIR/N/...)."""
    d = os.path.join(root, "lighttpd")
    os.makedirs(d)
    assert [n.hf.data_socket for n in nodes] == [
        os.path.join(root, "run", str(i), "data.sock") for i in (1, 2, 3)]
    lt = harness.Lighttpd(d, None, None, fragment="holdfast-multi.conf",
                          values={"RUN_DIR": os.path.join(root, "run")})
    code, out = lt.check_config()
    assert code == 0, out
    return lt.start()


def test_session_record_in_redis_ttl_and_no_resurrection(trio):
    _, redis, (a, b, _) = trio
    sid, _ = new_session(a, "rec")
    key = "holdfast:session:{%s}" % sid

    def pttl():
        return int(redis.command("PTTL", key)[1:])
    assert 0 < pttl() <= 60000  # session_ttl (default 60 s) while detached
    s = Stream.held(a, "rec", "transport=sse&session=" + sid)
    try:
        harness.wait_until(lambda: pttl() > 60000, 2, what="held ttl")  # + the longest hold
        node = redis.raw("HGET", key, "node").split(b"\r\n")[1]
        assert len(node) == 12
        assert b.ctl("POST", "/session/%s/close" % sid).status == 200
        assert ended_within(s, 1.0)
    finally:
        s.close()
    a.wait_held(0)
    time.sleep(0.2)  # A's request release has run: it must not bring the session back
    assert redis.command("EXISTS", key) == b":0"
