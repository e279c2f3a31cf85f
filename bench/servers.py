"""Start, watch and stop the two servers under test; each is stopped by its own PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from loadgen import wait_for_200

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
APPS = ("pipulate", "bare")
LABELS = {"pipulate": "Pipulate", "bare": "bare FastHTML"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def command(app: str, port: int, data_dir: Path, sync_normal: bool = False) -> list[str]:
    if app == "pipulate":
        return [sys.executable, "-m", "pipulate", "serve", "--port", str(port), "--data-dir", str(data_dir)]
    if app == "bare":
        return [sys.executable, str(BENCH_DIR / "bare_app.py"), "--port", str(port), "--data-dir", str(data_dir)]
    raise ValueError(app)


@dataclass
class Server:
    app: str
    process: subprocess.Popen
    port: int
    data_dir: Path
    log_path: Path
    started_at: float  # perf_counter() just before the spawn
    ready_at: float | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float = 60) -> float:
        """Seconds from spawn to the first 200 on GET /."""
        try:
            self.ready_at = wait_for_200(self.port, "/", timeout=timeout, alive=self.alive)
        except Exception as error:
            self.stop()
            raise RuntimeError(f"{self.app} did not start: {error}\n--- its log ---\n{self.log()}") from None
        return self.ready_at - self.started_at

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def process_tree(self) -> list[int]:
        """This PID and its descendants (a reloader would show up here as a second process)."""
        pids, queue = [], [self.pid]
        while queue:
            pid = queue.pop()
            pids.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*"):
                try:
                    queue += [int(child) for child in (task / "children").read_text().split()]
                except OSError:
                    pass
        return pids

    def rss_kib(self, pid: int | None = None) -> int:
        for line in Path(f"/proc/{pid or self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def tree_rss_kib(self) -> int:
        return sum(self.rss_kib(pid) for pid in self.process_tree())

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (/proc/PID/stat)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def threads(self) -> int:
        return len(list(Path(f"/proc/{self.pid}/task").glob("*")))

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM to this server's own process group (its PID), then SIGKILL if it lingers."""
        if self.process.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.process.wait(timeout=timeout)


def start(app: str, data_dir: Path, cpus: set[int] | None = None, sync_normal: bool = False,
          extra_env: dict | None = None, pipulate_src: Path | None = None) -> Server:
    """Spawn the server (not waiting for it); `cpus` pins it with sched_setaffinity;
    `pipulate_src` (a folder holding a `pipulate` package) replaces this checkout's package."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"{app}-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIPULATE_", "BENCH_"))}
    env.update(extra_env or {})
    # Both apps at the same durability: Pipulate through its setting, the bare app by PRAGMA.
    env["PIPULATE_SYNCHRONOUS"] = "normal" if sync_normal else "full"
    env["BENCH_SQLITE_SYNC_NORMAL"] = "1" if sync_normal else "0"
    source = str(pipulate_src or REPO_DIR)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH", "")]))

    def preexec():
        if cpus:
            os.sched_setaffinity(0, cpus)

    with open(log_path, "ab") as log:
        started_at = time.perf_counter()
        process = subprocess.Popen(
            command(app, port, data_dir, sync_normal),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=data_dir.parent,  # no pipulate.toml or plugins/ folder from the caller's directory
            env=env,
            start_new_session=True,  # its own process group, so stop() reaches any child too
            preexec_fn=preexec,
        )
    return Server(app, process, port, data_dir, log_path, started_at)
