"""The control socket answers while 2,000 long-polls are held, and all of them get the publish
(DESIGN.md §1: control never waits behind data traffic).

Both paths run here:
  - "lighttpd": 2,000 HTTP clients through lighttpd (one backend connection each, as lighttpd
    never sets KEEP_CONN). The rendered test config uses server.max-fds 16384 /
    max-connections 8192 in one process, under this machine's hard limit of 20,000 open files;
    this process, lighttpd and holdfast each need about 2,000-4,000 descriptors.
  - "fastcgi": 2,000 raw FastCGI connections straight to the data socket.
Requests are opened in batches of 200, waiting for holdfast to hold each batch, so the
unix-socket backlog never overflows (lighttpd turns a refused backend connect into 503s).
"""

import json
import time

import pytest

import harness

HELD = 2000
BATCH = 200


@pytest.mark.holdfast(args=[], poll_timeout=60)
@pytest.mark.parametrize("path", ["lighttpd", "fastcgi"])
def test_control_answers_while_2000_longpolls_are_held(env, path):
    cursor = env.poll_cursor("crowd")
    uri = "/push/sub/crowd?transport=longpoll&cursor=" + cursor
    groups = []
    try:
        for start in range(0, HELD, BATCH):
            if path == "lighttpd":
                payload = harness.http_request_bytes("GET", uri, env.port)
                groups.append(harness.ManyRequests("http", env.port, [payload] * BATCH))
            else:
                payload = harness.fcgi_request_bytes("GET", uri)
                groups.append(harness.ManyRequests("fcgi", env.data_socket, [payload] * BATCH))
            env.wait_held(start + BATCH, timeout=15)

        # control requests while everything is held: each must answer in < 1 s
        t0 = time.monotonic()
        stats = env.ctl("GET", "/stats").json()
        stats_time = time.monotonic() - t0
        assert stats_time < 1.0, "stats took %.3fs with %d held" % (stats_time, HELD)
        assert stats["held"]["total"] == HELD and stats["held"]["longpoll"] == HELD, stats["held"]
        assert stats["connections"]["data"] >= HELD, stats["connections"]

        t0 = time.monotonic()
        r = env.publish("crowd", {"to": "everyone"})
        publish_time = time.monotonic() - t0
        assert publish_time < 1.0, "publish took %.3fs with %d held" % (publish_time, HELD)
        assert r.status == 201, r
        assert r.json()["subscribers"] == HELD, r.json()

        t0 = time.monotonic()
        raw_stats = env.fcgi_ctl("GET", "/stats")
        assert time.monotonic() - t0 < 1.0
        assert raw_stats.status == 200

        # every held request receives the message
        delivered = 0
        failures = []
        for g in groups:
            for raw in g.collect(timeout=max(1.0, 20.0 - (time.monotonic() - t0))):
                if path == "lighttpd":
                    status, _, body = harness.parse_http_response(raw) if raw else (None, {}, b"")
                else:
                    status, _, body, ended = harness.parse_fcgi_stream_response(raw)
                    if not ended:
                        status = "no END_REQUEST"
                try:
                    msgs = json.loads(body)["messages"] if status == 200 else None
                except ValueError:
                    msgs = None
                if msgs and [m["data"] for m in msgs] == [{"to": "everyone"}]:
                    delivered += 1
                elif len(failures) < 5:
                    failures.append((status, raw[:300]))
        assert delivered == HELD, "%d of %d held requests got the message; first failures: %r" \
            % (delivered, HELD, failures)
        env.wait_held(0, timeout=5)
        s = env.stats()
        assert s["messages"]["delivered"] == HELD, s["messages"]
    finally:
        for g in groups:
            g.close()
