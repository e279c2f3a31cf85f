"""Calling a step's function: its arguments from the run's state, and what its result becomes.

Shared by the foreground (a step run while its request waits) and the background (a job run by
the job engine): both prepare arguments the same way, call the function the same way (a plain
function directly, an `async def` on a loop of its own) and store the result the same way.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import json
import time
from pathlib import Path

from .definition import StepSpec
from .fields import Upload
from .results import load_result, store_result
from .store import DONE, StepRow


def stored_inputs(spec: StepSpec, values: dict) -> dict:
    """Form values as JSON for the step's row (an Upload as its file's facts, an Enum by value)."""
    stored = {}
    for name, value in values.items():
        if isinstance(value, Upload):
            stored[name] = {"upload": {"name": value.name, "path": value.path.name, "size": value.size, "content_type": value.content_type}}
        elif isinstance(value, enum.Enum):
            stored[name] = value.value
        else:
            stored[name] = value
    return stored


def restored_inputs(spec: StepSpec, stored: dict, run_dir: Path) -> dict:
    """The row's JSON back as the values the function takes."""
    values = {}
    for field in spec.fields:
        if field.name not in stored:
            continue
        value = stored[field.name]
        if field.kind == "upload" and isinstance(value, dict) and "upload" in value:
            facts = value["upload"]
            value = Upload(facts["name"], run_dir / "uploads" / facts["path"], facts["size"], facts.get("content_type", ""))
        elif field.enum_type is not None:
            value = field.enum_type(value)
        values[field.name] = value
    return values


def inputs_complete(spec: StepSpec, stored: dict) -> bool:
    return all(field.name in stored for field in spec.fields)


def inputs_digest(spec: StepSpec, stored: dict, rows: dict[str, StepRow]) -> str:
    """What the step's result depends on: its form values and the results it is wired to."""
    basis = {"inputs": stored, "wired": {name: rows[name].result_digest for name in spec.wired}}
    return hashlib.sha256(json.dumps(basis, sort_keys=True, default=str).encode()).hexdigest()[:16]


def arguments(spec: StepSpec, rows: dict[str, StepRow], run_dir: Path, **special) -> dict:
    kwargs = restored_inputs(spec, rows[spec.id].inputs, run_dir)
    for name in spec.wired:
        row = rows[name]
        kwargs[name] = load_result(run_dir, row.result_kind, row.result, row.result_info)
    for name in ("job", "llm"):
        if getattr(spec, f"takes_{name}"):
            kwargs[name] = special[name]
    return kwargs


def call(spec: StepSpec, kwargs: dict):
    """Run the step's function in the calling thread (a worker thread, never the server's loop)."""
    if spec.is_async:
        return asyncio.run(spec.function(**kwargs))
    return spec.function(**kwargs)


def record_result(row: StepRow, spec: StepSpec, value: object, run_dir: Path, digest_of_inputs: str) -> StepRow:
    """The row of a step that finished: its result stored (a file for tables) and its digests."""
    stored = store_result(run_dir, spec.id, value)
    row.status = DONE
    row.result = stored.value
    row.result_kind = stored.kind
    row.result_info = stored.info
    row.result_digest = stored.digest
    row.inputs_digest = digest_of_inputs
    row.code_digest = spec.code_digest
    row.error = ""
    row.finished_at = time.time()
    return row


def describe_error(error: BaseException) -> str:
    """One line for the step's card: what went wrong, never a traceback."""
    if hasattr(error, "user_text"):  # the model server's failures say what to do themselves
        return error.user_text()[:500]
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    name = type(error).__name__
    return f"{name}: {text}"[:500] if text else name
