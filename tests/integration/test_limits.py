"""Running out of file descriptors: holdfast pauses accepting instead of spinning, keeps its
held requests, and serves again once descriptors are free."""
import os
import resource
import socket
import subprocess
import time

import harness


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_descriptors_pauses_accepting_without_spinning(tmp_path):
    d = str(tmp_path)
    ctl, data = os.path.join(d, "control.sock"), os.path.join(d, "data.sock")
    limit = 48
    proc = subprocess.Popen(
        [harness.holdfast_binary(), "--control", "unix:" + ctl, "--data", "unix:" + data,
         "--trusted-control", "--poll-timeout", "30"],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "stderr"), "wb"),
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)))
    conns = []
    try:
        harness.wait_until(lambda: os.path.exists(ctl) and os.path.exists(data), 10,
                           what="sockets")
        # more connections than descriptors: the rest wait in the listen backlog
        for i in range(limit + 20):
            s = socket.socket(socket.AF_UNIX)
            s.connect(data)
            conns.append(s)
        time.sleep(0.5)
        before = cpu_seconds(proc.pid)
        time.sleep(1.5)
        used = cpu_seconds(proc.pid) - before
        assert used < 0.5, "holdfast used %.2f s of CPU in 1.5 s while out of fds" % used
        assert proc.poll() is None
        for s in conns:
            s.close()
        conns = []
        # descriptors are free again: the control socket answers
        def stats_ok():
            try:
                return harness.fcgi_call(ctl, "GET", "/push/ctl/stats").status == 200
            except OSError:
                return False
        harness.wait_until(stats_ok, 5, what="stats after the fds were released")
        err = open(os.path.join(d, "stderr")).read()
        assert "file descriptors" in err and "paused" in err
    finally:
        for s in conns:
            s.close()
        code, _ = harness.stop_process(proc)
        assert code == 0, open(os.path.join(d, "stderr")).read()[-3000:]
        assert harness.sanitizer_report(open(os.path.join(d, "stderr")).read()) is None
