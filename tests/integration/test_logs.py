"""Log output: logfmt (default), json, and journal lines when stderr is systemd's journal stream
($JOURNAL_STREAM names fd 2): no timestamp of our own, a syslog priority prefix."""
import json
import os
import re

import harness


def started(tmpdir, args=()):
    hf = harness.Holdfast(tmpdir, list(args))
    hf.start()
    # a warning too: a protocol error from a peer that is not a FastCGI web server
    c = harness.FcgiConnection(hf.control_socket)
    c.send(b"GET / HTTP/1.1\r\n\r\n")
    c.wait_closed(5.0)
    c.close()
    problems = hf.stop()
    assert problems == [], problems
    return [l for l in hf.stderr().splitlines() if l]


def test_logfmt_is_the_default(hf_tmpdir):
    lines = started(hf_tmpdir)
    assert lines and all(re.match(r'ts=\d{4}-\d\d-\d\dT[\d:.]+Z level=\w+ msg=', l) for l in lines), lines
    assert any('msg="holdfast started" version=' in l for l in lines)


def test_json_lines(hf_tmpdir):
    lines = started(hf_tmpdir, ["--log-format", "json"])
    objs = [json.loads(l) for l in lines]
    assert all({"ts", "level", "msg"} <= set(o) for o in objs), objs
    listening = [o for o in objs if o["msg"] == "listening"]
    assert {o["socket"] for o in listening} == {"control", "data"}
    warn = [o for o in objs if o["level"] == "warn"]
    assert warn and isinstance(warn[0]["conn"], int), objs


def test_journal_stream_drops_the_timestamp_and_adds_priorities(hf_tmpdir, monkeypatch):
    # The harness truncates this file (same inode) and makes it holdfast's stderr.
    path = os.path.join(hf_tmpdir, "holdfast.stderr")
    open(path, "wb").close()
    st = os.stat(path)
    monkeypatch.setenv("JOURNAL_STREAM", "%d:%d" % (st.st_dev, st.st_ino))
    lines = started(hf_tmpdir)
    assert all(re.match(r"<[3467]>level=\w+ msg=", l) for l in lines), lines
    assert any(l.startswith("<6>level=info msg=listening") for l in lines)
    assert any(l.startswith("<4>level=warn") for l in lines), lines
    # a JOURNAL_STREAM that is not our stderr (inherited, stderr redirected) is ignored
    monkeypatch.setenv("JOURNAL_STREAM", "1:1")
    assert all(l.startswith("ts=") for l in started(hf_tmpdir))
    # forced either way
    monkeypatch.delenv("JOURNAL_STREAM")
    assert all(l.startswith("<") for l in started(hf_tmpdir, ["--log-journal", "on"]))


def test_bad_log_values_are_config_errors(hf_tmpdir):
    import subprocess
    p = subprocess.run([harness.require_binary(), "--log-format", "text", "--log-journal", "yes"],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 2
    assert 'log_format (--log-format): "text" is not logfmt or json' in p.stderr
    assert 'log_journal (--log-journal): "yes" is not auto, on or off' in p.stderr
