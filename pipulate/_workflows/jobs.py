"""The door to the job engine: start, cancel, ask about and recover background steps.

Nothing else in the app talks to DBOS; `_dbos.py`, loaded here on first use, is its only
importer. So the app starts without DBOS (about 0.4 s of imports) and pays for it the first time
a background step starts, or right after start-up when jobs were running when it stopped.

Where jobs are kept: `jobs_database_url` (PIPULATE_JOBS_DATABASE_URL), by default a SQLite file
beside the app's database; a PostgreSQL URL moves them to a server shared by a team. Each
process recovers only its own unfinished jobs (its executor id: the machine and the data), and
the application version is fixed, so a job started before a code reload (`--live`) is recovered
after it.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import socket
import threading
from pathlib import Path

from .. import __version__
from .job_runner import JobRuntime

APPLICATION_VERSION = f"pipulate-{__version__}"


class Jobs:
    def __init__(self, database_path: Path, runs_dir: Path, workflows: dict, jobs_database_url: str = "",
                 concurrency: int = 2, role: str = "server") -> None:
        self.runtime = JobRuntime(database_path=database_path, runs_dir=runs_dir, workflows=workflows)
        self.url = jobs_database_url or f"sqlite:///{database_path.with_name(database_path.stem + '-jobs.sqlite').resolve()}"
        self.concurrency = concurrency
        where = hashlib.sha1(str(database_path.resolve()).encode()).hexdigest()[:8]
        self.executor_id = f"{role}-{socket.gethostname()}-{where}"[:120]
        self._engine = None
        self._lock = threading.Lock()

    @property
    def launched(self) -> bool:
        return self._engine is not None

    def engine(self):
        """The DBOS module, launched (recovering this process's unfinished jobs) on first use."""
        with self._lock:
            if self._engine is None:
                from . import job_runner

                job_runner.RUNTIME = self.runtime
                engine = importlib.import_module("._dbos", __package__)
                engine.launch(self.config(), self.concurrency)
                self._engine = engine
            return self._engine

    def config(self) -> dict:
        return {
            "name": "pipulate",
            "system_database_url": self.url,
            "application_version": APPLICATION_VERSION,  # fixed: a code reload keeps old jobs recoverable
            "executor_id": self.executor_id,
            "log_level": "WARNING",
            "enable_otlp": False,  # no telemetry; no conductor_key: DBOS contacts nothing
        }

    # Blocking calls (run them in a thread from async code: see the *_async variants).

    def start(self, job_id: str, workflow: str, run_key: str, step: str) -> None:
        self.engine().start(job_id, workflow, run_key, step)

    def cancel(self, job_id: str) -> None:
        self.runtime.cancelled.add(job_id)
        if self.launched:
            self.engine().cancel(job_id)

    def status(self, job_id: str) -> str | None:
        return self.engine().status(job_id)

    def checkpoints(self, job_id: str) -> int:
        return self.engine().checkpoints(job_id)

    def shutdown(self) -> None:
        if self._engine is not None:
            self._engine.shutdown()
            self._engine = None

    async def start_async(self, job_id: str, workflow: str, run_key: str, step: str) -> None:
        await asyncio.to_thread(self.start, job_id, workflow, run_key, step)

    async def cancel_async(self, job_id: str) -> None:
        await asyncio.to_thread(self.cancel, job_id)

    async def launch_async(self) -> None:
        await asyncio.to_thread(self.engine)
