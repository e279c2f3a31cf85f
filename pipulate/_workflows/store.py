"""The run store: one row per run, one row per step of a run, in the app's one database.

Declared like every table (they are core tables: every workflow shares them) and written through
fastlite's MiniDataAPI (`insert`, `update`, `upsert`, `table(where=...)`), the idiom FastHTML
users know. A notebook, the command line and the web page all read and write these same rows,
so a run advanced in one shows in the others.

Results that are small are JSON in the step's row; tables past a few thousand cells are files
in the run's folder (results.py) and the row keeps their row count and columns.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field

from .._config import slugify
from .._errors import NotFound

RUN_KEY = re.compile(r"[a-z0-9]+(?:-[a-z0-9_]+)*-\d{2,9}")

# Step states. "pending": never run; "done"; "stale": an input changed since it ran; "running":
# its job runs; "failed"/"cancelled": its job or function ended without a result.
DONE, STALE, PENDING, RUNNING, FAILED, CANCELLED = "done", "stale", "pending", "running", "failed", "cancelled"


@dataclass
class StepRow:
    run_key: str
    step: str
    status: str = PENDING
    inputs: dict = field(default_factory=dict)
    result: object = None  # JSON-able value, or the table's description for file results
    result_kind: str = ""  # "value", "table" (JSON), "file" (Parquet), "" (none yet)
    result_info: dict = field(default_factory=dict)
    result_digest: str = ""
    inputs_digest: str = ""
    code_digest: str = ""
    error: str = ""
    job_id: str = ""
    attempt: int = 0
    progress_done: int = 0
    progress_total: int = 0
    progress_note: str = ""
    model: str = ""
    prompt: str = ""
    started_at: float = 0.0
    finished_at: float = 0.0
    updated_at: float = 0.0

    @property
    def has_result(self) -> bool:
        return bool(self.result_kind)

    def as_record(self) -> dict:
        return {
            "id": step_row_id(self.run_key, self.step), "run_key": self.run_key, "step": self.step, "status": self.status,
            "inputs": json.dumps(self.inputs), "result": json.dumps(self.result), "result_kind": self.result_kind,
            "result_info": json.dumps(self.result_info), "result_digest": self.result_digest,
            "inputs_digest": self.inputs_digest, "code_digest": self.code_digest, "error": self.error,
            "job_id": self.job_id, "attempt": self.attempt, "progress_done": self.progress_done,
            "progress_total": self.progress_total, "progress_note": self.progress_note, "model": self.model,
            "prompt": self.prompt, "started_at": self.started_at, "finished_at": self.finished_at,
            "updated_at": time.time(),
        }

    @classmethod
    def from_record(cls, record: dict) -> "StepRow":
        return cls(
            run_key=record["run_key"], step=record["step"], status=record["status"] or PENDING,
            inputs=_json(record["inputs"], {}), result=_json(record["result"], None),
            result_kind=record["result_kind"] or "", result_info=_json(record["result_info"], {}),
            result_digest=record["result_digest"] or "", inputs_digest=record["inputs_digest"] or "",
            code_digest=record["code_digest"] or "", error=record["error"] or "", job_id=record["job_id"] or "",
            attempt=record["attempt"] or 0, progress_done=record["progress_done"] or 0,
            progress_total=record["progress_total"] or 0, progress_note=record["progress_note"] or "",
            model=record["model"] or "", prompt=record["prompt"] or "", started_at=record["started_at"] or 0.0,
            finished_at=record["finished_at"] or 0.0, updated_at=record["updated_at"] or 0.0,
        )


@dataclass(frozen=True)
class RunRow:
    key: str
    profile_id: int
    workflow: str
    number: int
    finalized: bool
    created_at: float
    updated_at: float


def step_row_id(run_key: str, step: str) -> str:
    return f"{run_key}/{step}"


class RunStore:
    """Reads and writes runs and steps. Every read of a run names its profile: a key of another
    profile is a 404, exactly like a key that does not exist."""

    def __init__(self, db) -> None:
        self.db = db
        self.runs = db.t.workflow_runs
        self.steps = db.t.workflow_steps

    # --- runs ---------------------------------------------------------------------------------

    def create_run(self, workflow: str, profile_id: int, profile_name: str) -> RunRow:
        prefix = f"{slugify(profile_name)}-{workflow}"
        taken = self.db.execute(
            "SELECT max(number) FROM workflow_runs WHERE key LIKE ? || '-%'", [prefix]
        ).fetchall()[0][0]
        now = time.time()
        for number in range((taken or 0) + 1, (taken or 0) + 1000):
            key = f"{prefix}-{number:02d}"
            if not self.runs(where="key = ?", where_args=[key], as_cls=False):
                self.runs.insert({"key": key, "profile_id": profile_id, "workflow": workflow, "number": number,
                                  "finalized": False, "created_at": now, "updated_at": now})
                return self.run(key, profile_id)
        raise RuntimeError(f"no free run key after {prefix}-{taken}")

    def run(self, key: object, profile_id: int, workflow: str | None = None) -> RunRow:
        if not isinstance(key, str) or not RUN_KEY.fullmatch(key):
            raise NotFound(f"No such run: {str(key)[:60]!r}.")
        rows = self.runs(where="key = ? AND profile_id = ?", where_args=[key, profile_id], as_cls=False)
        if not rows or (workflow is not None and rows[0]["workflow"] != workflow):
            raise NotFound(f"No such run: {key}.")
        return _run_row(rows[0])

    def list_runs(self, profile_id: int, workflow: str | None = None) -> list[RunRow]:
        where, args = "profile_id = ?", [profile_id]
        if workflow is not None:
            where, args = where + " AND workflow = ?", [*args, workflow]
        return [_run_row(row) for row in self.runs(where=where, where_args=args, order_by="updated_at DESC, number DESC", as_cls=False)]

    def touch(self, key: str, **changes) -> None:
        self.runs.update({"key": key, "updated_at": time.time(), **changes})

    def delete_run(self, key: str) -> None:
        with self.db.conn:
            self.db.execute("DELETE FROM workflow_steps WHERE run_key = ?", [key])
            self.runs.delete(key)

    def runs_of_profile(self, profile_id: int) -> list[str]:
        return [row["key"] for row in self.runs(where="profile_id = ?", where_args=[profile_id], select="key", as_cls=False)]

    # --- steps --------------------------------------------------------------------------------

    def steps_of(self, key: str) -> dict[str, StepRow]:
        return {row["step"]: StepRow.from_record(row) for row in self.steps(where="run_key = ?", where_args=[key], as_cls=False)}

    def step(self, key: str, step: str) -> StepRow:
        rows = self.steps(where="id = ?", where_args=[step_row_id(key, step)], as_cls=False)
        return StepRow.from_record(rows[0]) if rows else StepRow(key, step)

    def save_step(self, row: StepRow) -> None:
        self.steps.upsert(row.as_record())
        self.touch(row.run_key)

    def running_steps(self) -> list[StepRow]:
        """Steps whose job was running when the app last stopped (or still runs)."""
        return [StepRow.from_record(row) for row in self.steps(where="status = ?", where_args=[RUNNING], as_cls=False)]


def _run_row(record: dict) -> RunRow:
    return RunRow(record["key"], record["profile_id"], record["workflow"], record["number"], bool(record["finalized"]),
                  record["created_at"] or 0.0, record["updated_at"] or 0.0)


def _json(text, default):
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default
