"""The only module that imports DBOS Transact (the job engine); jobs.py is the door to it.

DBOS runs each background step as a durable workflow: `pipulate_step` below, started on the
"pipulate-jobs" queue with the id `<run key>/<step>/<attempt>`. Inside it, every `job.run(...)`
of the step's code is a DBOS step whose result is checkpointed in the system database, so after
a kill the workflow is recovered at the next launch and replays those results instead of
running them again: the step resumes after its last checkpoint.

Import cost (~0.4 s, SQLAlchemy) is paid only when the app first needs a job.
"""

from __future__ import annotations

import logging

from dbos import DBOS, SetWorkflowID
from dbos._error import DBOSException

from .job_runner import run_background_step

QUEUE = "pipulate-jobs"
_launched_config: dict | None = None


@DBOS.workflow(name="pipulate.step")
def pipulate_step(workflow: str, run_key: str, step: str) -> dict:
    # Small arguments only: inputs and results are read from and written to the run store.
    return run_background_step(workflow, run_key, step, DBOS.workflow_id, checkpoint)


def checkpoint(function, *args, **kwargs):
    """Run `function` once and record its result; a recovered workflow gets the recorded one."""
    return DBOS.run_step(None, function, *args, **kwargs)


def launch(config: dict, concurrency: int) -> None:
    """Start DBOS (recovering this executor's unfinished jobs) and the queue; idempotent."""
    global _launched_config
    if _launched_config == config:
        return
    if _launched_config is not None:  # another app in this process (tests): one DBOS per process
        DBOS.destroy(destroy_registry=False)
    _quiet_logging()
    DBOS(config=_with_sqlite_engine(config))
    DBOS.launch()
    DBOS.register_queue(QUEUE, worker_concurrency=concurrency, polling_interval_sec=0.05)
    _launched_config = dict(config)


def _with_sqlite_engine(config: dict) -> dict:
    """For a SQLite file: DBOS's own engine, but in WAL mode with synchronous=NORMAL, as the app's
    database is. A checkpoint then costs a WAL append instead of several fsyncs (about 6 ms each
    here); a kill loses nothing that was committed, a power cut at worst the last checkpoints,
    which the job then runs again."""
    url = config["system_database_url"]
    if not url.startswith("sqlite:///"):
        return config
    import sqlalchemy as sa

    engine = sa.create_engine(url)

    @sa.event.listens_for(engine, "connect")
    def _configure(connection, _record) -> None:
        connection.isolation_level = "IMMEDIATE"  # as DBOS's own engine: writers are serialised
        connection.execute("PRAGMA busy_timeout = 30000")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")

    return {**config, "system_database_engine": engine}


def start(job_id: str, workflow: str, run_key: str, step: str) -> None:
    with SetWorkflowID(job_id):  # the same id twice is the same job, not a second one
        DBOS.enqueue_workflow(QUEUE, pipulate_step, workflow, run_key, step)


def cancel(job_id: str) -> None:
    DBOS.cancel_workflow(job_id)


def status(job_id: str) -> str | None:
    """PENDING, ENQUEUED, SUCCESS, ERROR, CANCELLED... or None when DBOS has no such job."""
    found = DBOS.get_workflow_status(job_id)
    return found.status if found is not None else None


def checkpoints(job_id: str) -> int:
    return len(DBOS.list_workflow_steps(job_id, load_output=False))


def shutdown() -> None:
    global _launched_config
    if _launched_config is not None:
        DBOS.destroy(destroy_registry=False)
        _launched_config = None


class _ExpectedEnding(logging.Filter):
    """A cancelled job ends with an exception inside DBOS, which DBOS logs with its traceback;
    that is the normal end of a cancelled job, not an error for the app's log."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, DBOSException) or "no longer owned by this execution" in record.getMessage():
            return False
        return True


def _quiet_logging() -> None:
    logger = logging.getLogger("dbos")
    if not any(isinstance(f, _ExpectedEnding) for f in logger.filters):
        logger.addFilter(_ExpectedEnding())
