"""Hostile and unlucky input, one test per class (docs/bad-input.md): every class gets its
status and message, the process keeps serving others, and nothing acknowledged is lost."""
import json
import os
import resource
import socket
import subprocess
import time

import pytest

import harness
import transport_helpers as th


def assert_error(r, status, code=None):
    assert r.status == status, (r.status, r.body[:300])
    body = r.json()
    assert body.get("message"), body
    if code:
        assert body["error"] == code, body
    return body


def oldest(env, channel):
    r = harness.fcgi_call(env.data_socket, "GET",
                          "/push/sub/%s?transport=poll&since=oldest" % channel)
    assert r.status == 200, r.body
    return r.json()["messages"]


def batch(env, items_or_text):
    body = items_or_text if isinstance(items_or_text, (str, bytes)) else json.dumps(items_or_text)
    return env.fcgi_ctl("POST", "/pub", body, content_type="application/json")


# ---- publish bodies -------------------------------------------------------------------------

@pytest.mark.holdfast(lighttpd=False)
def test_deeply_nested_json_is_refused_on_every_publish_path(env):
    deep = "[" * 150000 + "]" * 150000
    single = env.fcgi_ctl("POST", "/pub/deep", deep, content_type="application/json")
    assert "128" in assert_error(single, 400, "bad_json")["message"]
    nested_batch = '[{"channel":"deep","data":' + deep + "}]"
    assert "128" in assert_error(batch(env, nested_batch), 400, "bad_json")["message"]
    assert_error(batch(env, deep), 400)
    assert env.stats()["messages"]["published"] == 0  # still serving, nothing stored


@pytest.mark.holdfast(lighttpd=False)
def test_batch_items_are_validated_like_a_single_publish(env):
    bad_utf8 = b'[{"channel":"a","data":"\xff\xfe"}]'
    assert_error(batch(env, bad_utf8), 400, "bad_json")
    trailing = b'[{"channel":"a","data":1}]\x00garbage'
    assert_error(batch(env, trailing), 400, "bad_json")
    assert_error(batch(env, [{"channel": "a", "data": 1}, {"channel": "a b", "data": 2}]),
                 400, "bad_channel")
    assert oldest(env, "a") == [], "an item of a refused batch was published"


@pytest.mark.holdfast(args=["--buffer-bytes", "2048", "--memory-limit", "1MiB"], lighttpd=False)
def test_batch_item_over_buffer_bytes_refuses_the_whole_batch(env):
    items = [{"channel": "ok1", "data": 1}, {"channel": "ok2", "data": "z" * 4000},
             {"channel": "ok3", "data": 3}]
    body = assert_error(batch(env, items), 507, "too_large")
    assert "item 1" in body["message"] and "nothing was published" in body["message"], body
    for ch in ("ok1", "ok2", "ok3"):
        assert oldest(env, ch) == []
    assert batch(env, [items[0], items[2]]).status == 202


# ---- request heads ---------------------------------------------------------------------------

@pytest.mark.holdfast(lighttpd=False)
def test_params_over_64k_get_431_and_the_connection_keeps_serving(env):
    conn = harness.FcgiConnection(env.data_socket)
    try:
        headers = {"X-Big": "v" * 70000}
        conn.request("GET", "/push/sub/big?transport=poll", headers=headers, keep_conn=True)
        r = conn.read_response(1)
        assert_error(r, 431, "headers_too_large")
        conn.request("GET", "/push/sub/big?transport=poll", request_id=2, keep_conn=True)
        assert conn.read_response(2).status == 200
    finally:
        conn.close()


@pytest.mark.holdfast(args=["--request-timeout", "1"], lighttpd=False)
def test_a_half_sent_request_is_closed_after_request_timeout(env):
    half = harness.FcgiConnection(env.data_socket)
    idle = harness.FcgiConnection(env.data_socket)
    try:
        half.send(harness.fcgi_record(harness.FCGI_BEGIN_REQUEST, 1,
                                      b"\x00\x01\x00\x00\x00\x00\x00\x00")[:5])
        assert half.wait_closed(4.0), "a partial record kept its connection open"
        assert env.stats()["timeouts"] >= 1
        # an idle keep-alive connection (no partial record) is left alone
        assert not idle.wait_closed(1.5)
        idle.request("GET", "/push/sub/t?transport=poll", keep_conn=True)
        assert idle.read_response(1).status == 200
    finally:
        half.close()
        idle.close()


def test_data_mount_without_channel_is_400_and_lowercase_bearer_is_accepted(env):
    assert_error(env.http("GET", "/push/sub/"), 400, "bad_channel")
    r = env.http("POST", "/push/ctl/pub/lc", '{"a":1}',
                 {"Content-Type": "application/json", "Authorization": "bearer " + harness.PUBLISH_KEY})
    assert r.status == 202, r.body


# ---- resources -------------------------------------------------------------------------------

@pytest.mark.holdfast(args=["--max-output-buffer", "16MiB", "--max-output-total", "256KiB"],
                      lighttpd=False)
def test_slow_consumers_share_one_output_budget(env):
    raws = [th.small_rcvbuf_fcgi(env.data_socket, 4096) for _ in range(6)]
    try:
        for raw in raws:
            raw.request("GET", "/push/sub/slowall?transport=sse")
        env.wait_held(6, "sse")
        pad = "x" * 16384
        for i in range(60):
            r = env.fcgi_ctl("POST", "/pub/slowall", json.dumps({"n": i, "pad": pad}),
                             content_type="application/json")
            assert r.status in (201, 202), r.body
        s = env.stats()
        # each stream alone stays far below its 16 MiB cap; together they pass 256 KiB
        assert s["dropped"]["slow"] >= 1, s
        assert s["output_bytes"] <= 2 * (256 << 10) + 65536, s
    finally:
        for raw in raws:
            raw.close()


def test_control_socket_answers_while_data_connections_exhaust_descriptors(tmp_path):
    d = str(tmp_path)
    ctl, data = os.path.join(d, "control.sock"), os.path.join(d, "data.sock")
    limit = 160
    err = open(os.path.join(d, "stderr"), "wb")
    proc = subprocess.Popen(
        [harness.holdfast_binary(), "--control", "unix:" + ctl, "--data", "unix:" + data,
         "--trusted-control", "--poll-timeout", "30"],
        stdout=subprocess.DEVNULL, stderr=err,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)))
    conns, statuses = [], []
    try:
        harness.wait_until(lambda: os.path.exists(ctl) and os.path.exists(data), 10,
                           what="sockets")
        for i in range(limit + 40):
            c = harness.FcgiConnection(data, timeout=10)
            c.request("GET", "/push/sub/fd%d?transport=longpoll" % i)
            conns.append(c)
        time.sleep(0.5)
        start = time.monotonic()
        r = harness.fcgi_call(ctl, "GET", "/push/ctl/health", timeout=3)
        assert r.status == 200 and time.monotonic() - start < 1.0
        # data requests past the descriptor budget were answered 503, not left hanging
        for c in conns:
            try:
                statuses.append(c.read_response(1, timeout=0.2).status)
            except Exception:
                statuses.append(None)
        assert 503 in statuses, statuses
    finally:
        for c in conns:
            c.close()
        code, _ = harness.stop_process(proc)
        text = open(os.path.join(d, "stderr")).read()
        assert code == 0, text[-3000:]
        assert harness.sanitizer_report(text) is None
        assert text.count("file descriptors") <= 3, "the warning is not rate-limited"


# ---- capacity caps -------------------------------------------------------------------------

def data_poll(env, path):
    return harness.fcgi_call(env.data_socket, "GET", "/push/sub/" + path)


@pytest.mark.holdfast(args=["--max-channels", "40", "--channel-idle", "1"], lighttpd=False)
def test_channels_past_max_channels_get_503_and_idle_ones_are_collected(env):
    for i in range(40):
        assert data_poll(env, "new%d?transport=poll" % i).status == 200
    cursor = data_poll(env, "new0?transport=poll").json()["cursor"]
    over = data_poll(env, "new40?transport=poll")
    assert_error(over, 503, "too_many_channels")
    assert over.header("Retry-After") == "1"  # channel_idle
    assert_error(env.fcgi_ctl("POST", "/pub/new41", '{"a":1}', content_type="application/json"),
                 503, "too_many_channels")
    assert env.fcgi_ctl("POST", "/pub/new1", '{"a":1}',
                        content_type="application/json").status == 202  # existing: served
    s = env.stats()
    assert s["channels"] == 40 and s["refused"]["channels"] == 2, s
    metrics = env.fcgi_ctl("GET", "/metrics").body.decode()
    assert 'holdfast_refused_total{cap="max_channels"} 2' in metrics
    # empty, unsubscribed, never published: collected after channel_idle (1 s) + one sweep
    harness.wait_until(lambda: env.stats()["channels"] <= 1, 5, what="idle channels collected")
    assert data_poll(env, "new40?transport=poll").status == 200
    back = data_poll(env, "new0?transport=poll&cursor=" + cursor).json()
    assert "gap" not in back and back["cursor"] == cursor, back


@pytest.mark.holdfast(args=["--max-sessions", "5"], lighttpd=False)
def test_sessions_past_max_sessions_get_503(env):
    ids = []
    for _ in range(5):
        r = data_poll(env, "s?transport=poll&session=new")
        assert r.status == 200
        ids.append(r.json()["session"])
    assert_error(data_poll(env, "s?transport=poll&session=new"), 503, "too_many_sessions")
    assert data_poll(env, "s?transport=poll&session=" + ids[0]).status == 200
    assert data_poll(env, "s?transport=poll").status == 200
    s = env.stats()
    assert s["sessions"] == 5 and s["refused"]["sessions"] == 1, s


# Fixed overhead allowed on top of 1.25 x memory_limit (docs/performance.md, "Memory under
# publish churn"): allocator arenas and free lists, connection and request buffers.
CHURN_FIXED_OVERHEAD = 8 << 20


def vm_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s for pid %d" % (key, pid))


@pytest.mark.holdfast(args=["--memory-limit", "16MiB", "--buffer-messages", "100"],
                      lighttpd=False)
def test_rss_stays_within_the_memory_limit_under_publish_churn(env):
    pid = env.hf.proc.pid
    with open("/proc/%d/maps" % pid) as f:
        if "libasan" in f.read():
            pytest.skip("RSS bound is for a release build (ASan keeps freed memory)")
    baseline = vm_kib(pid, "VmRSS") * 1024
    conn = harness.FcgiConnection(env.control_socket, timeout=10)
    headers = {"Authorization": "Bearer " + harness.PUBLISH_KEY}
    pad = "x" * 10224
    deadline = time.monotonic() + 60
    try:
        for i in range(4800):  # 3 x 16 MiB of 10 KiB messages over 100 channels
            assert time.monotonic() < deadline, "churn took over 60 s"
            body = '{"n":%d,"p":"%s"}' % (i, pad)
            conn.request("POST", "/push/ctl/pub/churn%d" % (i % 100), body, headers,
                         keep_conn=True, content_type="application/json")
            assert conn.read_response(1).status == 202
    finally:
        conn.close()
    s = env.stats()
    assert s["messages"]["evicted"] > 0 and s["messages"]["buffered_bytes"] <= 16 << 20, s
    growth = vm_kib(pid, "VmRSS") * 1024 - baseline
    assert growth <= 1.25 * (16 << 20) + CHURN_FIXED_OVERHEAD, (growth, s)
