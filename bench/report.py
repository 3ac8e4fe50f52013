"""The benchmark's report (bench/bench.py): the machine's facts, markdown tables per scenario
and gnuplot plots."""
import os, platform, re, subprocess, shutil

from stacks import log

def machine():
    info = {"nproc": os.cpu_count(), "kernel": platform.release()}
    with open("/proc/cpuinfo") as f:
        m = re.search(r"model name\s*:\s*(.*)", f.read())
        info["cpu_model"] = m.group(1).strip() if m else "?"
    with open("/proc/meminfo") as f:
        info["ram_kib"] = int(re.search(r"MemTotal:\s*(\d+)", f.read()).group(1))
    for tool, cmd in (("lighttpd", ["lighttpd", "-v"]), ("nginx", ["nginx", "-v"])):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=5)
            info[tool] = (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            info[tool] = None
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libnginx-mod-nchan"],
                           capture_output=True, text=True, timeout=5)
        info["nchan"] = r.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        info["nchan"] = None
    return info


def fmt_us(d):
    """web / backend / redis / total CPU µs per delivery ("-" for a group the stack lacks)."""
    if not d or d.get("total") is None:
        return "-"
    redis = "%.1f" % d["redis"] if d.get("redis") else "-"
    return "%.1f / %.1f / %s / %.1f" % (d["web"], d["backend"], redis, d["total"])


def table(results):
    out = []
    a = [r for r in results if r["scenario"] == "A"]
    if a:
        out += ["### A. Held subscribers (memory per held subscriber, from Pss/Rss deltas)", "",
                "| server | transport | subs | ready | held (server, end) | open (client, end) | web Pss B/sub | backend Pss B/sub | backend Rss B/sub | redis Pss B/sub | total Pss B/sub | server CPU % (web/backend) | client CPU s |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in a:
            p = r["per_subscriber"]
            out.append("| %s | %s | %d | %d | %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %s/%s | %s |" % (
                r["server"], r["transport"], r["subscribers"], r["ready"], r["server_held_end"],
                r["client_open_end"], p["web_pss_per_sub_bytes"], p["backend_pss_per_sub_bytes"],
                p["backend_rss_per_sub_bytes"], p.get("redis_pss_per_sub_bytes", 0),
                p["total_pss_per_sub_bytes"],
                r["server_cpu"]["web_pct"], r["server_cpu"]["backend_pct"], r["client_cpu_s"]))
        out.append("")
    b = [r for r in results if r["scenario"] == "B"]
    if b:
        out += ["### B. Fan-out to N subscribers of one channel (20 publishes)", "",
                "| server | transport | subs | delivered % | p50 ms | p99 ms | max ms | 100% delivered: median / max ms | lost | dup | ooo | server CPU s (web/backend) | CPU µs/delivery web / backend / redis / total | client CPU s | wall s |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in b:
            s = r["seq"]
            out.append("| %s | %s | %d | %.2f | %.2f | %.2f | %.2f | %s / %s | %d | %d | %d | %s/%s | %s | %s | %s |" % (
                r["server"], r["transport"], r["subscribers"], r["delivered_pct"],
                r["latency_ms"]["p50"], r["latency_ms"]["p99"], r["latency_ms"]["max"],
                r["time_to_100pct_ms"]["median"], r["time_to_100pct_ms"]["max"], s["lost"],
                s["duplicates"], s["out_of_order"], r["server_cpu"]["web"],
                r["server_cpu"]["backend"], fmt_us(r.get("cpu_per_delivery_us")),
                r["client_cpu_s"], r["server_cpu"]["wall_s"]))
        out.append("")
    c = [r for r in results if r["scenario"] == "C"]
    if c:
        out += ["### C. Publish rate with zero loss (one publisher connection, requests pipelined in order)", "",
                "| server | transport | subs | highest zero-loss rate msg/s | steps (target→achieved, clean) | publisher CPU % at last step | server CPU % web/backend at last step | CPU µs/delivery web / backend / redis / total, fastest clean step |",
                "|---|---|---|---|---|---|---|---|"]
        for r in c:
            steps = ", ".join("%s→%.0f %s" % (s["target_rate"], s["achieved_rate"],
                                               "ok" if s["zero_loss"] else "LOSS(lost %d dup %d ooo %d)" % (
                                                   s["seq"]["lost"], s["seq"]["duplicates"], s["seq"]["out_of_order"]))
                              for s in r["steps"])
            last = r["steps"][-1] if r["steps"] else None
            clean = [s for s in r["steps"] if s["zero_loss"]]
            best = max(clean, key=lambda s: s["achieved_rate"]) if clean else None
            out.append("| %s | %s | %d | %.0f | %s | %s | %s | %s |" % (
                r["server"], r["transport"], r["subscribers"], r["max_zero_loss_rate"], steps,
                last["publisher_cpu_pct"] if last else "-",
                "%s/%s" % (last["server_cpu"]["web_pct"], last["server_cpu"]["backend_pct"]) if last else "-",
                fmt_us(best.get("cpu_per_delivery_us")) if best else "-"))
        out.append("")
    e = [r for r in results if r["scenario"] == "E"]
    if e:
        out += ["### E. Publish latency by journal policy (sequential publishes through lighttpd, no subscriber)", "",
                "| journal_sync | publishes | failed | rate msg/s | p50 ms | p99 ms | max ms |",
                "|---|---|---|---|---|---|---|"]
        for r in e:
            out.append("| %s | %d | %d | %.0f | %.3f | %.3f | %.3f |" % (
                "no state_dir" if r["policy"] == "none" else r["policy"], r["publishes"], r["failed"],
                r["rate_per_s"], r["latency_ms"]["p50"], r["latency_ms"]["p99"], r["latency_ms"]["max"]))
        out.append("")
    d = [r for r in results if r["scenario"] == "D"]
    if d:
        out += ["### D. Catch-up (away while 100 messages are published)", "",
                "| server | transport | exact | received | lost | dup | ooo | unexpected |",
                "|---|---|---|---|---|---|---|---|"]
        for r in d:
            s = r["seq"]
            out.append("| %s | %s | %s | %d | %d | %d | %d | %d |" % (
                r["server"], r["transport"], "yes" if r["exact"] else "NO", s["received"],
                s["lost"], s["duplicates"], s["out_of_order"], s["unexpected"]))
        out.append("")
    return "\n".join(out)


def plot_cpu_per_delivery(cfg, results, stamp):
    """B: CPU µs per delivered message, stacked web server + backend, one bar per case."""
    b = [r for r in results if r["scenario"] == "B" and r.get("cpu_per_delivery_us", {}).get("total")]
    if not b:
        return None
    png = os.path.join(cfg.out, "cpu-per-delivery-%s.png" % stamp)
    dat = os.path.join(cfg.out, "cpu-per-delivery-%s.dat" % stamp)
    with open(dat, "w") as f:
        f.write("case web backend redis\n")
        for r in b:
            d = r["cpu_per_delivery_us"]
            f.write('"%s %s %d" %.2f %.2f %.2f\n' % (r["server"], r["transport"], r["subscribers"],
                                                     d["web"], d["backend"], d.get("redis") or 0))
    script = ("set terminal png size 1100,600; set output '%s'; set style data histograms; "
              "set style histogram rowstacked; set style fill solid 0.8 border -1; "
              "set boxwidth 0.7; set xtics rotate by -30; set ylabel 'CPU µs per delivered message'; "
              "set key top left autotitle columnhead; set grid ytics; "
              "set title 'B: server CPU per delivery (web server + backend + redis)'; "
              "plot '%s' using 2:xtic(1), '' using 3, '' using 4\n" % (png, dat))
    subprocess.run(["gnuplot"], input=script, text=True, timeout=60)
    return png


def plots(cfg, results, stamp):
    if not shutil.which("gnuplot"):
        log("gnuplot not found: no plots")
        return []
    made = []
    b = [r for r in results if r["scenario"] == "B" and r.get("latency_cdf_file")]
    if b:
        png = os.path.join(cfg.out, "fanout-latency-%s.png" % stamp)
        series = ", ".join("'%s' using 1:2 with lines lw 2 title '%s %s %d'" % (
            os.path.join(cfg.out, r["latency_cdf_file"]), r["server"], r["transport"],
            r["subscribers"]) for r in b)
        script = ("set terminal png size 1000,600; set output '%s'; set logscale x; "
                  "set xlabel 'per-delivery latency (ms, log)'; set ylabel 'fraction delivered'; "
                  "set key bottom right; set grid; set title 'B: fan-out latency CDF (20 publishes)'; "
                  "plot %s\n" % (png, series))
        subprocess.run(["gnuplot"], input=script, text=True, timeout=60)
        made.append(png)
    png = plot_cpu_per_delivery(cfg, results, stamp)
    if png:
        made.append(png)
    a = [r for r in results if r["scenario"] == "A"]
    if a:
        png = os.path.join(cfg.out, "memory-vs-subscribers-%s.png" % stamp)
        dat = os.path.join(cfg.out, "memory-%s.dat" % stamp)
        keys = sorted({(r["server"], r["transport"]) for r in a})
        with open(dat, "w") as f:
            for k in keys:
                f.write("# %s %s\n" % k)
                f.write("0 0\n")
                for r in sorted((r for r in a if (r["server"], r["transport"]) == k),
                                key=lambda r: r["subscribers"]):
                    added = (r["mem_held"]["web"]["pss_kib"] - r["mem_before"]["web"]["pss_kib"] +
                             r["mem_held"]["backend"]["pss_kib"] - r["mem_before"]["backend"]["pss_kib"])
                    f.write("%d %.3f\n" % (r["subscribers"], added / 1024.0))
                f.write("\n\n")
        series = ", ".join("'%s' index %d using 1:2 with linespoints lw 2 title '%s %s'" % (
            dat, i, k[0], k[1]) for i, k in enumerate(keys))
        script = ("set terminal png size 1000,600; set output '%s'; "
                  "set xlabel 'held subscribers'; set ylabel 'added Pss, web server + backend (MiB)'; "
                  "set key top left; set grid; set title 'A: memory vs held subscribers'; "
                  "plot %s\n" % (png, series))
        subprocess.run(["gnuplot"], input=script, text=True, timeout=60)
        made.append(png)
    return made
