"""holdfast as a service (DESIGN.md §6, §7, docs/operations.md, docs/deploy.md): restart with
--state-dir loses nothing and ids continue; SIGTERM answers held requests with a reconnect;
systemd socket activation (LISTEN_FDS) and spawn-fcgi (fd:0); SIGHUP reloads the config file
(and keeps the old one when the new one is broken); Prometheus /metrics; `cmake --install`
and the shipped systemd units."""

import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

import harness
import webservers
from harness import PUBLISH_KEY, FcgiConnection
from conftest import Env

AUTH = {"Authorization": "Bearer " + PUBLISH_KEY}


# ---------------------------------------------------------------------------------------------
# helpers (straight FastCGI to the sockets)


def publish(control_socket, channel, data):
    r = harness.fcgi_call(control_socket, "POST", "/push/ctl/pub/" + channel,
                          json.dumps(data, separators=(",", ":")), AUTH, "application/json")
    assert r.status in (201, 202), (r.status, r.body)
    return r.json()["id"]


def subscribe(data_socket, channel, timeout=10.0, **query):
    q = "&".join("%s=%s" % kv for kv in query.items())
    r = harness.fcgi_call(data_socket, "GET", "/push/sub/%s?%s" % (channel, q), timeout=timeout)
    assert r.status == 200, (r.status, r.body)
    return r.json()


def channel_info(control_socket, channel):
    r = harness.fcgi_call(control_socket, "GET", "/push/ctl/channels/" + channel, b"", AUTH)
    assert r.status == 200, (r.status, r.body)
    return r.json()


def split_id(message_id):
    epoch, _, seq = message_id.rpartition("-")
    return epoch, int(seq)


def wait_log(hf_or_path, text, timeout=5.0):
    def read():
        if isinstance(hf_or_path, str):
            return webservers.read_text(hf_or_path)
        return hf_or_path.stderr()
    try:
        return harness.wait_until(lambda: text in read(), timeout, what="%r in the log" % text)
    except AssertionError as e:
        raise AssertionError("%s\nlog:\n%s" % (e, read()[-3000:])) from None


def no_sanitizer_report(text):
    report = harness.sanitizer_report(text)
    assert not report, "sanitizer report: %s\n%s" % (report, text[-3000:])


@pytest.fixture
def tmp(hf_tmpdir):
    return hf_tmpdir


# ---------------------------------------------------------------------------------------------
# restart with --state-dir


def test_restart_with_state_dir_resumes_without_gap(tmp):
    state_dir = os.path.join(tmp, "state")
    args = ["--state-dir", state_dir]
    hf = harness.Holdfast(tmp, args).start()
    try:
        c0 = subscribe(hf.data_socket, "keep", transport="poll")["cursor"]
        ids = [publish(hf.control_socket, "keep", {"n": n}) for n in range(1, 51)]
        at50 = subscribe(hf.data_socket, "keep", transport="poll", cursor=c0)
        assert len(at50["messages"]) == 50 and at50["cursor"] == "keep:" + ids[-1], at50
        cursor50 = at50["cursor"]
        ids += [publish(hf.control_socket, "keep", {"n": n}) for n in range(51, 101)]
        epoch = split_id(ids[0])[0]
        assert [split_id(i) for i in ids] == [(epoch, n) for n in range(1, 101)]

        hf.signal(signal.SIGTERM)
        assert hf.wait_exit(5) == 0, "exit code %r\n%s" % (hf.exit_code, hf.stderr()[-3000:])
        first_log = hf.stderr()
        assert re.search(r'msg="state saved"', first_log), first_log[-2000:]
        assert os.path.isfile(os.path.join(state_dir, "holdfast.state")), os.listdir(state_dir)
        no_sanitizer_report(first_log)
    finally:
        hf.stop()

    hf2 = harness.Holdfast(tmp, args).start()  # same sockets, same state dir
    try:
        assert 'msg="state loaded"' in hf2.stderr(), hf2.stderr()
        got = subscribe(hf2.data_socket, "keep", transport="longpoll", cursor=cursor50)
        assert not got.get("gap"), got.get("gap")
        assert [m["id"] for m in got["messages"]] == ids[50:], [m["id"] for m in got["messages"]]
        assert [m["data"] for m in got["messages"]] == [{"n": n} for n in range(51, 101)]
        assert got["cursor"] == "keep:" + ids[-1]
        again = subscribe(hf2.data_socket, "keep", transport="poll", cursor=got["cursor"])
        assert again["messages"] == [] and not again.get("gap"), again
        new_id = publish(hf2.control_socket, "keep", {"n": 101})
        assert split_id(new_id) == (epoch, 101), new_id
        info = channel_info(hf2.control_socket, "keep")
        assert info["epoch"] == epoch and info["last_seq"] == 101, info
    finally:
        problems = hf2.stop()
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# SIGTERM with held requests


def test_sigterm_reconnects_held_longpoll_and_sse(tmp):
    hf = harness.Holdfast(tmp, poll_timeout=30, heartbeat=25).start()
    env = Env(hf, None)
    try:
        cursor = subscribe(hf.data_socket, "bye", transport="poll")["cursor"]
        lp = FcgiConnection(hf.data_socket, timeout=10)
        lp.request("GET", "/push/sub/bye?transport=longpoll&cursor=" + cursor)
        sse = FcgiConnection(hf.data_socket, timeout=10)
        sse.request("GET", "/push/sub/bye?transport=sse&cursor=" + cursor)
        env.wait_held(1, "longpoll")
        env.wait_held(1, "sse")

        t0 = time.monotonic()
        hf.signal(signal.SIGTERM)
        r = lp.read_response(1, timeout=5)
        assert r.status == 200, r
        assert r.json().get("reconnect") is True and r.json()["cursor"] == cursor, r.body
        assert r.header("retry-after") == "1", r.headers
        s = sse.read_response(1, timeout=5)
        assert s.status == 200 and s.header("content-type").startswith("text/event-stream")
        events = webservers.sse_frames(s.body)
        last_fields, last = events[-1]
        assert last_fields.get("event") == "reconnect" and last["type"] == "reconnect", events
        assert last["cursor"] == cursor and last_fields.get("id") == cursor, last
        assert last.get("reason") == "shutdown", last
        assert hf.wait_exit(5) == 0, hf.stderr()[-3000:]
        assert time.monotonic() - t0 < 4, "shutdown took %.1fs" % (time.monotonic() - t0)
        lp.close()
        sse.close()
    finally:
        problems = hf.stop()
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# systemd socket activation


def test_systemd_socket_activation(tmp):
    """Two listening sockets from "systemd" on fds 3 and 4, named control and data; no
    --control/--data given (the shipped holdfast.json's addresses are overridden). A restart
    keeps the sockets: a request made while holdfast is down waits in the backlog and is
    answered by the next process."""
    ctl_path, data_path = os.path.join(tmp, "ctl.sock"), os.path.join(tmp, "data.sock")
    ctl, data = webservers.unix_listener(ctl_path), webservers.unix_listener(data_path)
    stderr_path = os.path.join(tmp, "activated.stderr")
    args = [harness.require_binary(), "--config",
            os.path.join(harness.REPO, "deploy", "systemd", "holdfast.json"),
            "--publish-key", PUBLISH_KEY, "--state-dir", os.path.join(tmp, "state"),
            "--poll-timeout", "5"]
    procs = []
    try:
        proc = webservers.spawn_activated(args, [ctl, data], ["control", "data"], stderr_path,
                                          tmp)
        procs.append(proc)
        wait_log(stderr_path, "holdfast started")
        log = webservers.read_text(stderr_path)
        assert "address=systemd:control" in log and "address=systemd:data" in log, log
        assert proc.poll() is None, log

        cursor = subscribe(data_path, "act", transport="poll")["cursor"]
        conn = FcgiConnection(data_path, timeout=10)
        conn.request("GET", "/push/sub/act?transport=longpoll&cursor=" + cursor)
        harness.wait_until(lambda: harness.fcgi_call(ctl_path, "GET", "/push/ctl/stats", b"",
                                                     AUTH).json()["held"]["longpoll"] == 1,
                           5, what="held long-poll")
        mid = publish(ctl_path, "act", {"activated": True})
        r = conn.read_response(1, timeout=5)
        assert [m["id"] for m in r.json()["messages"]] == [mid], r.body
        conn.close()

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0, webservers.read_text(stderr_path)[-3000:]
        # holdfast must not unlink sockets it did not create
        assert os.path.exists(ctl_path) and os.path.exists(data_path)

        # while no holdfast runs, a request queues in the (still listening) socket
        queued = FcgiConnection(data_path, timeout=10)
        queued.request("GET", "/push/sub/act?transport=poll&cursor=" + cursor)
        proc2 = webservers.spawn_activated(args, [ctl, data], ["control", "data"],
                                           stderr_path, tmp)
        procs.append(proc2)
        r = queued.read_response(1, timeout=10)
        assert r.status == 200 and [m["id"] for m in r.json()["messages"]] == [mid], r.body
        queued.close()
        nid = publish(ctl_path, "act", {"after": "restart"})
        assert split_id(nid) == (split_id(mid)[0], 2), (mid, nid)
        proc2.send_signal(signal.SIGTERM)
        assert proc2.wait(timeout=5) == 0
        no_sanitizer_report(webservers.read_text(stderr_path))
    finally:
        for p in procs:
            harness.stop_process(p)
        ctl.close()
        data.close()


def test_socket_activation_needs_no_addresses(tmp):
    """With LISTEN_FDS naming both sockets, empty --control/--data are fine; without them,
    holdfast refuses to start and says which listener has no address."""
    ctl_path, data_path = os.path.join(tmp, "c.sock"), os.path.join(tmp, "d.sock")
    ctl, data = webservers.unix_listener(ctl_path), webservers.unix_listener(data_path)
    stderr_path = os.path.join(tmp, "err")
    binary = harness.require_binary()
    try:
        proc = webservers.spawn_activated(
            [binary, "--control", "", "--data", "", "--trusted-control"], [ctl, data],
            ["control", "data"], stderr_path, tmp)
        try:
            wait_log(stderr_path, "holdfast started")
            assert publish(ctl_path, "x", 1)
            assert subscribe(data_path, "x", transport="poll", since="oldest")["messages"]
        finally:
            code, _ = harness.stop_process(proc)
        assert code == 0, webservers.read_text(stderr_path)
        r = subprocess.run([binary, "--control", "", "--data", ""], capture_output=True,
                           text=True, timeout=10, env=dict(os.environ, LISTEN_FDS="0"))
        assert r.returncode != 0
        assert "control listener: no address configured" in r.stderr, r.stderr
        assert "data listener: no address configured" in r.stderr, r.stderr
    finally:
        ctl.close()
        data.close()


# ---------------------------------------------------------------------------------------------
# spawn-fcgi


def test_spawn_fcgi(tmp):
    data_path = os.path.join(tmp, "spawned.sock")
    ctl_path = os.path.join(tmp, "ctl.sock")
    err_path = os.path.join(tmp, "spawn.stderr")
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    # -n: no fork, spawn-fcgi execs holdfast in its own process (so proc.pid is holdfast)
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(
            ["spawn-fcgi", "-s", data_path, "-M", "0660", "-n", "--",
             harness.require_binary(), "--data", "fd:0", "--control", "unix:" + ctl_path,
             "--publish-key", PUBLISH_KEY, "--poll-timeout", "5"],
            stdin=subprocess.DEVNULL, stdout=err, stderr=err, cwd=tmp, env=env,
            start_new_session=True)
    try:
        wait_log(err_path, "holdfast started")
        assert webservers.socket_mode(data_path) == 0o660
        log = webservers.read_text(err_path)
        assert "address=fd:0" in log, log
        cursor = subscribe(data_path, "sp", transport="poll")["cursor"]
        conn = FcgiConnection(data_path, timeout=10)
        conn.request("GET", "/push/sub/sp?transport=longpoll&cursor=" + cursor)
        harness.wait_until(lambda: harness.fcgi_call(ctl_path, "GET", "/push/ctl/stats", b"",
                                                     AUTH).json()["held"]["longpoll"] == 1,
                           5, what="held long-poll")
        mid = publish(ctl_path, "sp", {"spawned": 1})
        r = conn.read_response(1, timeout=5)
        assert r.status == 200 and [m["id"] for m in r.json()["messages"]] == [mid], r.body
        conn.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0, webservers.read_text(err_path)[-3000:]
        no_sanitizer_report(webservers.read_text(err_path))
    finally:
        harness.stop_process(proc)


# ---------------------------------------------------------------------------------------------
# SIGHUP


def write_config(path, values):
    tmp_path = path + ".new"
    with open(tmp_path, "w") as f:
        f.write(values if isinstance(values, str) else json.dumps(values))
    os.replace(tmp_path, path)


def test_sighup_reloads_config_and_rejects_broken_one(tmp):
    conf = os.path.join(tmp, "holdfast.json")
    write_config(conf, {"buffer_messages": 5, "log_level": "info"})
    hf = harness.Holdfast(tmp, ["--config", conf]).start()
    try:
        for n in range(10):
            publish(hf.control_socket, "before", n)
        assert channel_info(hf.control_socket, "before")["messages"] == 5

        write_config(conf, {"buffer_messages": 3, "log_level": "debug"})
        hf.signal(signal.SIGHUP)
        wait_log(hf, 'msg="configuration reloaded"')
        for n in range(10):
            publish(hf.control_socket, "after", n)
        info = channel_info(hf.control_socket, "after")
        assert info["messages"] == 3 and info["last_seq"] == 10, info
        got = subscribe(hf.data_socket, "after", transport="poll", since="oldest")
        assert [m["data"] for m in got["messages"]] == [7, 8, 9], got
        publish(hf.control_socket, "before", 10)
        assert channel_info(hf.control_socket, "before")["messages"] == 3
        # log_level debug applies: connection closes are logged at debug
        wait_log(hf, "level=debug")

        # a broken file is rejected, the running config stays
        write_config(conf, '{"buffer_messages": 3, "log_level": ')
        hf.signal(signal.SIGHUP)
        wait_log(hf, 'msg="reload rejected"')
        write_config(conf, {"buffer_messages": -1, "log_level": "loud"})
        hf.signal(signal.SIGHUP)
        harness.wait_until(lambda: hf.stderr().count('msg="reload rejected"') >= 3, 5,
                           what="both errors of the invalid config logged")
        assert hf.alive()
        for n in range(5):
            publish(hf.control_socket, "still", n)
        assert channel_info(hf.control_socket, "still")["messages"] == 3
        assert hf.stderr().count('msg="configuration reloaded"') == 1
    finally:
        problems = hf.stop()
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# /metrics

DOCUMENTED_METRICS = (
    "holdfast_connections", "holdfast_held_requests", "holdfast_sessions", "holdfast_channels",
    "holdfast_buffered_messages", "holdfast_buffered_bytes", "holdfast_published_total",
    "holdfast_delivered_total", "holdfast_evicted_total", "holdfast_dropped_total",
    "holdfast_protocol_errors_total", "holdfast_responses_total", "holdfast_uptime_seconds")

SAMPLE_RE = re.compile(
    r'(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)'
    r'(?:\{(?P<labels>[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*,?)?\})?'
    r' (?P<value>[-+]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|NaN|Inf))(?: -?[0-9]+)?')


def parse_metrics(text):
    """{(name, frozenset of label pairs): value}; asserts every line is a comment, blank or
    a sample, and that TYPE names a metric family."""
    samples, types = {}, {}
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            m = re.match(r"# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$", line)
            assert m, "bad comment line %r" % line
            if m.group(1) == "TYPE":
                assert m.group(3) in ("counter", "gauge", "histogram", "summary",
                                      "untyped"), line
                types[m.group(2)] = m.group(3)
            continue
        m = SAMPLE_RE.fullmatch(line)
        assert m, "line is not `name{labels} value`: %r" % line
        labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"',
                                      m.group("labels") or ""))
        key = (m.group("name"), labels)
        assert key not in samples, "duplicate sample %r" % line
        samples[key] = float(m.group("value"))
    return samples, types


def test_metrics_prometheus_text(tmp):
    hf = harness.Holdfast(tmp).start()
    env = Env(hf, None)
    try:
        for n in range(3):
            publish(hf.control_socket, "m", n)
        cursor = subscribe(hf.data_socket, "m", transport="poll")["cursor"]
        held = FcgiConnection(hf.data_socket, timeout=10)
        held.request("GET", "/push/sub/m?transport=longpoll&cursor=" + cursor)
        env.wait_held(1, "longpoll")

        r = env.fcgi_ctl("GET", "/metrics")
        assert r.status == 200, r
        assert r.header("content-type").startswith("text/plain"), r.headers
        samples, types = parse_metrics(r.body.decode("utf-8"))
        names = {n for n, _ in samples}
        missing = [m for m in DOCUMENTED_METRICS if m not in names]
        assert not missing, "metrics missing: %s\n%s" % (missing, r.body.decode()[:3000])
        for name in names:
            family = name
            assert family in types, "no # TYPE for %s" % name
        for name in DOCUMENTED_METRICS:
            if name.endswith("_total"):
                assert types[name] == "counter", (name, types[name])

        def value(name, **labels):
            return samples[(name, frozenset(labels.items()))]

        assert value("holdfast_published_total") == 3
        assert value("holdfast_buffered_messages") == 3
        assert value("holdfast_channels") == 1
        assert value("holdfast_held_requests", transport="longpoll") == 1
        assert value("holdfast_held_requests", transport="sse") == 0
        assert value("holdfast_connections", socket="data") >= 1
        assert value("holdfast_connections", socket="control") >= 1
        assert value("holdfast_uptime_seconds") >= 0
        assert {dict(l).get("reason") for n, l in samples if n == "holdfast_dropped_total"} \
            >= {"slow", "gone"}
        assert any(n == "holdfast_responses_total" and dict(l).get("status") in ("201", "202")
                   for n, l in samples)
        # the same numbers as /stats
        stats = env.stats()
        assert stats["messages"]["published"] == value("holdfast_published_total")
        assert env.fcgi_ctl("GET", "/metrics", key=None).status == 401
        held.close()
    finally:
        problems = hf.stop()
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# cmake --install and the shipped systemd units


def test_cmake_install_and_systemd_units(tmp):
    build_dir = os.path.dirname(harness.require_binary())
    if not os.path.isfile(os.path.join(build_dir, "cmake_install.cmake")):
        pytest.fail("%s is not a cmake build directory (HOLDFAST_BIN=%s)"
                    % (build_dir, harness.holdfast_binary()))
    prefix = os.path.join(tmp, "prefix")
    r = subprocess.run(["cmake", "--install", build_dir, "--prefix", prefix],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    for rel in ("bin/holdfast", "bin/holdfastctl"):
        path = os.path.join(prefix, rel)
        assert os.access(path, os.X_OK), rel
    v = subprocess.run([os.path.join(prefix, "bin/holdfast"), "--version"], capture_output=True,
                       text=True, timeout=10)
    assert v.returncode == 0 and v.stdout.startswith("holdfast "), v
    deploy = os.path.join(prefix, "share/holdfast/deploy")
    for rel in ("apache/holdfast.conf", "apache/httpd.conf", "nginx/holdfast-http.conf",
                "nginx/holdfast-server.conf", "nginx/nginx.conf", "lighttpd/holdfast.conf",
                "lighttpd/lighttpd.conf", "systemd/holdfast.service",
                "systemd/holdfast-control.socket", "systemd/holdfast-data.socket",
                "systemd/holdfast.json"):
        assert os.path.isfile(os.path.join(deploy, rel)), rel
    # The browser client: the built bundles and their type declarations.
    client = os.path.join(prefix, "share/holdfast/client")
    for rel in ("holdfast.js", "holdfast.mjs", "holdfast.d.ts"):
        assert os.path.isfile(os.path.join(client, rel)), rel
    docs = os.path.join(prefix, "share/doc/holdfast")
    for rel in ("deploy.md", "api.md", "operations.md", "configuration.md"):
        assert os.path.isfile(os.path.join(docs, rel)), rel

    # The service points at the default install prefix (/usr/local) and its docs.
    with open(os.path.join(deploy, "systemd/holdfast.service")) as f:
        unit = f.read()
    assert "ExecStart=/usr/local/bin/holdfast --config /etc/holdfast/holdfast.json" in unit
    assert "file:///usr/local/share/doc/holdfast/deploy.md" in unit
    assert re.search(r"^LimitNOFILE=(\d+)$", unit, re.M) and int(
        re.search(r"^LimitNOFILE=(\d+)$", unit, re.M).group(1)) >= 65536
    # valid JSON (test_systemd_socket_activation starts holdfast with it)
    with open(os.path.join(deploy, "systemd/holdfast.json")) as f:
        json.load(f)

    systemd_analyze = shutil.which("systemd-analyze")
    if systemd_analyze:
        units = os.path.join(tmp, "units")
        os.makedirs(units)
        for name in ("holdfast.service", "holdfast-control.socket", "holdfast-data.socket"):
            with open(os.path.join(deploy, "systemd", name)) as f:
                text = f.read().replace("/usr/local/bin/holdfast",
                                        os.path.join(prefix, "bin/holdfast"))
            with open(os.path.join(units, name), "w") as f:
                f.write(text)
        r = subprocess.run([systemd_analyze, "verify", "--man=no"] +
                           [os.path.join(units, n) for n in sorted(os.listdir(units))],
                           capture_output=True, text=True, timeout=60, cwd=units)
        assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), \
            r.stdout + r.stderr
