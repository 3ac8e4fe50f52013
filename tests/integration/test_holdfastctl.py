"""holdfastctl: every command, over FastCGI straight to the control socket and over HTTP to
the control mount behind lighttpd; exit codes and error reporting."""
import json
import os
import subprocess

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
        assert rc == 0 and json.loads(out) == {"status": "ok"}
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
