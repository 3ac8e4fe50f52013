#!/usr/bin/env python3
"""How much Redis work a long-poll fan-out costs the Redis engine (docs/performance.md, "Redis
engine"): starts the `holdfast-redis` stack of bench/stacks.py (one holdfast on a fresh
redis-server behind lighttpd), holds N subscribers, publishes COUNT messages at RATE per second
from one pipelining connection, and prints the publisher's achieved rate, CPU per process group,
Redis's per-command counts over the publishes (INFO commandstats) and the subscribers' sequence
accounting. Build first with scripts/bench (build-bench/).

  bench/redis_reads.py [--subs 100] [--rate 1000] [--count 2000] [--transport longpoll]
"""
import argparse, os, socket, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import stacks  # noqa: E402

REPO = os.path.dirname(HERE)


def redis_command(port, *args):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(("*%d\r\n" % len(args) + "".join(
            "$%d\r\n%s\r\n" % (len(a), a) for a in args)).encode())
        time.sleep(0.2)
        return s.recv(1 << 20).decode()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--subs", type=int, default=100)
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--transport", default="longpoll")
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build-bench"))
    a = ap.parse_args()
    stack = stacks.HoldfastRedisStack(tempfile.mkdtemp(prefix="hf-rr-"),
                                      os.path.join(a.build_dir, "holdfast"),
                                      os.path.join(REPO, "deploy"), 1)
    cfg = argparse.Namespace(per_proc=5000,
                             loadgen=os.path.join(a.build_dir, "loadgen", "holdfast-loadgen"))
    stack.start()
    try:
        gens, _ = bench.start_subs(cfg, stack, "rr", a.transport, a.subs, a.count, 120)
        bench.wait_held(stack, a.subs, 30)
        redis_command(stack.redis.port, "CONFIG", "RESETSTAT")
        c0, t0 = bench.server_cpu(stack), time.monotonic()
        path, auth = stack.pub("rr")
        pub = bench.Gen(cfg.loadgen, "pub", stack.port, ["--path", path, "--count", a.count,
                                                          "--rate", a.rate, "--auth", auth,
                                                          "--window", 8, "--duration", 90])
        pres = pub.result(100)
        c1, t1 = bench.server_cpu(stack), time.monotonic()
        stats = redis_command(stack.redis.port, "INFO", "commandstats")
        for g in gens:
            g.stop()
        seq = bench.merge_subs([g.result(10) for g in gens])["seq"]
    finally:
        stack.stop()
    print("achieved %.1f msg/s, publish rtt p50 %.3f ms, %.2f s" % (
        pres["achieved_rate"], pres["rtt_ns"]["p50"] / 1e6, t1 - t0))
    print("CPU s:", {k: round(c1[k] - c0[k], 2) for k in c0})
    for line in stats.splitlines():
        if line.startswith("cmdstat_"):
            print(line)
    print("subscribers:", seq)


if __name__ == "__main__":
    sys.exit(main())
