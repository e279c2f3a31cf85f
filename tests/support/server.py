"""Start the real app (`python -m pipulate serve`) on 127.0.0.1 and a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .timing import scaled


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningServer:
    process: subprocess.Popen
    port: int
    data_dir: Path
    log_path: Path
    extra_args: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, trust_env=False, **{"timeout": scaled(10), **kwargs})

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int | None:
        """Stop this server by its PID (SIGTERM by default, SIGKILL to simulate a crash)."""
        if self.process.poll() is None:
            # A live server runs in its own process group (the reloader has a child): signal it whole.
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=scaled(timeout))
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=scaled(timeout))
        return self.process.returncode


def assert_no_traceback(*servers: RunningServer) -> None:
    """For fixtures, after the test: a server that logged a traceback fails the test, whatever the
    test itself looked at (a bug can answer 200 and still raise in a background task)."""
    for server in servers:
        log = server.log()
        assert "Traceback" not in log, f"the server on port {server.port} logged a traceback:\n{log[-4000:]}"


def start_server(
    data_dir: Path,
    *args: str,
    port: int | None = None,
    cwd: Path | None = None,
    env: dict | None = None,
    ready_timeout: float = 30,
    wrapper: list[str] | None = None,
) -> RunningServer:
    """`wrapper` is put before the command, e.g. to run the server in its own mount namespace."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"server-{port}.log"
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [*(wrapper or []), sys.executable, "-m", "pipulate", "serve", "--port", str(port), "--data-dir", str(data_dir), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd or data_dir.parent,
            env=environment,
            start_new_session=True,  # its own process group, so stop() reaches the reloader's child too
        )
    server = RunningServer(process, port, data_dir, log_path, list(args))
    wait_until_ready(server, ready_timeout)
    return server


def wait_until_ready(server: RunningServer, timeout: float = 30) -> None:
    deadline = time.monotonic() + scaled(timeout)
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.log()}")
        try:
            if httpx.get(server.url + "/", timeout=scaled(1), trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"server did not answer within {scaled(timeout):g}s:\n{server.log()}")
