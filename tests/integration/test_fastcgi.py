"""holdfast's sockets spoken to directly: the raw FastCGI client in harness.py and libfcgi's
cgi-fcgi. Disconnects, FCGI_ABORT_REQUEST, garbage, multiplexing, GET_VALUES, KEEP_CONN,
STDOUT record splitting (DESIGN.md §4, §6; WEBSERVERS.md §1-3)."""

import json
import random
import socket
import struct
import time

import pytest

import harness
from harness import (FcgiConnection, fcgi_nv, fcgi_record, fcgi_stream, cgi_params,
                     FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_GET_VALUES,
                     FCGI_GET_VALUES_RESULT, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT,
                     FCGI_UNKNOWN_TYPE, FCGI_AUTHORIZER, FCGI_FILTER, FCGI_UNKNOWN_ROLE,
                     FCGI_REQUEST_COMPLETE, FCGI_MAX_CONTENT)


def held_fcgi(env, uri, held_before=0, keep_conn=False, request_id=1):
    """A long-poll held on its own raw connection to the data socket."""
    conn = FcgiConnection(env.data_socket, timeout=10)
    conn.request("GET", uri, request_id=request_id, keep_conn=keep_conn)
    env.wait_held(held_before + 1)
    return conn


# ---------------------------------------------------------------------------------------------
# a plain request/response


def test_publish_and_longpoll_over_raw_fastcgi(env):
    conn = held_fcgi(env, "/push/sub/raw?transport=longpoll")
    r = env.fcgi_ctl("POST", "/pub/raw", b'{"k":"v"}', content_type="application/json")
    assert r.status == 201, r
    assert r.protocol_status == FCGI_REQUEST_COMPLETE
    got = conn.read_response(1, timeout=5)
    assert got.status == 200 and got.protocol_status == FCGI_REQUEST_COMPLETE, got
    assert got.header("content-type").startswith("application/json")
    assert "no-store" in got.header("cache-control")
    # DESIGN §3: every response carries X-Accel-Buffering: no (nginx strips it; lighttpd not)
    assert got.header("x-accel-buffering") == "no", got.headers
    assert r.header("x-accel-buffering") == "no", r.headers
    assert [m["data"] for m in got.json()["messages"]] == [{"k": "v"}]
    conn.close()


def test_keep_conn_0_closes_after_end_request(env):
    conn = FcgiConnection(env.control_socket)
    conn.request("GET", "/push/ctl/health")
    assert conn.read_response(1).status == 200
    assert conn.wait_closed(2.0), "KEEP_CONN=0: holdfast must close after END_REQUEST"
    conn.close()


def test_keep_conn_1_serves_several_requests(env):
    conn = FcgiConnection(env.control_socket)
    for i in range(1, 4):
        conn.request("POST", "/push/ctl/pub/kc", str(i).encode(), request_id=1, keep_conn=True,
                     headers={"Authorization": "Bearer testkey"},
                     content_type="application/json")
        r = conn.read_response(1)
        assert r.status == 202 and r.json()["id"].endswith("-%d" % i), r
    assert not conn.wait_closed(0.3), "KEEP_CONN=1: the connection must stay open"
    conn.close()


def test_multiplexed_requests_on_one_connection(env):
    conn = FcgiConnection(env.data_socket)
    # Request 1: a held long-poll; request 2 on the same connection: a poll answered at once.
    conn.request("GET", "/push/sub/mux?transport=longpoll", request_id=1, keep_conn=True)
    conn.request("GET", "/push/sub/mux?transport=poll", request_id=2, keep_conn=True)
    r2 = conn.read_response(2, timeout=5)
    assert r2.status == 200 and r2.json()["messages"] == []
    env.wait_held(1)
    assert env.publish("mux", {"m": 1}).status == 201
    r1 = conn.read_response(1, timeout=5)
    assert [m["data"] for m in r1.json()["messages"]] == [{"m": 1}]
    conn.close()


def test_params_and_stdin_split_across_records_and_writes(env):
    conn = FcgiConnection(env.control_socket)
    body = json.dumps({"split": "x" * 3000}).encode()
    p = cgi_params("POST", "/push/ctl/pub/split", body, {"Authorization": "Bearer testkey"},
                   content_type="application/json")
    nv = b"".join(fcgi_nv(k, v) for k, v in p.items())
    data = fcgi_record(FCGI_BEGIN_REQUEST, 1, struct.pack("!HB5x", 1, 0))
    data += fcgi_stream(FCGI_PARAMS, 1, nv, chunk=7)     # name-value pairs cut mid-pair
    data += fcgi_stream(FCGI_STDIN, 1, body, chunk=1000)
    for i in range(0, len(data), 13):                    # and records cut mid-header
        conn.send(data[i:i + 13])
    r = conn.read_response(1, timeout=5)
    assert r.status == 202, r
    conn.close()
    msgs = env.sub("split", transport="poll", since="oldest").json()["messages"]
    assert msgs[0]["data"] == {"split": "x" * 3000}


@pytest.mark.holdfast(args=["--buffer-messages", "1000"])
def test_large_response_split_into_records_of_at_most_65535(env):
    batch = [{"channel": "huge", "event": "message", "data": "y" * 200} for _ in range(1000)]
    assert env.ctl("POST", "/pub", json.dumps(batch),
                   {"Content-Type": "application/json"}).status == 202
    conn = FcgiConnection(env.data_socket)
    conn.request("GET", "/push/sub/huge?transport=poll&since=oldest")
    r = conn.read_response(1, timeout=10)
    stdout_records = [n for t, n in r.records if t == FCGI_STDOUT]
    assert len(r.body) > 200000
    assert len(stdout_records) >= 4 and max(stdout_records) <= FCGI_MAX_CONTENT, stdout_records
    assert len(r.json()["messages"]) == 1000
    conn.close()


# ---------------------------------------------------------------------------------------------
# management records and roles


def test_get_values(env):
    conn = FcgiConnection(env.data_socket)
    query = fcgi_nv("FCGI_MAX_CONNS", "") + fcgi_nv("FCGI_MAX_REQS", "") + \
        fcgi_nv("FCGI_MPXS_CONNS", "")
    conn.send(fcgi_record(FCGI_GET_VALUES, 0, query))
    rec = conn.read_record(timeout=2)
    assert rec is not None, "no GET_VALUES_RESULT"
    rtype, rid, content = rec
    assert rtype == FCGI_GET_VALUES_RESULT and rid == 0, rec
    values = harness.fcgi_parse_nv(content)
    assert set(values) == {"FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS"}, values
    assert values["FCGI_MPXS_CONNS"] == "1", values
    assert int(values["FCGI_MAX_CONNS"]) > 0 and int(values["FCGI_MAX_REQS"]) > 0
    conn.close()


def test_unknown_management_record_gets_unknown_type(env):
    conn = FcgiConnection(env.control_socket)
    conn.send(fcgi_record(77, 0, b"whatever"))
    rec = conn.read_record(timeout=2)
    assert rec is not None and rec[0] == FCGI_UNKNOWN_TYPE and rec[1] == 0, rec
    assert rec[2][0] == 77, rec
    # the connection is still usable
    conn.request("GET", "/push/ctl/health")
    assert conn.read_response(1).status == 200
    conn.close()


@pytest.mark.parametrize("role", [FCGI_AUTHORIZER, FCGI_FILTER, 99])
def test_unsupported_role_is_refused(env, role):
    conn = FcgiConnection(env.data_socket)
    conn.begin(1, role=role)
    rec = conn.read_record(timeout=2)
    assert rec is not None and rec[0] == FCGI_END_REQUEST and rec[1] == 1, rec
    assert struct.unpack("!IB3x", rec[2])[1] == FCGI_UNKNOWN_ROLE
    conn.close()


# ---------------------------------------------------------------------------------------------
# clients that leave


def test_connection_close_releases_held_request_within_1s(env):
    conn = held_fcgi(env, "/push/sub/bye?transport=longpoll")
    conn.close()
    t0 = time.monotonic()
    env.wait_held(0, timeout=1.0)
    assert time.monotonic() - t0 < 1.0
    # and the channel no longer counts it
    info = env.ctl("GET", "/channels/bye").json()
    assert info.get("subscribers", 0) == 0, info
    assert env.publish("bye", 1).status == 202


def test_abort_request_releases_held_request(env):
    conn = held_fcgi(env, "/push/sub/abrt?transport=longpoll", keep_conn=True)
    conn.abort(1)
    r = conn.read_response(1, timeout=2)  # END_REQUEST must come back
    assert r.protocol_status == FCGI_REQUEST_COMPLETE, r
    env.wait_held(0, timeout=1.0)
    assert env.publish("abrt", 1).status == 202
    conn.close()


def test_close_through_lighttpd_released_at_poll_timeout(env):
    # lighttpd does not tell the backend that a held long-poll's client left (WEBSERVERS.md §2):
    # holdfast releases it when the poll times out (--poll-timeout 2), and keeps serving.
    s = socket.create_connection(("127.0.0.1", env.port), timeout=5)
    s.sendall(harness.http_request_bytes("GET", "/push/sub/lt?transport=longpoll", env.port))
    env.wait_held(1)
    s.close()
    env.wait_held(0, timeout=4.0)
    assert env.stats()["held"]["total"] == 0
    assert env.sub("lt", transport="poll").status == 200


# ---------------------------------------------------------------------------------------------
# garbage


GARBAGE = {
    # version byte 0xff, then noise
    "random_bytes": b"\xff" + random.Random(1234).randbytes(4095),
    "http_on_fastcgi": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "bad_version": struct.pack("!BBHHBx", 2, FCGI_BEGIN_REQUEST, 1, 8, 0) + b"\0\1\0\0\0\0\0\0",
    "begin_request_too_short": struct.pack("!BBHHBx", 1, FCGI_BEGIN_REQUEST, 1, 3, 0) + b"\0\1\0",
    # a name-value pair claiming 127+127 bytes in a 7-byte PARAMS stream
    "bad_name_value_lengths": fcgi_record(FCGI_BEGIN_REQUEST, 1, struct.pack("!HB5x", 1, 0))
    + fcgi_record(FCGI_PARAMS, 1, b"\x7f\x7fshort") + fcgi_record(FCGI_PARAMS, 1, b""),
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_garbage_closes_only_that_connection(env, name):
    held = held_fcgi(env, "/push/sub/safe?transport=longpoll")
    bad = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    bad.settimeout(5)
    bad.connect(env.data_socket)
    try:
        bad.sendall(GARBAGE[name])
    except (BrokenPipeError, ConnectionResetError):
        pass
    closed = False
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        try:
            data = bad.recv(65536)
        except socket.timeout:
            break
        except (ConnectionResetError, BrokenPipeError):
            closed = True
            break
        if not data:
            closed = True
            break
        # an END_REQUEST / error response before closing is acceptable; keep reading
    bad.close()
    assert closed, "holdfast did not close a connection that sent %s" % name
    assert env.publish("safe", {"still": "here"}).status == 201
    r = held.read_response(1, timeout=5)
    assert [m["data"] for m in r.json()["messages"]] == [{"still": "here"}]
    held.close()
    assert env.ctl("GET", "/health").status == 200
    assert env.sub("safe", transport="poll").status == 200


def test_truncated_record_then_eof(env):
    for _ in range(20):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(env.control_socket)
        s.sendall(fcgi_record(FCGI_BEGIN_REQUEST, 1, struct.pack("!HB5x", 1, 0))[:11])
        s.close()
    assert env.ctl("GET", "/health").status == 200
    harness.wait_until(lambda: env.stats()["connections"]["control"] <= 1, 2,
                       what="half-records' connections freed")


# ---------------------------------------------------------------------------------------------
# body limits without CONTENT_LENGTH (Apache streams chunked bodies, WEBSERVERS.md §8)


@pytest.mark.holdfast(args=["--max-body", "1024"])
def test_max_body_enforced_while_reading_stdin(env):
    conn = FcgiConnection(env.control_socket)
    p = cgi_params("POST", "/push/ctl/pub/chunky", b"", {"Authorization": "Bearer testkey",
                                                           "Transfer-Encoding": "chunked"},
                   content_type="application/json")
    p.pop("CONTENT_LENGTH", None)
    data = fcgi_record(FCGI_BEGIN_REQUEST, 1, struct.pack("!HB5x", 1, 0))
    data += fcgi_stream(FCGI_PARAMS, 1, b"".join(fcgi_nv(k, v) for k, v in p.items()))
    conn.send(data)
    body = json.dumps("z" * 5000).encode()
    try:
        for i in range(0, len(body), 512):
            conn.send(fcgi_record(FCGI_STDIN, 1, body[i:i + 512]))
        conn.send(fcgi_record(FCGI_STDIN, 1, b""))
    except (BrokenPipeError, ConnectionResetError):
        pass  # holdfast may answer and close as soon as the limit is passed
    r = conn.read_response(1, timeout=5)
    assert r.status == 413, r
    conn.close()
    assert env.stats()["messages"]["published"] == 0


def test_chunked_body_without_content_length_is_read(env):
    conn = FcgiConnection(env.control_socket)
    p = cgi_params("POST", "/push/ctl/pub/chunky", b"", {"Authorization": "Bearer testkey"},
                   content_type="application/json")
    p.pop("CONTENT_LENGTH", None)
    body = json.dumps({"big": "q" * 20000}).encode()
    data = fcgi_record(FCGI_BEGIN_REQUEST, 1, struct.pack("!HB5x", 1, 0))
    data += fcgi_stream(FCGI_PARAMS, 1, b"".join(fcgi_nv(k, v) for k, v in p.items()))
    data += fcgi_stream(FCGI_STDIN, 1, body, chunk=8192)
    conn.send(data)
    assert conn.read_response(1, timeout=5).status == 202
    conn.close()


# ---------------------------------------------------------------------------------------------
# cgi-fcgi (libfcgi) as an independent client


def test_cgi_fcgi_publish_and_stats(env):
    status, headers, body, raw = harness.cgi_fcgi(
        env.control_socket, "POST", "/push/ctl/pub/viacgi", b'{"from":"cgi-fcgi"}',
        content_type="application/json", authorization="Bearer testkey")
    assert raw.startswith(b"Status: 202"), raw[:200]
    assert status == 202
    assert headers["content-type"].startswith("application/json")
    reply = json.loads(body)
    assert reply["channel"] == "viacgi" and reply["subscribers"] == 0, reply
    status, headers, body, raw = harness.cgi_fcgi(
        env.control_socket, "GET", "/push/ctl/stats", authorization="Bearer testkey")
    assert raw.startswith(b"Status: 200"), raw[:200]
    stats = json.loads(body)
    assert stats["messages"]["published"] == 1 and stats["channels"] == 1, stats
    msgs = env.sub("viacgi", transport="poll", since="oldest").json()["messages"]
    assert [m["data"] for m in msgs] == [{"from": "cgi-fcgi"}]


def test_cgi_fcgi_error_response(env):
    status, headers, body, raw = harness.cgi_fcgi(
        env.control_socket, "POST", "/push/ctl/pub/viacgi", b'{"from":',
        content_type="application/json", authorization="Bearer testkey")
    assert raw.startswith(b"Status: 400"), raw[:200]
    err = json.loads(body)
    assert err["error"] and "offset" in err["message"].lower(), err
    status, _, body, raw = harness.cgi_fcgi(
        env.control_socket, "POST", "/push/ctl/pub/viacgi", b"1",
        content_type="application/json")
    assert status == 401, raw[:200]
