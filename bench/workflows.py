"""Workflows, measured beside a plain FastHTML form post that stores one row, in one run.

    .venv/bin/python bench/workflows.py            # about 2 minutes
    .venv/bin/python bench/workflows.py --quick    # fewer requests, about 1 minute

Figures: submit of a trivial step (p50/p99, vs bare FastHTML's POST /todos), opening a run of
10 done steps, a job step's start to its first progress shown (the first job of a process pays
for loading the job engine; then warm), the cost of one checkpoint, the time a restarted server
takes to resume a pending job (killed with SIGKILL), cold start and idle memory with workflows
installed (vs bare FastHTML and the figures before workflows), and the preview of a
1,000,000-row result file (first page; memory that does not grow with the file).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen  # noqa: E402
import servers  # noqa: E402

PLUGINS = Path(__file__).resolve().parent / "workflow_plugins.py"
BEFORE_WORKFLOWS = {"cold_start_ms": 327, "idle_mib": 57.2}  # README, bench/core.py before this work
HTMX = {"HX-Request": "true"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def start(app: str, root: Path, env: dict | None = None) -> servers.Server:
    server = servers.start(app, root / "data", sync_normal=True, extra_env=env)
    server.wait_ready()
    return server


def project(root: Path) -> Path:
    (root / "plugins").mkdir(parents=True, exist_ok=True)
    shutil.copy(PLUGINS, root / "plugins" / "workflow_plugins.py")
    return root


def new_run(client: httpx.Client, workflow: str) -> str:
    answer = client.post(f"/{workflow}/runs", headers=HTMX)
    answer.raise_for_status()
    return answer.headers["HX-Push-Url"].rsplit("/", 1)[1]


def wait_step(client, database: Path, key: str, step: str, status: str = "done", timeout: float = 60) -> float:
    deadline = time.perf_counter() + timeout
    with sqlite3.connect(database, timeout=10) as db:
        while time.perf_counter() < deadline:
            row = db.execute("SELECT status FROM workflow_steps WHERE id = ?", [f"{key}/{step}"]).fetchone()
            if row and row[0] == status:
                return time.perf_counter()
            time.sleep(0.005)
    raise TimeoutError(f"{key}/{step} never became {status}")


def percentiles(result: loadgen.Result) -> dict:
    return {"p50": result.percentile(50), "p99": result.percentile(99), "errors": result.errors}


# --- the measurements -------------------------------------------------------------------------


def submit_latency(root: Path, count: int) -> dict:
    bare = start("bare", root / "bare")
    try:
        loadgen.run_sequential(bare.port, lambda i: loadgen.build_request(bare.port, "POST", "/todos", loadgen.form_body(title=f"w{i}")), 50)
        bare_result = loadgen.run_sequential(
            bare.port, lambda i: loadgen.build_request(bare.port, "POST", "/todos", loadgen.form_body(title=f"t{i}")), count)
    finally:
        bare.stop()
    app = start("pipulate", project(root / "app"))
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{app.port}", trust_env=False) as client:
            key = new_run(client, "trivial")
        path = f"/trivial/runs/{key}/steps/note"
        # A different value each time: the step really runs and its row is rewritten.
        loadgen.run_sequential(app.port, lambda i: loadgen.build_request(app.port, "POST", path, loadgen.form_body(text=f"w{i}")), 50)
        submit = loadgen.run_sequential(
            app.port, lambda i: loadgen.build_request(app.port, "POST", path, loadgen.form_body(text=f"t{i}")), count)
        with httpx.Client(base_url=f"http://127.0.0.1:{app.port}", trust_env=False) as client:
            ten = new_run(client, "ten")
            wait_step(client, app.data_dir / "pipulate.db", ten, "s10")
        opened = loadgen.run_sequential(app.port, lambda i: loadgen.build_request(app.port, "GET", f"/ten/runs/{ten}", htmx=False), count // 2)
        body = loadgen.run_sequential(app.port, lambda i: loadgen.build_request(app.port, "GET", f"/ten/runs/{ten}/body"), count // 2)
    finally:
        app.stop()
    return {"bare_post": percentiles(bare_result), "submit": percentiles(submit),
            "open_ten_page": percentiles(opened), "open_ten_body": percentiles(body)}


def job_figures(root: Path, warm_runs: int) -> dict:
    from websockets.sync.client import connect

    app = start("pipulate", project(root / "jobs"))
    try:
        url = f"http://127.0.0.1:{app.port}"
        starts = []
        with httpx.Client(base_url=url, trust_env=False) as client, connect(
                f"ws://127.0.0.1:{app.port}/ws", origin=url, open_timeout=10) as socket:
            for _ in range(warm_runs + 1):
                key = new_run(client, "job-start")
                began = time.perf_counter()
                client.post(f"/job-start/runs/{key}/steps/first_progress", data={"count": "1"}, headers=HTMX).raise_for_status()
                while f'id="progress-{key}-first_progress"' not in socket.recv(timeout=30):
                    pass
                starts.append(time.perf_counter() - began)
            costs = {}
            for use in (True, False):
                key = new_run(client, "checkpoints")
                client.post(f"/checkpoints/runs/{key}/steps/checkpoints",
                            data={"count": "300", "use_checkpoints": "on" if use else ""}, headers=HTMX).raise_for_status()
                wait_step(client, app.data_dir / "pipulate.db", key, "checkpoints", timeout=120)
                costs[use] = json.loads(client.get(f"/checkpoints/runs/{key}/body", headers=HTMX) and _result(app, key))
        checkpoint = (costs[True] - costs[False]) / 300
    finally:
        app.stop()
    return {"first_job_start": starts[0], "warm_job_start": statistics.median(starts[1:]), "checkpoint": checkpoint}


def _result(app, key: str) -> str:
    with sqlite3.connect(app.data_dir / "pipulate.db") as db:
        return db.execute("SELECT result FROM workflow_steps WHERE run_key = ?", [key]).fetchone()[0]


def resume_after_kill(root: Path) -> dict:
    folder = project(root / "resume")
    trace = folder / "trace.txt"
    env = {"BENCH_TRACE": str(trace)}
    app = start("pipulate", folder, env)
    with httpx.Client(base_url=f"http://127.0.0.1:{app.port}", trust_env=False) as client:
        key = new_run(client, "slow")
        client.post(f"/slow/runs/{key}/steps/slow", data={"units": "200"}, headers=HTMX).raise_for_status()
    while not trace.exists() or len(trace.read_text().splitlines()) < 20:
        time.sleep(0.02)
    import os

    os.killpg(app.pid, signal.SIGKILL)
    app.process.wait()
    lines_at_kill = len(trace.read_text().splitlines())
    spawned = time.perf_counter()
    wall_spawned = time.time()
    restarted = servers.start("pipulate", folder / "data", sync_normal=True, extra_env=env)
    answering = restarted.wait_ready()
    while True:
        stamps = [float(line.split()[1]) for line in trace.read_text().splitlines()[lines_at_kill:]]
        if stamps:
            break
        time.sleep(0.005)
    resumed = stamps[0] - wall_spawned
    restarted.stop()
    return {"answering": answering, "resumed": resumed, "spawned_at": spawned}


def cold_and_idle(root: Path, runs: int) -> dict:
    figures = {}
    for app in ("pipulate", "bare"):
        times, rss = [], []
        for number in range(runs):
            server = servers.start(app, root / f"cold-{app}-{number}" / "data", sync_normal=True)
            times.append(server.wait_ready())
            httpx.get(f"http://127.0.0.1:{server.port}/", trust_env=False)
            time.sleep(0.3)
            rss.append(server.tree_rss_kib() / 1024)
            server.stop()
        figures[app] = {"cold_start": statistics.median(times), "idle_mib": statistics.median(rss)}
    return figures


PREVIEW_PROBE = r"""
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from pipulate._workflows.results import preview
path = Path(sys.argv[1])
import pyarrow.parquet  # the server has it loaded once the first table was shown
def rss():
    return int([l for l in open("/proc/self/status") if l.startswith("VmRSS")][0].split()[1]) / 1024
before = rss()
t0 = time.perf_counter(); first = preview(path, 1, 50); first_ms = (time.perf_counter() - t0) * 1000
t0 = time.perf_counter(); last = preview(path, 10**9, 50); last_ms = (time.perf_counter() - t0) * 1000
print(json.dumps({"first_ms": first_ms, "last_ms": last_ms, "rss_growth_mib": rss() - before,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rows": first.total_rows}))
"""


def preview_figures(root: Path) -> dict:
    sys.path.insert(0, str(servers.REPO_DIR))
    import pyarrow as pa
    import pyarrow.compute as pc

    from pipulate._workflows.results import store_result

    figures = {}
    for rows in (100_000, 1_000_000):
        numbers = pa.array(range(rows), pa.int64())
        table = pa.table({"n": numbers, "square": pc.multiply(numbers, numbers),
                          "label": pa.array([f"row {n}" for n in range(rows)])})
        stored = store_result(root / f"preview-{rows}", "rows", table)
        path = root / f"preview-{rows}" / stored.info["file"]
        probe = subprocess.run([sys.executable, "-c", PREVIEW_PROBE, str(path), str(servers.REPO_DIR)],
                               capture_output=True, text=True, check=True)
        figures[rows] = json.loads(probe.stdout) | {"file_mib": path.stat().st_size / 2**20}
    return figures


# --- the report -------------------------------------------------------------------------------


def report(data: dict) -> str:
    s, j, r, c, p = data["submit"], data["jobs"], data["resume"], data["cold"], data["preview"]
    bare_cold = c["bare"]["cold_start"]
    rows = [
        ("submit a trivial step, p50", ms(s["submit"]["p50"]), ms(s["bare_post"]["p50"]), f"{s['submit']['p50'] / s['bare_post']['p50']:.2f}x", "(reported)"),
        ("submit a trivial step, p99", ms(s["submit"]["p99"]), ms(s["bare_post"]["p99"]), f"{s['submit']['p99'] / s['bare_post']['p99']:.2f}x", "(reported)"),
        ("open a run of 10 done steps (page), p50", ms(s["open_ten_page"]["p50"]), "", "", "(reported)"),
        ("the same, htmx body only, p50", ms(s["open_ten_body"]["p50"]), "", "", "(reported)"),
        ("job start to first progress shown, first job", ms(j["first_job_start"]), "", "", "(loads the job engine)"),
        ("job start to first progress shown, warm", ms(j["warm_job_start"]), "", "", "(reported)"),
        ("one checkpoint", f"{j['checkpoint'] * 1e6:,.0f} µs", "", "", "(reported)"),
        ("restarted server answers", ms(r["answering"]), "", "", "(reported)"),
        ("restarted server resumes the killed job", ms(r["resumed"]), "", "", "(reported)"),
        ("cold start", ms(c["pipulate"]["cold_start"]), ms(bare_cold), f"{c['pipulate']['cold_start'] / bare_cold:.2f}x",
         "within 2x: " + ("pass" if c["pipulate"]["cold_start"] <= 2 * bare_cold else "MISS")),
        ("idle memory", f"{c['pipulate']['idle_mib']:.1f} MiB", f"{c['bare']['idle_mib']:.1f} MiB",
         f"{c['pipulate']['idle_mib'] / c['bare']['idle_mib']:.2f}x", f"before workflows: {BEFORE_WORKFLOWS['idle_mib']} MiB"),
        ("preview of 1,000,000 rows, first page", f"{p[1_000_000]['first_ms']:.1f} ms", "", "",
         "under 200 ms: " + ("pass" if p[1_000_000]["first_ms"] < 200 else "MISS")),
        ("preview memory growth, 100k vs 1M rows", f"{p[100_000]['rss_growth_mib']:.1f} / {p[1_000_000]['rss_growth_mib']:.1f} MiB",
         "", "", "flat: " + ("pass" if p[1_000_000]["rss_growth_mib"] < p[100_000]["rss_growth_mib"] + 16 else "MISS")),
    ]
    lines = ["| figure | Pipulate | bare FastHTML | ratio | target |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    lines.append(f"\nBefore workflows (README): cold start {BEFORE_WORKFLOWS['cold_start_ms']} ms, idle {BEFORE_WORKFLOWS['idle_mib']} MiB.")
    lines.append(f"Preview files: {p[100_000]['file_mib']:.1f} MiB and {p[1_000_000]['file_mib']:.1f} MiB of Parquet; "
                 f"last page of 1M rows {p[1_000_000]['last_ms']:.1f} ms.")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    count = 150 if args.quick else 500
    with tempfile.TemporaryDirectory(prefix="pipulate-bench-workflows-") as folder:
        root = Path(folder)
        measures = {
            "submit": ("submit and open", lambda: submit_latency(root, count)),
            "jobs": ("jobs", lambda: job_figures(root, 5 if args.quick else 10)),
            "resume": ("resume after a kill", lambda: resume_after_kill(root)),
            "cold": ("cold start and idle memory", lambda: cold_and_idle(root, 3 if args.quick else 5)),
            "preview": ("preview of large files", lambda: preview_figures(root)),
        }
        data = {}
        for name, (label, measure) in measures.items():
            log(f"{label}...")
            data[name] = measure()
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    print(report(data), file=sys.stderr if args.json else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
