"""holdfastctl: every command, over FastCGI straight to the control socket and over HTTP to
the control mount behind lighttpd; exit codes and error reporting."""
import json
import os
import subprocess

import pytest

import harness
from harness import PUBLISH_KEY


def ctl_binary():
    return os.path.join(os.path.dirname(harness.holdfast_binary()), "holdfastctl")


def run(env, *args, via="fcgi", key=PUBLISH_KEY, stdin=None):
    cmd = [ctl_binary()]
    if via == "fcgi":
        cmd += ["--control", "unix:" + env.hf.control_socket]
    else:
        cmd += ["--url", "http://127.0.0.1:%d/push/ctl" % env.lt.port]
    if key is not None:
        cmd += ["--key", key]
    cmd += list(args)
    p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=10,
                       env={k: v for k, v in os.environ.items() if k != "HOLDFAST_PUBLISH_KEY"})
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_publish_info_list_delete_stats_over_fastcgi_and_http(env):
    for via in ("fcgi", "http"):
        ch = "ctl-" + via
        rc, out, err = run(env, "publish", ch, '{"n":1}', via=via)
        assert rc == 0, err
        first = json.loads(out)
        assert first["channel"] == ch and first["id"].endswith("-1") and first["subscribers"] == 0
        rc, out, _ = run(env, "publish", ch, "-", "--event", "note", via=via, stdin=b"plain text")
        assert rc == 0
        rc, out, _ = run(env, "info", ch, via=via)
        info = json.loads(out)
        assert rc == 0 and info["messages"] == 2 and info["last_seq"] == 2
        # the second message went out as text with its event name
        r = env.sub(ch, transport="poll", since="oldest")
        msgs = json.loads(r.body)["messages"]
        assert [m["data"] for m in msgs] == [{"n": 1}, "plain text"]
        assert msgs[1]["event"] == "note"
        rc, out, _ = run(env, "list", via=via)
        assert rc == 0 and ch in [c["channel"] for c in json.loads(out)["channels"]]
        rc, out, _ = run(env, "stats", via=via)
        assert rc == 0 and json.loads(out)["messages"]["published"] >= 2
        rc, out, _ = run(env, "health", via=via)
        assert rc == 0 and json.loads(out)["status"] == "ok"
        rc, out, _ = run(env, "metrics", via=via)
        assert rc == 0 and "holdfast_published_total" in out
        rc, out, _ = run(env, "delete", ch, via=via)
        assert rc == 0 and json.loads(out)["deleted"] is True
        rc, out, err = run(env, "info", ch, via=via)
        assert rc == 1 and "404" in err and json.loads(out)["error"] == "no_channel"


def test_close_session_releases_the_held_request(env):
    r = env.sub("ctl-s", transport="poll", session="new")
    sid = json.loads(r.body)["session"]
    pending = env.sub_async("ctl-s", session=sid, timeout=10)
    env.wait_held(1)
    rc, out, err = run(env, "close", sid)
    assert rc == 0, err
    assert json.loads(out) == {"session": sid, "closed": True}
    res = harness.wait_result(pending, 3.0)
    assert json.loads(res.body)["closed"] == "session closed"
    env.wait_held(0, timeout=1.0)


def test_errors_exit_non_zero_with_the_reason(env):
    rc, out, err = run(env, "publish", "ctl-e", '{"n":1}', key="wrong")
    assert rc == 1 and "403" in err and json.loads(out)["error"] == "forbidden"
    rc, out, err = run(env, "publish", "ctl-e", '{"n":1}', key=None)
    assert rc == 1 and "401" in err
    rc, out, err = run(env, "publish", "bad name", "x")
    assert rc == 1 and json.loads(out)["error"] == "bad_channel"
    rc, _, err = run(env, "frobnicate")
    assert rc == 2 and "usage" in err
    p = subprocess.run([ctl_binary(), "--control", "unix:/nonexistent/hf.sock", "stats"],
                       capture_output=True, timeout=10)
    assert p.returncode == 2 and b"connect" in p.stderr


def test_token_matches_what_the_server_accepts(env):
    p = subprocess.run([ctl_binary(), "token", "private.x", "--token-key", "tk", "--ttl", "60"],
                       capture_output=True, timeout=10)
    assert p.returncode == 0
    token = p.stdout.decode().strip()
    exp, sig = token.split(".")
    import base64, hashlib, hmac, time
    assert int(exp) > time.time()
    want = base64.urlsafe_b64encode(
        hmac.new(b"tk", ("private.x\n" + exp).encode(), hashlib.sha256).digest()).rstrip(b"=")
    assert sig.encode() == want


# ---- tail and channels -------------------------------------------------------------------

import signal
import threading
import time


class Tail:
    """`holdfastctl tail ...` in the background; collects its stdout lines."""

    def __init__(self, env, *args, via="fcgi"):
        cmd = [ctl_binary()]
        if via == "fcgi":
            cmd += ["--data", "unix:" + env.hf.data_socket]
        else:
            cmd += ["--url", "http://127.0.0.1:%d/push/ctl" % env.lt.port]
        cmd += ["tail"] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines = []
        self.errors = []
        self._threads = [threading.Thread(target=self._read, args=(self.proc.stdout, self.lines),
                                          daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, self.errors),
                                          daemon=True)]
        for t in self._threads:
            t.start()

    @staticmethod
    def _read(stream, into):
        for line in iter(stream.readline, b""):
            into.append(line.decode().rstrip("\n"))

    def wait_lines(self, n, timeout=8.0):
        harness.wait_until(lambda: len(self.lines) >= n, timeout,
                           what="%d tail lines (have %r, stderr %r)" % (n, self.lines,
                                                                          self.errors))
        return self.lines

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for t in self._threads:
            t.join(timeout=2)
        return self.proc.returncode


def test_tail_follows_channels_over_fastcgi_and_http(env):
    for via in ("fcgi", "http"):
        a, b = "tail-a-" + via, "tail-b-" + via
        assert run(env, "publish", a, '{"before":1}', via=via)[0] == 0
        t = Tail(env, "-n", "5", a, b, via=via)
        try:
            t.wait_lines(1)  # the backlog asked for with -n
            env.wait_held(1)
            assert run(env, "publish", b, "two\nlines", via=via)[0] == 0
            assert run(env, "publish", a, '{"n": 3}', "--event", "note", via=via)[0] == 0
            lines = t.wait_lines(3)
        finally:
            t.stop()
        parts = [line.split(" ", 3) for line in lines]
        assert [(p[0], p[2], p[3]) for p in parts] == [
            (a, "message", '{"before":1}'), (b, "message", "two\\nlines"), (a, "note", '{"n":3}')]
        assert parts[0][1].endswith("-1") and parts[2][1].endswith("-2")


def test_tail_json_prints_the_message_objects(env):
    t = Tail(env, "--json", "tail-json")
    try:
        env.wait_held(1)
        env.publish("tail-json", {"x": [1, 2]})
        line = t.wait_lines(1)[0]
    finally:
        t.stop()
    m = json.loads(line)
    assert m["channel"] == "tail-json" and m["data"] == {"x": [1, 2]}
    assert set(m) >= {"channel", "id", "event", "data", "time"}


@pytest.mark.holdfast(args=["--buffer-messages", "2"])
def test_tail_reports_a_gap_on_stderr_and_goes_on(env):
    t = Tail(env, "tail-gap")
    try:
        env.wait_held(1)
        env.publish("tail-gap", {"n": 1})
        t.wait_lines(1)
        env.wait_held(1)
        # tail is paused: its held request takes message 2, then 3..5 pass a 2-message buffer,
        # so when tail asks again after 2, message 3 is gone.
        t.proc.send_signal(signal.SIGSTOP)
        try:
            for n in (2, 3, 4, 5):
                env.publish("tail-gap", {"n": n})
        finally:
            t.proc.send_signal(signal.SIGCONT)
        lines = t.wait_lines(4)
        harness.wait_until(lambda: t.errors, 5.0, what="a gap line on stderr")
    finally:
        t.stop()
    assert [json.loads(line.split(" ", 3)[3])["n"] for line in lines] == [1, 2, 4, 5]
    assert len(t.errors) == 1 and t.errors[0].startswith("holdfastctl: gap in tail-gap: asked for ")
    assert t.errors[0].endswith("(evicted)")


def wait_held_on(hf, n, timeout=5.0):
    def held():
        r = harness.fcgi_call(hf.control_socket, "GET", "/push/ctl/stats", b"",
                              {"Authorization": "Bearer " + PUBLISH_KEY})
        return r.status == 200 and r.json()["held"]["total"] == n
    harness.wait_until(held, timeout, what="held == %d" % n)


def test_tail_reconnects_with_its_cursor_when_holdfast_restarts(hf_tmpdir):
    state = os.path.join(hf_tmpdir, "state")
    hf = harness.Holdfast(hf_tmpdir, ["--state-dir", state])
    hf.start()
    t = None
    try:
        class E:  # the parts of Env that Tail uses
            pass
        e = E()
        e.hf = hf
        t = Tail(e, "tail-restart")
        wait_held_on(hf, 1)
        harness.fcgi_call(hf.control_socket, "POST", "/push/ctl/pub/tail-restart", b'{"n":1}',
                          {"Authorization": "Bearer " + PUBLISH_KEY}, "application/json")
        t.wait_lines(1)
        assert hf.stop() == []
        hf = harness.Holdfast(hf_tmpdir, ["--state-dir", state])
        hf.start()
        wait_held_on(hf, 1, timeout=10)  # tail is back, asking with its cursor
        harness.fcgi_call(hf.control_socket, "POST", "/push/ctl/pub/tail-restart", b'{"n":2}',
                          {"Authorization": "Bearer " + PUBLISH_KEY}, "application/json")
        lines = t.wait_lines(2, timeout=10)
    finally:
        if t:
            t.stop()
        problems = hf.stop()
    assert [json.loads(line.split(" ", 3)[3])["n"] for line in lines] == [1, 2]
    assert not any("gap" in e for e in t.errors), t.errors
    assert problems == []


def test_tail_errors(env):
    p = subprocess.run([ctl_binary(), "--data", "unix:/nonexistent/hf.sock", "tail", "x"],
                       capture_output=True, timeout=10)
    assert p.returncode == 2 and b"connect unix:/nonexistent/hf.sock" in p.stderr
    p = subprocess.run([ctl_binary(), "--data", "unix:" + env.hf.data_socket, "tail", "bad name"],
                       capture_output=True, timeout=10)
    assert p.returncode == 1 and b"HTTP status 400" in p.stderr
    assert json.loads(p.stdout)["error"] == "bad_channel"
    p = subprocess.run([ctl_binary(), "--data", "nowhere", "tail", "x"], capture_output=True,
                       timeout=10)
    assert p.returncode == 2 and b"is not unix:PATH, tcp:HOST:PORT or fd:N" in p.stderr


def test_channels_prints_every_page_as_a_table(env):
    names = ["tbl-%04d" % i for i in range(1003)]  # more than one page of 1000
    body = json.dumps([{"channel": n, "data": i} for i, n in enumerate(names)])
    r = env.fcgi_ctl("POST", "/pub", body.encode(), content_type="application/json")
    assert r.status in (201, 202), r.body
    for via in ("fcgi", "http"):
        rc, out, err = run(env, "channels", via=via)
        assert rc == 0, err
        lines = out.splitlines()
        assert lines[0].split() == ["CHANNEL", "MESSAGES", "BYTES", "SUBSCRIBERS", "LAST", "ID",
                                    "LAST", "PUBLISH"]
        rows = [line.split() for line in lines[1:]]
        assert [r[0] for r in rows] == sorted(names)
        assert all(r[1] == "1" and r[3] == "0" and r[4].endswith("-1") for r in rows)
    rc, out, err = run(env, "channels", key="wrong")
    assert rc == 1 and "HTTP status 403" in err


def test_help_and_version():
    p = subprocess.run([ctl_binary(), "--help"], capture_output=True, timeout=10)
    assert p.returncode == 0 and b"Exit status:" in p.stdout and b"tail CHANNEL" in p.stdout
    p = subprocess.run([ctl_binary(), "--version"], capture_output=True, timeout=10)
    assert p.returncode == 0 and p.stdout.decode().startswith("holdfastctl ")


COMPLETION = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "deploy", "bash-completion", "holdfastctl")


def complete(*words, path=None):
    """COMPREPLY of the shipped bash completion for the command line `words` (last = current)."""
    quoted = " ".join("'%s'" % w for w in words)
    script = ('source "%s"; COMP_WORDS=(%s); COMP_CWORD=%d; COMP_LINE="${COMP_WORDS[*]}"; '
              '_holdfastctl; printf "%%s\\n" "${COMPREPLY[@]}"' % (COMPLETION, quoted,
                                                                   len(words) - 1))
    env = dict(os.environ)
    if path:
        env["PATH"] = path + os.pathsep + env["PATH"]
    p = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True,
                       timeout=10, env=env)
    assert p.returncode == 0, p.stderr
    return [w for w in p.stdout.split("\n") if w]


def test_bash_completion(env):
    assert complete("holdfastctl", "ch") == ["channels"]
    assert set(complete("holdfastctl", "t")) == {"tail", "token"}
    assert "--data-url" in complete("holdfastctl", "--d")
    env.publish("compl-one", {"n": 1})
    env.publish("compl-two", {"n": 2})
    got = complete("holdfastctl", "--control", "unix:" + env.hf.control_socket, "--key",
                   PUBLISH_KEY, "tail", "compl-", path=os.path.dirname(ctl_binary()))
    assert sorted(got) == ["compl-one", "compl-two"]
