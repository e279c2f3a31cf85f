"""A background step, run by the job engine in one of its threads.

The engine (DBOS) knows only the step's address (workflow, run key, step) and its job id. This
module reads the step's inputs from the run store with a connection of its own (SQLite's WAL
lets it write beside the app's connection), calls the step's function with a `Job`, writes the
result or the error back, and tells whoever listens (the server's pages, a waiting command line)
through `JobRuntime.listener`. A row whose job id changed meanwhile (cancelled and retried, run
deleted) is left alone: a stale job never overwrites a newer state.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .execution import arguments, call, describe_error, record_result
from .job import Job, JobCancelled
from .store import CANCELLED, FAILED, RUNNING, RunStore

log = logging.getLogger("pipulate.jobs")


@dataclass
class JobRuntime:
    """What jobs of this process need; set up by `Jobs` before the engine launches."""

    database_path: Path
    runs_dir: Path
    workflows: dict  # name -> Workflow class
    listener: object = None  # listener(event: dict), called from job threads
    make_llm: object = None  # make_llm(run_key, step, emit) -> LLM
    cancelled: set = field(default_factory=set)  # job ids cancelled in this process

    def emit(self, **event) -> None:
        if self.listener is not None:
            try:
                self.listener(event)
            except Exception:  # a listener's fault must not fail the job
                log.exception("a job listener failed")


RUNTIME: JobRuntime | None = None
_lock = threading.Lock()


def run_background_step(workflow: str, run_key: str, step: str, job_id: str, checkpoint) -> dict:
    runtime = RUNTIME
    if runtime is None:
        raise RuntimeError("the job runtime is not set up")
    db = _connect(runtime.database_path)
    try:
        return _run(runtime, RunStore(db), workflow, run_key, step, job_id, checkpoint)
    finally:
        db.close()


def _run(runtime: JobRuntime, store: RunStore, workflow: str, run_key: str, step: str, job_id: str, checkpoint) -> dict:
    row = store.step(run_key, step)
    if row.job_id != job_id or row.status != RUNNING:
        return {"status": "superseded"}  # cancelled, retried or deleted since it was queued
    cls = runtime.workflows.get(workflow)
    spec = next((s for s in getattr(cls, "step_specs", ()) if s.id == step), None)
    run_dir = runtime.runs_dir / run_key
    if spec is None:
        return _end(runtime, store, row, job_id, FAILED, f"The workflow {workflow!r} (or its step {step!r}) is no longer installed.")

    def report(done: int, total: int, note: str) -> None:
        _update(store, run_key, step, job_id, progress_done=done, progress_total=total, progress_note=note)
        runtime.emit(kind="progress", run_key=run_key, step=step, done=done, total=total, note=note)

    def say(text: str) -> None:
        runtime.emit(kind="say", run_key=run_key, step=step, text=text)

    run_dir.mkdir(parents=True, exist_ok=True)
    job = Job(run_key, step, checkpoint, report, _cancel_check(runtime, store, run_key, step, job_id), say, folder=run_dir)
    llm = runtime.make_llm(run_key, step, lambda text: runtime.emit(kind="stream", run_key=run_key, step=step, text=text)) if spec.takes_llm else None
    rows = store.steps_of(run_key)
    try:
        value = call(spec, arguments(spec, rows, run_dir, job=job, llm=llm))
        job.flush()
        if llm is not None and llm.calls:
            row.model, row.prompt = llm.calls[-1]
        digest = row.inputs_digest  # computed when the job was started
        record_result(row, spec, value, run_dir, digest)
    except JobCancelled:
        return _end(runtime, store, row, job_id, CANCELLED, "Cancelled.")
    except Exception as error:
        if _is_engine_cancellation(error) or job_id in runtime.cancelled:
            return _end(runtime, store, row, job_id, CANCELLED, "Cancelled.")
        log.warning("job %s failed: %s", job_id, describe_error(error))
        return _end(runtime, store, row, job_id, FAILED, describe_error(error))
    if not _write_if_current(store, row, job_id):
        return {"status": "superseded"}
    runtime.emit(kind="finished", run_key=run_key, step=step, status=row.status)
    return {"status": row.status}


def _end(runtime, store, row, job_id, status, message) -> dict:
    row.status, row.error, row.finished_at = status, message, time.time()
    if _write_if_current(store, row, job_id):
        runtime.emit(kind="finished", run_key=row.run_key, step=row.step, status=status)
    return {"status": status}


def _write_if_current(store: RunStore, row, job_id: str) -> bool:
    with _lock, store.db.conn:
        current = store.step(row.run_key, row.step)
        if current.job_id != job_id or current.status != RUNNING:
            return False
        store.save_step(row)
    return True


def _update(store: RunStore, run_key: str, step: str, job_id: str, **columns) -> None:
    assignments = ", ".join(f"[{name}] = ?" for name in columns)
    store.db.execute(
        f"UPDATE workflow_steps SET {assignments}, updated_at = ? WHERE id = ? AND job_id = ?",
        [*columns.values(), time.time(), f"{run_key}/{step}", job_id],
    )


def _cancel_check(runtime: JobRuntime, store: RunStore, run_key: str, step: str, job_id: str):
    """Cancelled in this process (at once), or by another one (its row changed; read at most
    twice a second, since progress may be reported very often)."""
    last = {"at": 0.0, "cancelled": False}

    def is_cancelled() -> bool:
        if job_id in runtime.cancelled or last["cancelled"]:
            return True
        if time.monotonic() - last["at"] >= 0.5:
            row = store.step(run_key, step)
            last["at"], last["cancelled"] = time.monotonic(), row.job_id != job_id or row.status != RUNNING
        return last["cancelled"]

    return is_cancelled


def _is_engine_cancellation(error: BaseException) -> bool:
    name = type(error).__name__
    return name.startswith("DBOS") and ("Cancel" in name or "Conflict" in name)


def _connect(path: Path):
    from fastlite import database

    db = database(path)
    db.execute("PRAGMA busy_timeout = 10000")
    db.execute("PRAGMA synchronous = NORMAL")
    return db
