"""The Redis engine: two holdfast nodes on one real redis-server serve one set of channels.

Talks FastCGI to each node's sockets directly (no web server). Every process runs on loopback
or unix sockets in a temporary directory and is stopped by PID.
"""

import json
import os
import shutil
import signal
import tempfile
import threading
import time

import pytest

import harness
from harness import PUBLISH_KEY
from redis_server import RedisServer
from tcp_proxy import TcpProxy

AUTH = {"Authorization": "Bearer " + PUBLISH_KEY}


class Node:
    """One holdfast process on the shared Redis."""

    def __init__(self, root, name, redis_url, extra=(), env=None):
        d = os.path.join(root, name)
        os.makedirs(d)
        self.hf = harness.Holdfast(d, ["--redis", redis_url] + list(extra), poll_timeout=5)
        self.env = env or {}

    def start(self):
        saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        try:
            self.hf.start()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        harness.wait_until(lambda: self.health() == 200, 10, what="redis connected")
        return self

    def ctl(self, method, route, body=b"", content_type=None, timeout=10.0):
        return harness.fcgi_call(self.hf.control_socket, method, "/push/ctl" + route, body, AUTH,
                                 content_type, timeout)

    def publish(self, channel, data, timeout=10.0):
        return self.ctl("POST", "/pub/" + channel, json.dumps(data), "application/json", timeout)

    def sub(self, channels, query="", headers=None, timeout=10.0):
        uri = "/push/sub/" + channels + ("?" + query if query else "")
        return harness.fcgi_call(self.hf.data_socket, "GET", uri, b"", headers, None, timeout)

    def health(self):
        try:
            return self.ctl("GET", "/health", timeout=2).status
        except Exception:  # noqa: BLE001 - not up yet
            return None

    def stats(self):
        return self.ctl("GET", "/stats").json()

    def wait_held(self, n, timeout=5.0):
        harness.wait_until(lambda: self.stats()["held"]["total"] == n, timeout,
                           what="held == %d" % n)


def in_background(fn):
    box = {}

    def run():
        try:
            box["result"] = fn()
        except Exception as e:  # noqa: BLE001 - reported by result()
            box["error"] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()

    def result(timeout=15.0):
        t.join(timeout)
        assert not t.is_alive(), "background request did not finish"
        if "error" in box:
            raise box["error"]
        return box["result"]
    return result


class Stream:
    """A held streaming request (SSE) on a node's data socket, read in a thread."""

    def __init__(self, node, channels, query="transport=sse"):
        self.conn = harness.FcgiConnection(node.hf.data_socket, 30)
        self.conn.request("GET", "/push/sub/" + channels + "?" + query)
        self.data = b""
        self.ended = False
        self.lock = threading.Lock()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        try:
            while True:
                rec = self.conn.read_record(30)
                if rec is None or rec[0] == harness.FCGI_END_REQUEST:
                    break
                if rec[0] == harness.FCGI_STDOUT:
                    with self.lock:
                        self.data += rec[2]
        except Exception:  # noqa: BLE001 - the test sees what arrived
            pass
        self.ended = True

    def text(self):
        with self.lock:
            return self.data.decode("utf-8", "replace")

    def wait_for(self, needle, timeout=10.0):
        harness.wait_until(lambda: needle in self.text(), timeout, what=repr(needle))

    def close(self):
        self.conn.close()

    @classmethod
    def held(cls, node, channels, query="transport=sse"):
        """A stream that got its hello and is held on `node` (its only held request)."""
        s = cls(node, channels, query)
        try:
            s.wait_for("hello")
            node.wait_held(1)
        except BaseException:
            s.close()
            raise
        return s


@pytest.fixture
def cluster(request):
    root = tempfile.mkdtemp(prefix="hf-r-")
    redis = RedisServer(root).start()
    nodes = []
    try:
        for name in ("a", "b"):
            nodes.append(Node(root, name, redis.url).start())
        yield redis, nodes[0], nodes[1]
    finally:
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            for n in nodes:
                print("---- node %s stderr ----\n%s" % (n.hf.tmpdir, n.hf.stderr()[-3000:]))
        problems = []
        for n in nodes:
            problems += n.hf.stop()
            if problems:
                print(n.hf.stderr()[-4000:])
        redis.stop()
        shutil.rmtree(root, ignore_errors=True)
    assert not problems, problems


def ids(resp):
    return [m["id"] for m in resp.json()["messages"]]


def test_longpoll_on_a_woken_by_publish_on_b(cluster):
    _, a, b = cluster
    cursor = a.sub("room", "transport=poll").json()["cursor"]
    held = in_background(lambda: a.sub("room", "cursor=" + cursor))
    a.wait_held(1)
    r = b.publish("room", {"hello": 1})
    assert r.status == 201, r
    got = held()
    assert got.status == 200
    body = got.json()
    assert [m["data"] for m in body["messages"]] == [{"hello": 1}]
    assert body["messages"][0]["id"] == r.json()["id"]


def test_sse_on_a_gets_publishes_from_b_in_order(cluster):
    _, a, b = cluster
    s = Stream.held(a, "feed")
    try:
        pub_ids = [b.publish("feed", {"n": i}).json()["id"] for i in range(5)]
        for pid in pub_ids:
            s.wait_for('"id":"%s"' % pid)
        text = s.text()
        positions = [text.index('"id":"%s"' % pid) for pid in pub_ids]
        assert positions == sorted(positions)
        assert text.count('"id":"%s"' % pub_ids[0]) == 1
    finally:
        s.close()


def test_no_subscriber_gives_202_and_ids_agree_across_nodes(cluster):
    _, a, b = cluster
    first = a.publish("ids", 1)
    assert first.status == 202
    second = b.publish("ids", 2)
    epoch, seq = first.json()["id"].rsplit("-", 1)
    assert second.json()["id"] == "%s-%d" % (epoch, int(seq) + 1)
    assert a.ctl("GET", "/channels/ids").json()["last_id"] == second.json()["id"]
    assert b.ctl("GET", "/channels/ids").json()["last_id"] == second.json()["id"]


def test_resume_on_b_gets_exactly_the_missed_messages(cluster):
    _, a, b = cluster
    a.publish("resume", "m1")
    got = a.sub("resume", "transport=poll&since=oldest").json()
    cursor = got["cursor"]
    missed = [a.publish("resume", "m%d" % i).json()["id"] for i in (2, 3, 4)]
    r = b.sub("resume", "transport=poll&cursor=" + cursor)
    assert ids(r) == missed
    assert r.json().get("gap", []) == []
    again = b.sub("resume", "transport=poll&cursor=" + r.json()["cursor"])
    assert ids(again) == []


def test_unknown_epoch_gives_a_gap(cluster):
    _, a, b = cluster
    a.publish("gapped", 1)
    r = b.sub("gapped", "transport=poll&cursor=gapped:XXXXXXXX-3").json()
    assert r["gap"][0]["reason"] == "epoch"
    assert len(r["messages"]) == 1


def test_publish_while_redis_down_is_503_and_held_recover(cluster):
    redis, a, b = cluster
    s = Stream.held(a, "durable")
    try:
        before = b.publish("durable", "before").json()["id"]
        s.wait_for(before)
        redis.stop()
        harness.wait_until(lambda: b.health() == 503, 10, what="health 503")
        down = b.publish("durable", "lost?")
        assert down.status == 503
        assert "Retry-After" in down.headers or "retry-after" in {k.lower() for k in down.headers}
        assert a.sub("durable", "transport=poll").status == 503
        assert a.ctl("GET", "/channels/durable").status == 503
        assert a.stats()["held"]["total"] == 1  # the stream stays held
        redis.start()
        harness.wait_until(lambda: b.health() == 200 and a.health() == 200, 15,
                           what="nodes reconnected")
        after = b.publish("durable", "after").json()["id"]
        s.wait_for(after, 10)
        assert before.rsplit("-", 1)[0] == after.rsplit("-", 1)[0]  # AOF kept the epoch
        assert "lost?" not in s.text()
    finally:
        s.close()


def test_redis_crash_loses_nothing_acknowledged(cluster):
    redis, a, b = cluster
    acked = [a.publish("crash", i).json()["id"] for i in range(20)]
    redis.kill()
    redis.start()
    harness.wait_until(lambda: b.health() == 200, 15, what="b reconnected")
    r = b.sub("crash", "transport=poll&since=oldest").json()
    assert [m["id"] for m in r["messages"]] == acked


def test_longpoll_held_across_redis_restart_gets_message(cluster):
    redis, a, b = cluster
    cursor = a.sub("lp", "transport=poll").json()["cursor"]
    held = in_background(lambda: a.sub("lp", "timeout=20&cursor=" + cursor, timeout=30))
    a.wait_held(1)
    redis.stop()
    harness.wait_until(lambda: a.health() == 503, 10, what="a sees redis down")
    redis.start()
    harness.wait_until(lambda: a.health() == 200 and b.health() == 200, 15, what="reconnected")
    r = b.publish("lp", "back")
    assert r.status in (201, 202)
    got = held(30)
    assert [m["data"] for m in got.json()["messages"]] == ["back"]


def test_silently_dead_pubsub_link_is_dropped_and_held_recover(cluster):
    # Node c reaches Redis through a relay that then stops relaying its pub/sub connection
    # without closing it (packets lost on the way): no error ever comes. The node's echo check
    # must notice (5-7 s), reconnect, and catch its held subscribers up from Redis.
    redis, a, _ = cluster
    proxy = TcpProxy(redis.port)
    c = Node(os.path.dirname(a.hf.tmpdir), "c", proxy.url)
    try:
        c.start()
        s = Stream.held(c, "quiet")
        try:
            first = a.publish("quiet", "first").json()["id"]
            s.wait_for(first)
            proxy.freeze(b"SUBSCRIBE")
            during = a.publish("quiet", "during").json()["id"]
            time.sleep(1)
            assert during not in s.text()  # the frozen link brings nothing
            s.wait_for(during, 15)  # dropped, reconnected, caught up
            assert s.text().count('"data":"during"') == 1  # once, not twice
            after = a.publish("quiet", "after").json()["id"]
            s.wait_for(after, 5)
            assert c.stats()["redis"]["reconnects"] >= 1
            assert "brought no echo" in c.hf.stderr()
            assert proxy.connections_sent(b"SUBSCRIBE") >= 2
        finally:
            s.close()
    finally:
        problems = c.hf.stop()
        proxy.stop()
    assert not problems, problems


def test_delete_reaches_subscribers_on_both_nodes(cluster):
    _, a, b = cluster
    a.publish("gone", 1)
    sa = Stream(a, "gone")
    sb = Stream(b, "gone")
    try:
        sa.wait_for("hello")
        sb.wait_for("hello")
        a.wait_held(1)
        b.wait_held(1)
        r = a.ctl("DELETE", "/channels/gone")
        assert r.status in (200, 204), r
        sa.wait_for("deleted")
        sb.wait_for("deleted")
        assert a.ctl("GET", "/channels/gone").status == 404
    finally:
        sa.close()
        sb.close()


def test_channel_list_and_stats_report_redis(cluster):
    _, a, b = cluster
    for ch in ("list.b", "list.a", "list.c"):
        b.publish(ch, 1)
    names = [c["channel"] for c in a.ctl("GET", "/channels").json()["channels"]]
    assert names == sorted(names)
    assert {"list.a", "list.b", "list.c"} <= set(names)
    s = a.stats()
    assert s["redis"]["connected"] == 1
    metrics = a.ctl("GET", "/metrics").body.decode()
    assert "holdfast_redis_connected 1" in metrics


def test_sse_resumes_on_b_with_last_event_id(cluster):
    _, a, b = cluster
    s = Stream.held(a, "sse.resume")
    try:
        first = a.publish("sse.resume", "one").json()["id"]
        s.wait_for(first)
        last_id = [line[4:] for line in s.text().splitlines() if line.startswith("id: ")][-1]
    finally:
        s.close()
    missed = [a.publish("sse.resume", w).json()["id"] for w in ("two", "three")]
    r = b.sub("sse.resume", "transport=poll", headers={"Last-Event-ID": last_id})
    assert ids(r) == missed


def test_script_cache_flushed_publish_still_works(cluster):
    redis, a, b = cluster
    assert a.publish("flush", 1).status == 202
    assert redis.command("SCRIPT", "FLUSH") == b"+OK"
    r = a.publish("flush", 2)
    assert r.status == 202, r
    assert b.sub("flush", "transport=poll&since=oldest").json()["messages"][1]["data"] == 2


def test_history_limits_apply_in_redis(cluster):
    _, a, b = cluster
    for i in range(105):
        a.publish("capped", i)
    r = b.sub("capped", "transport=poll&since=oldest").json()
    assert len(r["messages"]) == 100  # buffer_messages default
    assert r["messages"][0]["data"] == 5
    old = r["messages"][0]["id"].rsplit("-", 1)[0] + "-1"
    g = b.sub("capped", "transport=poll&cursor=capped:" + old).json()
    assert g["gap"][0]["reason"] == "evicted"
    info = a.ctl("GET", "/channels/capped").json()
    assert info["messages"] == 100 and info["last_seq"] == 105


@pytest.mark.parametrize("how", ["file", "env", "url"])
def test_password_and_unix_socket(how):
    root = tempfile.mkdtemp(prefix="hf-r-")
    redis = RedisServer(root, password="s3cret-pw").start()
    node = None
    try:
        url, extra, env = "unix:" + redis.socket_path, [], {}
        if how == "file":
            pw = os.path.join(root, "pw")
            with open(pw, "w") as f:
                f.write("s3cret-pw\n")
            extra = ["--redis-password-file", pw]
        elif how == "env":
            env = {"HOLDFAST_REDIS_PASSWORD": "s3cret-pw"}
        else:
            url = "redis://:s3cret-pw@127.0.0.1:%d/3" % redis.port
        node = Node(root, "n", url, extra, env).start()
        assert node.publish("pw", 1).status == 202
        assert "s3cret-pw" not in node.hf.stderr()
    finally:
        problems = node.hf.stop() if node else []
        redis.stop()
        shutil.rmtree(root, ignore_errors=True)
    assert not problems, problems


def test_bad_redis_url_fails_at_start():
    root = tempfile.mkdtemp(prefix="hf-r-")
    try:
        hf = harness.Holdfast(root, ["--redis", "redis://:pw@host:99999"])
        with pytest.raises(AssertionError) as e:
            hf.start()
        assert "bad port" in hf.stderr() and ":pw@" not in hf.stderr()
        assert "bad port" in str(e.value)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_expired_channels_leave_the_list(cluster):
    redis, a, _ = cluster
    a.publish("short.lived", 1)
    assert redis.command("ZSCORE", "holdfast:channels", "short.lived") == b"$1"
    # What key expiry does after 2 x buffer_age of silence:
    redis.command("DEL", "holdfast:{short.lived}:meta", "holdfast:{short.lived}:log")
    harness.wait_until(lambda: redis.command("ZSCORE", "holdfast:channels", "short.lived")
                       == b"$-1", 5, what="name pruned")
    assert a.ctl("GET", "/channels/short.lived").status == 404


def test_publish_to_several_channels_across_nodes(cluster):
    _, a, b = cluster
    cursor = b.sub("multi.x,multi.y", "transport=poll").json()["cursor"]
    held = in_background(lambda: b.sub("multi.x,multi.y", "cursor=" + cursor))
    b.wait_held(1)
    r = a.ctl("POST", "/pub/multi.x,multi.y", json.dumps({"k": 1}), "application/json")
    assert r.status == 201, r
    results = r.json()["results"]
    assert [x["channel"] for x in results] == ["multi.x", "multi.y"]
    got = held().json()
    assert got["messages"][0]["data"] == {"k": 1}
    rest = b.sub("multi.x,multi.y", "transport=poll&cursor=" + cursor).json()
    assert sorted(m["id"] for m in rest["messages"]) == sorted(x["id"] for x in results)


def test_through_lighttpd_on_node_a(cluster):
    _, a, b = cluster
    lt = harness.Lighttpd(a.hf.tmpdir, a.hf.control_socket, a.hf.data_socket).start()
    try:
        cursor = json.loads(harness.http(lt.port, "GET", "/push/sub/web?transport=poll").body)[
            "cursor"]
        held = in_background(lambda: harness.http(lt.port, "GET",
                                                  "/push/sub/web?cursor=" + cursor))
        a.wait_held(1)
        assert b.publish("web", {"via": "b"}).status == 201
        resp = held()
        assert resp.status == 200
        assert json.loads(resp.body)["messages"][0]["data"] == {"via": "b"}
        # The node unsubscribes once its last subscriber is gone: no receiver, 202.
        harness.wait_until(lambda: a.stats()["channels"] == 0, 5, what="a unsubscribed")
        pub = harness.http(lt.port, "POST", "/push/ctl/pub/web", json.dumps(2),
                           {"Content-Type": "application/json", **AUTH})
        assert pub.status == 202
    finally:
        lt.stop()


def test_longpoll_loop_on_a_misses_nothing_while_b_publishes_fast(cluster):
    _, a, b = cluster
    n = 150
    cursor = a.sub("burst", "transport=poll").json()["cursor"]
    publisher = in_background(lambda: [b.publish("burst", i).json()["id"] for i in range(n)])
    got = []
    deadline = time.monotonic() + 30
    while len(got) < n and time.monotonic() < deadline:
        r = a.sub("burst", "cursor=" + cursor, timeout=15)
        assert r.status == 200, r
        body = r.json()
        assert not body.get("gap"), body
        got += [m["id"] for m in body["messages"]]
        cursor = body["cursor"]
    assert got == publisher()


def test_streams_on_both_nodes_get_every_message_once_in_order(cluster):
    _, a, b = cluster
    streams = [Stream(a, "both"), Stream(b, "both")]
    try:
        for s in streams:
            s.wait_for("hello")
        a.wait_held(1)
        b.wait_held(1)
        from_a = in_background(lambda: [a.publish("both", "a%d" % i).json()["id"]
                                        for i in range(40)])
        from_b = in_background(lambda: [b.publish("both", "b%d" % i).json()["id"]
                                        for i in range(40)])
        all_ids = from_a() + from_b()
        seqs = sorted(int(i.rsplit("-", 1)[1]) for i in all_ids)
        assert seqs == list(range(seqs[0], seqs[0] + 80))
        last = max(all_ids, key=lambda i: int(i.rsplit("-", 1)[1]))
        for s in streams:
            s.wait_for('"id":"%s"' % last)
            text = s.text()
            seen = [int(line.split('"id":"')[1].split('"')[0].rsplit("-", 1)[1])
                    for line in text.splitlines() if line.startswith("data: ")
                    and '"type":"message"' in line]
            assert seen == sorted(set(seen)) and len(seen) == 80, seen
    finally:
        for s in streams:
            s.close()


def test_redis_restart_during_publishing_loses_nothing_acknowledged(cluster):
    redis, a, b = cluster
    s = Stream.held(a, "churn")
    try:
        acked, refused = [], 0

        def publish_all():
            nonlocal refused
            for i in range(60):
                while True:
                    r = b.publish("churn", i)
                    if r.status in (201, 202):
                        acked.append(r.json()["id"])
                        break
                    assert r.status == 503, r
                    refused += 1
                    time.sleep(0.05)
                if i == 20:
                    redis.stop()
                    restart.set()

        restart = threading.Event()
        done = in_background(publish_all)
        assert restart.wait(20)
        time.sleep(0.3)
        redis.start()
        done(60)
        assert refused > 0
        s.wait_for('"id":"%s"' % acked[-1], 15)
        seen = [line.split('"id":"')[1].split('"')[0] for line in s.text().splitlines()
                if line.startswith("data: ") and '"type":"message"' in line]
        assert set(acked) <= set(seen)
        seqs = [int(i.rsplit("-", 1)[1]) for i in seen]
        assert seqs == sorted(set(seqs))  # in order, no duplicates
    finally:
        s.close()


def test_last_n_and_sighup_limits(cluster):
    _, a, b = cluster
    for i in range(6):
        a.publish("lastn", i)
    r = b.sub("lastn", "transport=poll&last=2").json()
    assert [m["data"] for m in r["messages"]] == [4, 5]
    b.hf.signal(signal.SIGHUP)  # same flags: nothing changes, no error
    time.sleep(0.2)
    assert b.publish("lastn", 6).status == 202
    assert "reload rejected" not in b.hf.stderr()


def test_history_lost_in_redis_reaches_held_subscribers_as_a_gap(cluster):
    redis, a, b = cluster
    s = Stream.held(a, "lost")
    try:
        old = [b.publish("lost", i).json()["id"] for i in range(3)]
        s.wait_for(old[-1])
        cursor = "lost:" + old[-1]
        held = in_background(lambda: a.sub("lost", "cursor=" + cursor))
        a.wait_held(2)
        assert redis.command("FLUSHALL") == b"+OK"  # Redis came back without the history
        new = b.publish("lost", "new").json()["id"]
        assert new.rsplit("-", 1)[0] != old[0].rsplit("-", 1)[0]
        s.wait_for('"id":"%s"' % new)
        text = s.text()
        assert text.index('"type":"gap"') < text.index('"id":"%s"' % new)
        assert '"reason":"epoch"' in text
        # The held long-poll is answered with no messages; its next request gets the gap.
        first = held().json()
        assert first["messages"] == [] and first["cursor"] == cursor
        again = a.sub("lost", "transport=poll&cursor=" + cursor).json()
        assert again["gap"][0]["reason"] == "epoch"
        assert [m["id"] for m in again["messages"]] == [new]
    finally:
        s.close()


def test_channel_keys_expire_and_reads_write_nothing(cluster):
    redis, a, b = cluster
    a.publish("ttl", 1)
    for key in ("holdfast:{ttl}:meta", "holdfast:{ttl}:log"):
        ttl = int(redis.command("PTTL", key)[1:])
        assert 7000 * 1000 < ttl <= (2 * 3600 + 60) * 1000
    def aof_size():
        info = redis.raw("INFO", "persistence")
        return int(info.split(b"aof_current_size:")[1].split(b"\r\n")[0])
    size = aof_size()
    for _ in range(5):
        assert b.sub("ttl", "transport=poll&since=oldest").status == 200
    assert aof_size() == size  # reads appended nothing to the AOF
    a.publish("ttl", 2)
    assert aof_size() > size


def test_reads_near_the_head_are_answered_from_the_nodes_memory(cluster):
    """docs/redis.md, "Reads served by the node": with a stream keeping A subscribed, a
    long-poll coming back near the head is answered from the messages A's pub/sub brought, the
    same answer Redis gives B; at the head a plain poll (which does not wait) asks Redis and a
    waiting long-poll is held from memory."""
    _, a, b = cluster

    def reads():
        r = a.stats()["redis"]
        return r["reads_from_memory"], r["reads_from_redis"]

    stream = Stream.held(a, "mem")
    try:
        first = b.publish("mem", 1).json()["id"]
        second = b.publish("mem", 2).json()["id"]
        stream.wait_for('"id":"%s"' % second)  # 2 reached A over pub/sub
        after_first = "mem:" + first
        memory, redis = reads()
        held = a.sub("mem", "transport=longpoll&cursor=" + after_first, timeout=10).json()
        assert reads() == (memory + 1, redis)
        # B has no subscriber on the channel: Redis answers it, and the same way.
        polled = b.sub("mem", "transport=poll&cursor=" + after_first).json()
        assert [m["id"] for m in held["messages"]] == [second]
        assert held["messages"] == polled["messages"] and held["cursor"] == polled["cursor"]
        assert not held.get("gap") and not polled.get("gap")
        # At the head: a plain poll asks Redis; a waiting long-poll is held from memory.
        at_head = held["cursor"]
        assert a.sub("mem", "transport=poll&cursor=" + at_head).json()["messages"] == []
        assert reads() == (memory + 1, redis + 1)
        waiting = in_background(lambda: a.sub("mem", "cursor=" + at_head, timeout=10))
        a.wait_held(2)
        assert reads() == (memory + 2, redis + 1)
        third = b.publish("mem", 3).json()["id"]
        assert [m["id"] for m in waiting().json()["messages"]] == [third]
    finally:
        stream.close()
