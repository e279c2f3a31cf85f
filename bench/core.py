"""Pipulate's core performance beside a bare FastHTML + fastlite app, measured in the same run.

    .venv/bin/python bench/core.py            # full run (about 1-2 minutes)
    .venv/bin/python bench/core.py --quick    # smoke run (about 20-30 s)
    .venv/bin/python bench/core.py --json     # machine-readable results on stdout

Figures, each for `python -m pipulate serve` and for bench/bare_app.py (both uvicorn, 127.0.0.1,
log_level=warning, no access log), with the ratio pipulate/bare and the targets:

  cold start      process spawn -> first 200 on GET /, median of N runs, fresh data dir each,
                  the two apps alternating
  idle memory     VmRSS of the server (summed over its process tree) after start and one
                  request (the readiness probe's GET /)
  add-todo        sequential POST /todos (HX-Request, form title) on one keep-alive connection,
                  in blocks of 50 alternating between the apps: p50, p99, and server CPU/request
  throughput      16 closed-loop clients, one keep-alive connection each, rounds alternating
                  between the apps (median of the rounds): req/s, p50, p99, errors
  render 1,000    GET /todos (HX-Request) with 1,000 todos in the selected profile (Pipulate)
                  vs the bare app rendering its 1,000 rows as <li>, requests alternating

The throughput load comes from wrk (`apt-get install wrk`) when installed, else from the asyncio
raw-socket client in loadgen.py (--client chooses); the output says which. All traffic goes to
127.0.0.1; every loop is bounded by count and time; every server started here is stopped by its
PID. With 2+ cores this process (and wrk) is pinned to CPU 0 and the servers to CPU 1. The output
also reports how busy the rest of the machine was: other work skews every figure.

Both apps run with the same SQLite durability: --sync normal (the default, as Pipulate ships:
WAL survives a kill) or --sync full (an fsync per commit, also survives a power cut);
--pipulate-src DIR measures a patched copy of the package in DIR/pipulate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
import servers  # noqa: E402
from loadgen import Connection, build_request, form_body, run_concurrent, run_sequential  # noqa: E402

TARGETS = {
    "cold_start_ratio": 2.0,
    "idle_rss_mib": 60.0,
    "add_p50_ratio": 2.0,
    "throughput_rps": 1000.0,
    "load_p99_ms": 30.0,
    "errors": 0,
    "render_ratio": 1.5,  # a profile's 1,000 todos, every control of each included
}

# load_requests is per round for the python client; load_seconds per round for wrk.
FULL = dict(cold_runs=5, warmup=100, sequential=500, load_warmup=200, load_rounds=3, load_requests=2000,
            load_seconds=2, render_todos=1000, render_warmup=5, render_reps=30)
QUICK = dict(cold_runs=2, warmup=30, sequential=100, load_warmup=50, load_rounds=1, load_requests=800,
             load_seconds=2, render_todos=1000, render_warmup=2, render_reps=8)

ADD_PATH = "/todos"  # Pipulate's add route and the bare app's insert route have the same path
LIST_PATH = "/todos"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def add_request(port: int):
    def make(index: int) -> bytes:
        return build_request(port, "POST", ADD_PATH, form_body(title=f"Bench todo {index}"))

    return make


# --- environment ---------------------------------------------------------------------------------


def pin_cpus(enabled: bool) -> tuple[set[int] | None, str]:
    available = sorted(os.sched_getaffinity(0))
    if not enabled or len(available) < 2:
        return None, f"not pinned ({len(available)} CPU{'s' if len(available) != 1 else ''} available)"
    client_cpu, server_cpu = available[0], available[1]
    os.sched_setaffinity(0, {client_cpu})  # this process; wrk inherits it
    return {server_cpu}, f"load generator on CPU {client_cpu}, server on CPU {server_cpu} (sched_setaffinity)"


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("pipulate", "python-fasthtml", "fastlite", "uvicorn", "starlette", "uvloop", "httptools", "apsw"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def cpu_times() -> list[int]:
    """The aggregate 'cpu' line of /proc/stat: user nice system idle iowait irq softirq steal ..."""
    try:
        return [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return []


class CpuWatch:
    """How much CPU the rest of the machine used while we ran: all busy time (/proc/stat) minus
    this process and the children it waited for (the servers, wrk). Other work on a 2-core machine
    (a test suite, a browser) skews every figure here, the ratios less than the absolute ones."""

    def __init__(self) -> None:
        self.machine, self.own, self.clock = cpu_times(), os.times(), time.monotonic()
        self.loadavg_start = _loadavg()

    def result(self) -> dict:
        machine, own, elapsed = cpu_times(), os.times(), time.monotonic() - self.clock
        if not machine or not self.machine or elapsed <= 0:
            return {}
        hz = os.sysconf("SC_CLK_TCK")
        delta = [b - a for a, b in zip(self.machine, machine, strict=False)]
        busy = (sum(delta[:8]) - delta[3] - delta[4]) / hz
        mine = sum(getattr(own, k) - getattr(self.own, k)
                   for k in ("user", "system", "children_user", "children_system"))
        return {
            "others_cores": max(0.0, (busy - mine) / elapsed),
            "ours_cores": mine / elapsed,
            "steal_pct": 100 * delta[7] / (sum(delta[:8]) or 1),
            "iowait_pct": 100 * delta[4] / (sum(delta[:8]) or 1),
            "loadavg_start": self.loadavg_start,
            "loadavg_end": _loadavg(),
        }


def _loadavg() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def git_revision() -> str:
    import subprocess

    try:
        head = subprocess.run(["git", "-C", str(servers.REPO_DIR), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(servers.REPO_DIR), "status", "--porcelain", "--", "pipulate"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return f"{head}{' + uncommitted changes in pipulate/' if dirty else ''}" if head else "?"


def fsync_probe(folder: Path, count: int) -> dict:
    """What one durable commit costs on the disk under the data dirs: raw fsync, and a one-row
    SQLite INSERT in WAL mode with synchronous=FULL (fastlite's default) and NORMAL."""
    from fastlite import database

    probe_dir = Path(tempfile.mkdtemp(prefix="fsync-probe-", dir=folder))
    try:
        path = probe_dir / "probe"
        times = []
        fd = os.open(path, os.O_WRONLY | os.O_CREAT)
        try:
            for _ in range(count):
                os.write(fd, b"x" * 4096)
                t0 = time.perf_counter()
                os.fsync(fd)
                times.append(time.perf_counter() - t0)
        finally:
            os.close(fd)
        out = {"fsync": summarize(times)}
        db = database(probe_dir / "probe.db")
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, title TEXT)")
        for mode in ("FULL", "NORMAL"):
            db.execute(f"PRAGMA synchronous = {mode}")
            times = []
            for index in range(count):
                t0 = time.perf_counter()
                db.execute("INSERT INTO t (title) VALUES (?) RETURNING id", [f"probe {index}"]).fetchall()
                times.append(time.perf_counter() - t0)
            out[f"sqlite_insert_{mode.lower()}"] = summarize(times)
        db.close()
        return out
    finally:
        shutil.rmtree(probe_dir, ignore_errors=True)


def summarize(seconds: list[float]) -> dict:
    """Milliseconds."""
    if not seconds:
        return {"n": 0}
    return {
        "n": len(seconds),
        "p50_ms": loadgen.percentile(seconds, 50) * 1e3,
        "p90_ms": loadgen.percentile(seconds, 90) * 1e3,
        "p99_ms": loadgen.percentile(seconds, 99) * 1e3,
        "max_ms": max(seconds) * 1e3,
        "mean_ms": statistics.fmean(seconds) * 1e3,
    }


def result_summary(result: loadgen.Result) -> dict:
    out = {
        "requests": result.count,
        "errors": result.errors,
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
        "failures": dict(result.failures),
        "elapsed_s": result.elapsed,
        "rps": result.rate,
        "client": result.client,
    }
    for p in (50, 90, 99):
        out[f"p{p}_ms"] = result.percentile(p) * 1e3
    out["max_ms"] = result.percentile(100) * 1e3
    if result.latencies:
        out["mean_ms"] = statistics.fmean(result.latencies) * 1e3
    return out


# --- the measurements ----------------------------------------------------------------------------


@dataclass
class Spawn:
    """How servers are started in this run."""

    cpus: set[int] | None
    sync_normal: bool
    env: dict
    pipulate_src: Path | None = None

    def __call__(self, app: str, data_dir: Path) -> servers.Server:
        return servers.start(app, data_dir, self.cpus, self.sync_normal, self.env,
                             self.pipulate_src if app == "pipulate" else None)


def measure_cold_start(root: Path, runs: int, spawn: Spawn) -> dict:
    """Spawn -> first 200 on /, fresh data dir each time, the two apps alternating. One run of each
    before, not counted, so both start with the same warm file cache."""
    times = {app: [] for app in servers.APPS}
    for run in range(runs + 1):
        for app in servers.APPS:
            server = spawn(app, root / f"cold-{app}-{run}" / "data")
            try:
                seconds = server.wait_ready()
            finally:
                server.stop()
            if run > 0:
                times[app].append(seconds)
    return {app: {"runs_ms": [t * 1e3 for t in times[app]], "median_ms": statistics.median(times[app]) * 1e3}
            for app in servers.APPS}


def measure_main(root: Path, cfg: dict, spawn: Spawn, client: str) -> dict:
    """Both servers up at once (the idle one costs nothing); memory, then sequential add latency in
    alternating blocks, then throughput with 16 clients, one app after the other."""
    out = {app: {"errors": 0} for app in servers.APPS}
    running = {}
    try:
        for app in servers.APPS:
            running[app] = spawn(app, root / f"main-{app}" / "data")
            running[app].wait_ready()
        # Idle memory: after start and exactly one request, the readiness probe's GET / (200).
        time.sleep(0.3)
        for app, server in running.items():
            out[app]["idle"] = {
                "rss_mib": server.rss_kib() / 1024,
                "tree_rss_mib": server.tree_rss_kib() / 1024,
                "processes": len(server.process_tree()),
                "threads": server.threads(),
            }

        # Sequential add-todo: warm-up, then blocks of 50 alternating between the apps so that
        # disk hiccups (fsync on this VM varies a lot) fall on both alike.
        for app, server in running.items():
            warm = run_sequential(server.port, add_request(server.port), cfg["warmup"], start=0)
            out[app]["errors"] += warm.errors
        merged = {app: loadgen.Result() for app in servers.APPS}
        cpu = {app: 0.0 for app in servers.APPS}
        block = 50
        done = 0
        while done < cfg["sequential"]:
            size = min(block, cfg["sequential"] - done)
            for app, server in running.items():
                cpu_before = server.cpu_seconds()
                part = run_sequential(server.port, add_request(server.port), size, start=100_000 + done)
                cpu[app] += server.cpu_seconds() - cpu_before
                merged[app].latencies += part.latencies
                merged[app].statuses.update(part.statuses)
                merged[app].failures.update(part.failures)
                merged[app].elapsed += part.elapsed
            done += size
        for app in servers.APPS:
            out[app]["sequential"] = result_summary(merged[app])
            out[app]["sequential"]["server_cpu_us_per_request"] = cpu[app] / max(1, merged[app].count) * 1e6
            out[app]["errors"] += merged[app].errors

        # Throughput: 16 closed-loop clients, in rounds alternating between the apps; each figure
        # is the median over the rounds, so one disturbed round does not decide it.
        for app, server in running.items():
            warm = run_concurrent(server.port, add_request(server.port), cfg["load_warmup"], 16)
            out[app]["errors"] += warm.errors
        rounds = {app: [] for app in servers.APPS}
        for round_number in range(cfg["load_rounds"]):
            for app, server in running.items():
                log(f"  throughput round {round_number + 1}/{cfg['load_rounds']}: {servers.LABELS[app]} ...")
                cpu_before = server.cpu_seconds()
                if client == "wrk":
                    result = loadgen.run_wrk(server.port, "POST", ADD_PATH, cfg["load_seconds"], 16,
                                             title_prefix=f"wrk {round_number} todo")
                else:
                    offset = 1_000_000 * (round_number + 1)
                    result = run_concurrent(server.port, lambda i, p=server.port, o=offset: add_request(p)(o + i),
                                            cfg["load_requests"], 16, time_limit=120)
                rounds[app].append(result_summary(result))
                rounds[app][-1]["server_cpu_us_per_request"] = ((server.cpu_seconds() - cpu_before)
                                                                / max(1, result.count) * 1e6)
                out[app]["errors"] += result.errors
        for app, server in running.items():
            per_round = rounds[app]
            out[app]["load"] = {
                "rps": statistics.median(r["rps"] for r in per_round),
                "p50_ms": statistics.median(r["p50_ms"] for r in per_round),
                "p99_ms": statistics.median(r["p99_ms"] for r in per_round),
                "requests": sum(r["requests"] for r in per_round),
                "errors": sum(r["errors"] for r in per_round),
                "client": per_round[0]["client"],
                "server_cpu_us_per_request": statistics.median(r["server_cpu_us_per_request"] for r in per_round),
                "rounds": per_round,
            }
            out[app]["after_load_rss_mib"] = server.rss_kib() / 1024
            out[app]["rows_after"] = (cfg["warmup"] + cfg["sequential"] + cfg["load_warmup"]
                                      + out[app]["load"]["requests"])
    finally:
        for server in running.values():
            server.stop()
    return out


def count_items(body: bytes) -> int:
    return body.count(b"<li")


def measure_render(root: Path, cfg: dict, spawn: Spawn) -> dict:
    """Fresh servers; 1,000 todos added through each app's own add route; then GET /todos,
    alternating between the two apps request by request."""
    out, running, times, sizes, items, errors, seeds = {}, {}, {}, {}, {}, {}, {}
    try:
        for app in servers.APPS:
            running[app] = spawn(app, root / f"render-{app}" / "data")
            running[app].wait_ready()
        for app, server in running.items():
            seeds[app] = run_sequential(server.port, add_request(server.port), cfg["render_todos"])
            times[app], sizes[app], items[app], errors[app] = [], set(), set(), seeds[app].errors
        cpu = {app: 0.0 for app in servers.APPS}
        connections = {app: Connection(server.port) for app, server in running.items()}
        try:
            for rep in range(cfg["render_warmup"] + cfg["render_reps"]):
                for app, server in running.items():
                    raw = build_request(server.port, "GET", LIST_PATH)
                    cpu_before = server.cpu_seconds()
                    t0 = time.perf_counter()
                    status, body = connections[app].request(raw)
                    elapsed = time.perf_counter() - t0
                    errors[app] += status != 200
                    if rep >= cfg["render_warmup"]:
                        times[app].append(elapsed)
                        cpu[app] += server.cpu_seconds() - cpu_before
                    sizes[app].add(len(body))
                    items[app].add(count_items(body))
        finally:
            for connection in connections.values():
                connection.close()
    finally:
        for server in running.values():
            server.stop()
    for app in servers.APPS:
        out[app] = {
            **summarize(times[app]),
            "median_ms": statistics.median(times[app]) * 1e3,
            "bytes": max(sizes[app]),
            "items": sorted(items[app]),
            "errors": errors[app] + (items[app] != {cfg["render_todos"]}),
            "seed_p50_ms": seeds[app].percentile(50) * 1e3,
            "server_cpu_ms_per_request": cpu[app] / max(1, len(times[app])) * 1e3,
        }
    return out


# --- report --------------------------------------------------------------------------------------


def evaluate(data: dict) -> dict:
    p, b = data["apps"]["pipulate"], data["apps"]["bare"]
    targets = {}

    def target(key, value, goal, ok, bare_ok=None):
        targets[key] = {"value": value, "target": goal, "pass": bool(ok), "bare_would_pass": bare_ok}

    cold = p["cold_start_ms"] / b["cold_start_ms"]
    target("cold_start", cold, f"<= {TARGETS['cold_start_ratio']:g}x bare", cold <= TARGETS["cold_start_ratio"])
    target("idle_memory", p["idle"]["tree_rss_mib"], f"< {TARGETS['idle_rss_mib']:g} MiB",
           p["idle"]["tree_rss_mib"] < TARGETS["idle_rss_mib"], b["idle"]["tree_rss_mib"] < TARGETS["idle_rss_mib"])
    add = p["sequential"]["p50_ms"] / b["sequential"]["p50_ms"]
    target("add_todo_p50", add, f"<= {TARGETS['add_p50_ratio']:g}x bare", add <= TARGETS["add_p50_ratio"])
    target("throughput", p["load"]["rps"], f">= {TARGETS['throughput_rps']:g} req/s",
           p["load"]["rps"] >= TARGETS["throughput_rps"], b["load"]["rps"] >= TARGETS["throughput_rps"])
    target("p99_under_load", p["load"]["p99_ms"], f"< {TARGETS['load_p99_ms']:g} ms",
           p["load"]["p99_ms"] < TARGETS["load_p99_ms"], b["load"]["p99_ms"] < TARGETS["load_p99_ms"])
    target("errors", p["errors_total"], "0", p["errors_total"] == 0, b["errors_total"] == 0)
    render = p["render"]["median_ms"] / b["render"]["median_ms"]
    target("render_1000", render, f"<= {TARGETS['render_ratio']:g}x bare", render <= TARGETS["render_ratio"])
    return targets


def ratio(a, b) -> str:
    try:
        return f"{a / b:.2f}x"
    except (TypeError, ZeroDivisionError):
        return "-"


def render_table(data: dict) -> str:
    p, b, t = data["apps"]["pipulate"], data["apps"]["bare"], data["targets"]
    meta = data["meta"]

    def verdict(key):
        entry = t[key]
        text = "PASS" if entry["pass"] else "MISS"
        if entry["bare_would_pass"] is not None:
            text += f" (bare: {'pass' if entry['bare_would_pass'] else 'miss'})"
        return text

    def ms(v):
        return f"{v:.2f} ms" if v < 10 else f"{v:.1f} ms"

    def us(v):
        return f"{v:.0f} us"

    rows = [
        ("cold start: spawn -> first 200 on / (median)", ms(p["cold_start_ms"]), ms(b["cold_start_ms"]),
         ratio(p["cold_start_ms"], b["cold_start_ms"]), t["cold_start"]["target"], verdict("cold_start")),
        ("idle RSS after start + 1 request", f"{p['idle']['tree_rss_mib']:.1f} MiB", f"{b['idle']['tree_rss_mib']:.1f} MiB",
         ratio(p["idle"]["tree_rss_mib"], b["idle"]["tree_rss_mib"]), t["idle_memory"]["target"], verdict("idle_memory")),
        ("  server processes / threads", f"{p['idle']['processes']} / {p['idle']['threads']}",
         f"{b['idle']['processes']} / {b['idle']['threads']}", "", "", ""),
        ("add-todo, sequential p50", ms(p["sequential"]["p50_ms"]), ms(b["sequential"]["p50_ms"]),
         ratio(p["sequential"]["p50_ms"], b["sequential"]["p50_ms"]), t["add_todo_p50"]["target"], verdict("add_todo_p50")),
        ("add-todo, sequential p99", ms(p["sequential"]["p99_ms"]), ms(b["sequential"]["p99_ms"]),
         ratio(p["sequential"]["p99_ms"], b["sequential"]["p99_ms"]), "", ""),
        ("add-todo, sequential mean", ms(p["sequential"]["mean_ms"]), ms(b["sequential"]["mean_ms"]),
         ratio(p["sequential"]["mean_ms"], b["sequential"]["mean_ms"]), "", ""),
        ("  server CPU per add-todo (sequential)", us(p["sequential"]["server_cpu_us_per_request"]),
         us(b["sequential"]["server_cpu_us_per_request"]),
         ratio(p["sequential"]["server_cpu_us_per_request"], b["sequential"]["server_cpu_us_per_request"]), "", ""),
        ("throughput, 16 clients (add-todo)", f"{p['load']['rps']:.0f} req/s", f"{b['load']['rps']:.0f} req/s",
         ratio(p["load"]["rps"], b["load"]["rps"]), t["throughput"]["target"], verdict("throughput")),
        ("  p50 under load", ms(p["load"]["p50_ms"]), ms(b["load"]["p50_ms"]),
         ratio(p["load"]["p50_ms"], b["load"]["p50_ms"]), "", ""),
        ("  p99 under load", ms(p["load"]["p99_ms"]), ms(b["load"]["p99_ms"]),
         ratio(p["load"]["p99_ms"], b["load"]["p99_ms"]), t["p99_under_load"]["target"], verdict("p99_under_load")),
        ("  server CPU per add-todo under load", us(p["load"]["server_cpu_us_per_request"]),
         us(b["load"]["server_cpu_us_per_request"]),
         ratio(p["load"]["server_cpu_us_per_request"], b["load"]["server_cpu_us_per_request"]), "", ""),
        ("  requests under load (all rounds)", str(p["load"]["requests"]), str(b["load"]["requests"]), "", "", ""),
        ("errors, all phases", str(p["errors_total"]), str(b["errors_total"]), "", t["errors"]["target"], verdict("errors")),
        ("render 1,000 todos: GET /todos (median)", ms(p["render"]["median_ms"]), ms(b["render"]["median_ms"]),
         ratio(p["render"]["median_ms"], b["render"]["median_ms"]), t["render_1000"]["target"], verdict("render_1000")),
        ("  response size", f"{p['render']['bytes'] / 1024:.0f} KiB", f"{b['render']['bytes'] / 1024:.0f} KiB",
         ratio(p["render"]["bytes"], b["render"]["bytes"]), "", ""),
        ("  server CPU per render", ms(p["render"]["server_cpu_ms_per_request"]),
         ms(b["render"]["server_cpu_ms_per_request"]),
         ratio(p["render"]["server_cpu_ms_per_request"], b["render"]["server_cpu_ms_per_request"]), "", ""),
        ("RSS after the load test (info)", f"{p['after_load_rss_mib']:.1f} MiB", f"{b['after_load_rss_mib']:.1f} MiB",
         ratio(p["after_load_rss_mib"], b["after_load_rss_mib"]), "", ""),
    ]
    header = ("figure", "Pipulate", "bare FastHTML", "ratio", "target", "result")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for n, row in enumerate([header, *rows]):
        cells = [str(c).ljust(w) if i == 0 else str(c).rjust(w) if i < 4 else str(c).ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    probe = meta["disk_probe"]
    passed = sum(v["pass"] for v in t.values())
    notes = [
        "",
        f"targets met: {passed}/{len(t)}" + ("" if passed == len(t) else
                                              "  (MISS: " + ", ".join(k for k, v in t.items() if not v["pass"]) + ")"),
        "",
        f"mode: {meta['mode']} ({meta['seconds']:.0f} s); pipulate at {meta['pipulate_revision']}; "
        f"SQLite synchronous: {meta['sqlite_synchronous']}",
        f"load generator (throughput): {meta['load_client']}; sequential latency, seeding and probes: "
        "python blocking raw socket, HTTP/1.1 keep-alive",
        f"CPU pinning: {meta['pinning']}",
        contention_note(meta["cpu_during_run"]),
        f"machine: {meta['cpus']} CPUs, {meta['cpu_model']}; Python {meta['versions']['python']}, "
        f"fasthtml {meta['versions']['python-fasthtml']}, fastlite {meta['versions']['fastlite']}, "
        f"uvicorn {meta['versions']['uvicorn']} (uvloop {meta['versions']['uvloop']}, httptools {meta['versions']['httptools']})",
        f"data dirs under {meta['data_root']}: fsync p50 {probe['fsync']['p50_ms']:.2f} ms, mean {probe['fsync']['mean_ms']:.2f} ms, "
        f"p99 {probe['fsync']['p99_ms']:.1f} ms; one-row INSERT commit, WAL + synchronous=FULL: "
        f"p50 {probe['sqlite_insert_full']['p50_ms']:.2f} / mean {probe['sqlite_insert_full']['mean_ms']:.2f} ms, "
        f"NORMAL: p50 {probe['sqlite_insert_normal']['p50_ms']:.3f} / mean {probe['sqlite_insert_normal']['mean_ms']:.3f} ms",
        f"bare insert: {meta['bare_insert']}; cold start: median of {meta['cold_runs']} runs per app after one uncounted "
        "run each, fresh data dir, warm file cache",
        f"idle RSS: VmRSS summed over the server's process tree ({p['idle']['processes']} process"
        f"{'es' if p['idle']['processes'] != 1 else ''} for Pipulate); p99 target applies to the 16-client test",
    ]
    return "\n".join(lines + notes)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def contention_note(cpu: dict) -> str:
    if not cpu:
        return "other load during the run: unknown"
    text = (f"other load during the run: {cpu['others_cores']:.2f} CPUs busy with other processes "
            f"(this bench and its servers: {cpu['ours_cores']:.2f}); steal {cpu['steal_pct']:.1f}%, "
            f"iowait {cpu['iowait_pct']:.1f}%, load average {cpu['loadavg_start']} -> {cpu['loadavg_end']}")
    if cpu["others_cores"] > 0.15:
        text += "\nWARNING: the machine was not quiet; figures are skewed (ratios less than absolutes). Rerun when idle."
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Pipulate vs a bare FastHTML app: start, memory, latency, throughput.")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (fewer runs and requests)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout (the table goes to stderr)")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto",
                        help="throughput load generator: wrk when installed (auto), or the asyncio raw-socket client")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the load generator and the server to separate CPUs")
    parser.add_argument("--data-root", type=Path, default=None,
                        help="where the temporary data dirs go (default: the system temp dir, i.e. a real disk here)")
    parser.add_argument("--sync", choices=("normal", "full"), default="normal",
                        help="SQLite synchronous for both apps: normal (Pipulate's default) or full (fsync per commit)")
    parser.add_argument("--pipulate-src", type=Path, default=None,
                        help="measure the pipulate package in this folder instead (e.g. a patched copy: DIR/pipulate)")
    parser.add_argument("--bare-insert", choices=("fastlite", "sql"), default="fastlite",
                        help="the bare app's insert: fastlite table.insert() (default) or a raw INSERT ... RETURNING")
    args = parser.parse_args(argv)

    cfg = QUICK if args.quick else FULL
    client = args.client
    if client == "auto":
        client = "wrk" if loadgen.wrk_path() else "python"
    elif client == "wrk" and not loadgen.wrk_path():
        parser.error("wrk is not installed (apt-get install -y wrk)")
    cpus, pinning = pin_cpus(not args.no_pin)
    sync_normal = args.sync == "normal"
    if args.pipulate_src and not (args.pipulate_src / "pipulate" / "__init__.py").is_file():
        parser.error(f"--pipulate-src: no pipulate package in {args.pipulate_src}")
    spawn = Spawn(cpus, sync_normal, {"BENCH_BARE_INSERT": "sql"} if args.bare_insert == "sql" else {},
                  args.pipulate_src.resolve() if args.pipulate_src else None)

    root = Path(tempfile.mkdtemp(prefix="pipulate-bench-", dir=args.data_root))
    started = time.time()
    watch = CpuWatch()
    if (watch.loadavg_start or 0) > 0.5:
        log(f"  note: load average {watch.loadavg_start:.2f} before the start: something else is running")
    try:
        log(f"pipulate bench ({'quick' if args.quick else 'full'}), data under {root}")
        log("  disk probe ...")
        probe = fsync_probe(root, 100 if args.quick else 300)
        log(f"  cold start ({cfg['cold_runs']} runs each, +1 uncounted) ...")
        cold = measure_cold_start(root, cfg["cold_runs"], spawn)
        log("  memory, sequential add-todo, throughput ...")
        main_results = measure_main(root, cfg, spawn, client)
        log(f"  render {cfg['render_todos']} todos ...")
        render = measure_render(root, cfg, spawn)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    cpu = watch.result()

    apps = {}
    for app in servers.APPS:
        apps[app] = {
            "cold_start_ms": cold[app]["median_ms"],
            "cold_start_runs_ms": cold[app]["runs_ms"],
            **main_results[app],
            "render": render[app],
        }
        apps[app]["errors_total"] = main_results[app]["errors"] + render[app]["errors"]
    load_client = apps["pipulate"]["load"]["client"]
    if client == "python":
        load_client += f", 16 virtual clients, {plural(cfg['load_rounds'], 'round')} of {cfg['load_requests']} requests"
    else:
        load_client += f", {plural(cfg['load_rounds'], 'round')}"
    if cfg["load_rounds"] > 1:
        load_client += " per app, alternating between the apps; median of the rounds"
    data = {
        "meta": {
            "mode": "quick" if args.quick else "full",
            "config": cfg,
            "load_client": load_client,
            "pinning": pinning,
            "cpus": os.cpu_count(),
            "cpu_model": cpu_model(),
            "versions": versions(),
            "data_root": str(root.parent),
            "disk_probe": probe,
            "sqlite_synchronous": ("NORMAL" if sync_normal else "FULL") + " (both apps), WAL",
            "bare_insert": "raw INSERT ... RETURNING" if args.bare_insert == "sql" else "fastlite table.insert()",
            "cold_runs": cfg["cold_runs"],
            "seconds": round(time.time() - started, 1),
            "cpu_during_run": cpu,
            "pipulate_revision": (f"the copy in {args.pipulate_src.resolve()}" if args.pipulate_src
                                  else git_revision()),
        },
        "apps": apps,
    }
    data["targets"] = evaluate(data)
    table = render_table(data)
    if args.json:
        print(table, file=sys.stderr)
        print(json.dumps(data, indent=2, default=str))
    else:
        print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
