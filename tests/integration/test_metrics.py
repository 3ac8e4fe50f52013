"""/metrics against Prometheus' own checker (promtool check metrics), and the Grafana dashboard
in deploy/grafana against the metrics that exist."""
import json
import os
import re
import shutil
import subprocess

import pytest

from redis_server import RedisServer
from test_redis import Node

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "holdfast.json")


def metrics_after_traffic(env):
    """The exposition after publishes, a subscriber, a 404 and a 400, so every family has samples."""
    env.publish("m-a", {"n": 1})
    env.publish("m-b", "text", content_type="text/plain")
    assert env.sub("m-a", transport="poll", since="oldest").status == 200
    assert env.ctl("GET", "/channels/none").status == 404
    assert env.sub("bad%20name", transport="poll").status == 400
    r = env.ctl("GET", "/metrics")
    assert r.status == 200
    assert (r.header("content-type") or "").startswith("text/plain")
    return r.body.decode()


def exposed_names(text):
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def test_promtool_accepts_the_metrics(env):
    promtool = shutil.which("promtool")
    if not promtool:
        pytest.skip("promtool missing: HOLDFAST_WITH_PACKAGE=1 scripts/install-deps installs it")
    text = metrics_after_traffic(env)
    p = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True,
                       timeout=30)
    # promtool prints lint problems (naming, HELP, units, ...) and exits non-zero on any.
    assert p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(), \
        (p.stdout + p.stderr).decode()


def redis_engine_metrics(tmp_path):
    """The exposition of a process on the Redis engine (its holdfast_redis_* families)."""
    redis = RedisServer(str(tmp_path)).start()
    node = Node(str(tmp_path), "node", redis.url)
    try:
        r = node.start().ctl("GET", "/metrics")  # start() waits until Redis is reached
        assert r.status == 200
        return r.body.decode()
    finally:
        problems = node.hf.stop()
        redis.stop()
        assert not problems, problems


def test_grafana_dashboard_queries_only_metrics_that_exist(env, tmp_path):
    with open(DASHBOARD) as f:
        dashboard = json.load(f)  # well-formed JSON
    assert dashboard["title"] == "Holdfast" and dashboard["panels"]
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in dashboard["templating"]["list"] if v.get("definition")]
    used = {m for e in exprs for m in re.findall(r"\bholdfast_[a-z_]+", e)}
    # what either engine exposes (the Redis engine adds its holdfast_redis_* families)
    exposed = exposed_names(metrics_after_traffic(env)) | exposed_names(
        redis_engine_metrics(tmp_path))
    assert used, "the dashboard queries no holdfast metric"
    assert used <= exposed, "queried but not exposed: %s" % sorted(used - exposed)
    # and nothing holdfast exposes is left off the dashboard
    assert exposed <= used, "exposed but not charted: %s" % sorted(exposed - used)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
