"""Fixtures: a fresh holdfast (unix sockets in a temp dir) and lighttpd in front of it.

Tests choose holdfast's flags with the `holdfast` marker:

    @pytest.mark.holdfast(args=["--buffer-messages", "10"], poll_timeout=2)

The binary is $HOLDFAST_BIN (default build/holdfast). A missing binary is a failure, not a skip.
On teardown holdfast gets SIGTERM and must exit 0 within 5 s with no sanitizer report.
"""

import json
import shutil
import tempfile
import urllib.parse

import pytest

import harness
from harness import PUBLISH_KEY


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "holdfast(args=[], poll_timeout=2, heartbeat=1, lighttpd=True): "
        "flags for the holdfast process of this test")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


class Env:
    """holdfast (+ lighttpd) for one test, with the helpers tests use."""

    def __init__(self, hf, lt):
        self.hf = hf
        self.lt = lt
        self.port = lt.port if lt else None
        self.control_socket = hf.control_socket
        self.data_socket = hf.data_socket

    # HTTP through lighttpd -------------------------------------------------------------------
    def http(self, method, path, body=None, headers=None, timeout=10.0):
        assert self.lt, "this test runs without lighttpd"
        return harness.http(self.port, method, path, body, headers, timeout)

    def http_async(self, method, path, body=None, headers=None, timeout=15.0):
        return harness.http_async(self.port, method, path, body, headers, timeout)

    def ctl(self, method, route, body=None, headers=None, key=PUBLISH_KEY, timeout=10.0):
        """A control request through lighttpd (route below /push/ctl), with the publish key."""
        h = dict(headers or {})
        if key is not None:
            h["Authorization"] = "Bearer " + key
        return self.http(method, "/push/ctl" + route, body, h, timeout)

    def publish(self, channel, data, content_type="application/json", key=PUBLISH_KEY,
                event=None, timeout=10.0):
        """POST /push/ctl/pub/<channel>; data that is not str/bytes is sent as JSON."""
        if not isinstance(data, (str, bytes)):
            data = json.dumps(data)
        h = {"Content-Type": content_type} if content_type else {}
        route = "/pub/" + channel + (("?event=" + urllib.parse.quote(event)) if event else "")
        return self.ctl("POST", route, data, h, key=key, timeout=timeout)

    def sub_path(self, channels, **query):
        q = urllib.parse.urlencode(query)
        return "/push/sub/" + channels + ("?" + q if q else "")

    # Keyword arguments other than headers/http_timeout are query parameters (timeout= too).
    def sub(self, channels, headers=None, http_timeout=10.0, **query):
        return self.http("GET", self.sub_path(channels, **query), None, headers, http_timeout)

    def sub_async(self, channels, headers=None, http_timeout=15.0, **query):
        return self.http_async("GET", self.sub_path(channels, **query), None, headers,
                               http_timeout)

    # Direct FastCGI --------------------------------------------------------------------------
    def fcgi_ctl(self, method, route, body=b"", headers=None, content_type=None, key=PUBLISH_KEY,
                 timeout=10.0):
        h = dict(headers or {})
        if key is not None:
            h["Authorization"] = "Bearer " + key
        return harness.fcgi_call(self.control_socket, method, "/push/ctl" + route, body, h,
                                 content_type, timeout)

    def stats(self, timeout=5.0):
        """GET /push/ctl/stats straight on the control socket."""
        r = self.fcgi_ctl("GET", "/stats", timeout=timeout)
        assert r.status == 200, "stats answered %r: %r" % (r.status, r.body)
        return r.json()

    def wait_held(self, n, kind="total", timeout=5.0):
        """Waits until stats held.<kind> == n (polled every 50 ms)."""
        return harness.wait_until(lambda: self.stats()["held"][kind] == n, timeout,
                                  what="held.%s == %d" % (kind, n))

    def poll_cursor(self, channel):
        """The channel's current cursor from transport=poll (creates the channel)."""
        r = self.sub(channel, transport="poll")
        assert r.status == 200, r
        return r.json()["cursor"]


def _marker_options(request):
    m = request.node.get_closest_marker("holdfast")
    return dict(m.kwargs) if m else {}


@pytest.fixture
def hf_tmpdir():
    # Short path: unix socket paths are limited to 108 bytes.
    d = tempfile.mkdtemp(prefix="hf-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def env(request, hf_tmpdir):
    """A fresh holdfast and (unless lighttpd=False) lighttpd in front of it."""
    opts = _marker_options(request)
    hf = harness.Holdfast(hf_tmpdir, opts.get("args", ()), opts.get("poll_timeout", 2),
                          opts.get("heartbeat", 1))
    hf.start()
    lt = None
    try:
        if opts.get("lighttpd", True):
            lt = harness.Lighttpd(hf_tmpdir, hf.control_socket, hf.data_socket).start()
    except BaseException:
        hf.stop()
        raise
    e = Env(hf, lt)
    yield e
    if lt:
        lt.stop()
    already_exited = not hf.alive()
    problems = hf.stop()
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        print("---- holdfast stderr (tail) ----\n" + hf.stderr()[-6000:])
        if lt:
            print("---- lighttpd log (tail) ----\n" + lt.log()[-3000:])
    if problems:
        pytest.fail("holdfast teardown%s: %s" % (" (had already exited)" if already_exited
                                                  else "", "\n".join(problems)),
                    pytrace=False)
