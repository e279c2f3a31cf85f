"""Running a workflow's steps: submit, advance ("run all cells"), revert, cancel, retry, finalize.

One engine serves every workflow of the app and runs on one event loop (the server's, or the
notebook's own); the database is only touched from that loop. Step functions run in worker
threads (foreground steps) or in the job engine (background steps: `job=True`, or a step that
takes `llm`). A run's actions are serialised by a lock per run, so two tabs on the same run
cannot interleave.

The rules, in one place:
- A step runs when the steps it is wired to are done and every field of its form has a value
  (a step without fields needs none). Otherwise the run waits there: that step shows its form.
- When a step's result changes, every step that depends on it, directly or not, becomes stale;
  stale steps with all their inputs run again by themselves. A step whose inputs and code are
  unchanged keeps its result instead of running again (expensive steps are not recomputed).
- A finalized run changes no more; a step cannot change while it, or a step after it that
  depends on it, is running.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from .._errors import NotFound, UserError
from .definition import StepSpec, dependents
from .execution import arguments, call, describe_error, inputs_complete, inputs_digest, record_result, stored_inputs
from .fields import Upload, parse_fields
from .store import CANCELLED, DONE, FAILED, PENDING, RUNNING, STALE, RunRow, RunStore, StepRow

log = logging.getLogger("pipulate.workflows")
UPLOAD_LIMIT = 50 * 1024 * 1024


class Conflict(UserError):
    status_code = 409


@dataclass
class RunView:
    """A run as the page, the notebook and the command line see it."""

    run: RunRow
    specs: tuple[StepSpec, ...]
    rows: dict[str, StepRow]

    def row(self, step: str) -> StepRow:
        return self.rows[step]

    @property
    def current(self) -> StepSpec | None:
        """The first step that is not done: where the run waits, runs or failed."""
        return next((spec for spec in self.specs if self.rows[spec.id].status != DONE), None)

    @property
    def status(self) -> str:
        states = [self.rows[spec.id].status for spec in self.specs]
        if self.run.finalized:
            return "finalized"
        if RUNNING in states:
            return "running"
        if FAILED in states:
            return "failed"
        if all(state == DONE for state in states):
            return "complete"
        return "waiting for input"

    @property
    def last_done(self) -> StepSpec | None:
        done = [spec for spec in self.specs if self.rows[spec.id].status == DONE]
        return done[-1] if done else None


class Engine:
    def __init__(self, db, workflows: dict, runs_dir: Path, jobs) -> None:
        self.store = RunStore(db)
        self.workflows = workflows  # name -> Workflow class
        self.runs_dir = runs_dir
        self.jobs = jobs
        self._locks: dict[str, asyncio.Lock] = {}
        self.on_change = None  # on_change(run_key): a run changed (the server redraws open pages)

    # --- reading ------------------------------------------------------------------------------

    def specs(self, workflow: str) -> tuple[StepSpec, ...]:
        cls = self.workflows.get(workflow)
        if cls is None:
            raise NotFound(f"No such workflow: {workflow}.")
        return cls.step_specs

    def spec(self, workflow: str, step: object) -> StepSpec:
        found = next((s for s in self.specs(workflow) if s.id == step), None)
        if found is None:
            raise NotFound(f"This workflow has no step {str(step)[:60]!r}.")
        return found

    def view(self, run: RunRow) -> RunView:
        specs = self.specs(run.workflow)
        stored = self.store.steps_of(run.key)
        rows = {spec.id: stored.get(spec.id) or StepRow(run.key, spec.id) for spec in specs}
        return RunView(run, specs, rows)

    def run_dir(self, run_key: str) -> Path:
        return self.runs_dir / run_key

    def lock(self, run_key: str) -> asyncio.Lock:
        return self._locks.setdefault(run_key, asyncio.Lock())

    # --- actions ------------------------------------------------------------------------------

    async def create(self, workflow: str, profile_id: int, profile_name: str) -> RunRow:
        self.specs(workflow)
        run = self.store.create_run(workflow, profile_id, profile_name)
        await self.advance(run)  # a first step without fields runs at once
        return run

    async def submit(self, run: RunRow, step: str, raw: dict) -> None:
        """A person's (or a notebook's) values for a step's form; runs it and what follows."""
        async with self.lock(run.key):
            run = self._fresh(run)
            spec = self.spec(run.workflow, step)
            view = self.view(run)
            self.check_changeable(view, spec)
            values = parse_fields(spec.fields, raw)  # FieldError (422): nothing stored
            values = await self._keep_uploads(run, spec, values)
            row = view.row(spec.id)
            row.inputs = stored_inputs(spec, values)
            if row.status not in (PENDING,):
                row.status = STALE  # it runs again with these values
            self.store.save_step(row)
            await self._advance_locked(run)

    async def advance(self, run: RunRow) -> None:
        async with self.lock(run.key):
            await self._advance_locked(self._fresh(run))

    async def _advance_locked(self, run: RunRow) -> None:
        """Run every step that can run, in order, until one waits for input or a job."""
        while True:
            view = self._mark_stale(self.view(run))
            spec = view.current
            if spec is None or run.finalized:
                break
            row = view.row(spec.id)
            if row.status in (RUNNING, FAILED, CANCELLED):
                break
            if any(view.row(name).status != DONE for name in spec.wired) or not inputs_complete(spec, row.inputs):
                break
            await self._run(run, spec, view)
            if self.store.step(run.key, spec.id).status != DONE:
                break
        self._changed(run.key)

    async def _run(self, run: RunRow, spec: StepSpec, view: RunView) -> None:
        row = view.row(spec.id)
        digest = inputs_digest(spec, row.inputs, view.rows)
        if row.has_result and row.inputs_digest == digest and row.code_digest == spec.code_digest:
            row.status, row.error = DONE, ""  # same inputs, same code: the result stands
            self.store.save_step(row)
            return
        if spec.job or spec.takes_llm:
            row.attempt += 1
            row.job_id = f"{run.key}/{spec.id}/{row.attempt}"
            row.status, row.error, row.inputs_digest = RUNNING, "", digest
            row.progress_done = row.progress_total = 0
            row.progress_note, row.started_at = "", time.time()
            self.store.save_step(row)
            await self.jobs.start_async(row.job_id, run.workflow, run.key, spec.id)
            return
        row.started_at = time.time()
        try:
            kwargs = arguments(spec, view.rows, self.run_dir(run.key))
            value = await asyncio.to_thread(call, spec, kwargs)
            row = await asyncio.to_thread(record_result, row, spec, value, self.run_dir(run.key), digest)
        except Exception as error:
            # The digest of what failed: the same inputs do not run again by themselves (Retry does).
            row.status, row.error, row.finished_at, row.inputs_digest = FAILED, describe_error(error), time.time(), digest
            log.warning("step %s of %s failed: %s", spec.id, run.key, row.error)
        self.store.save_step(row)

    def _mark_stale(self, view: RunView) -> RunView:
        """A done step is stale when a step it depends on is not done, or has a result other
        than the one it was computed from (the digests say): it is never silently kept."""
        for spec in view.specs:
            row = view.row(spec.id)
            if row.status == DONE:
                upstream_done = all(view.row(name).status == DONE for name in spec.wired)
                if not upstream_done or row.inputs_digest != inputs_digest(spec, row.inputs, view.rows):
                    row.status = STALE
                    self.store.save_step(row)
            elif row.status in (FAILED, CANCELLED) and row.inputs_digest and all(
                    view.row(name).status == DONE for name in spec.wired):
                # What failed or was cancelled gets a new chance once what it depends on changed.
                if row.inputs_digest != inputs_digest(spec, row.inputs, view.rows):
                    row.status, row.error = STALE, ""
                    self.store.save_step(row)
        return view

    async def job_ended(self, run_key: str) -> None:
        """A background step finished, failed or was cancelled: carry on from there."""
        rows = self.store.runs(where="key = ?", where_args=[run_key], as_cls=False)
        if rows:
            await self.advance(self.store.run(run_key, rows[0]["profile_id"]))

    async def cancel(self, run: RunRow, step: str) -> None:
        async with self.lock(run.key):
            row = self.store.step(run.key, self.spec(run.workflow, step).id)
            if row.status != RUNNING:
                raise Conflict("This step is not running.")
            row.status, row.error, row.finished_at = CANCELLED, "Cancelled.", time.time()
            self.store.save_step(row)
            await self.jobs.cancel_async(row.job_id)
        self._changed(run.key)

    async def retry(self, run: RunRow, step: str) -> None:
        async with self.lock(run.key):
            run = self._fresh(run)
            spec = self.spec(run.workflow, step)
            view = self.view(run)
            self.check_changeable(view, spec)
            row = view.row(spec.id)
            if row.status not in (FAILED, CANCELLED, STALE):
                raise Conflict("Only a step that failed, was cancelled or is stale can be run again.")
            row.status, row.inputs_digest = STALE, ""  # forget the digest: run it for real
            self.store.save_step(row)
            await self._advance_locked(run)

    async def finalize(self, run: RunRow, finalized: bool) -> None:
        async with self.lock(run.key):
            view = self.view(self._fresh(run))
            if finalized and view.status == "running":
                raise Conflict("A step is still running; wait for it or cancel it before finalizing.")
            self.store.touch(run.key, finalized=finalized)
        if not finalized:
            await self.advance(run)
        self._changed(run.key)

    async def delete(self, run: RunRow) -> None:
        async with self.lock(run.key):
            for row in self.store.steps_of(run.key).values():
                if row.status == RUNNING:
                    await self.jobs.cancel_async(row.job_id)
            self.store.delete_run(run.key)
            await asyncio.to_thread(shutil.rmtree, self.run_dir(run.key), True)
        self._locks.pop(run.key, None)

    async def copy(self, run: RunRow, profile_id: int, profile_name: str) -> RunRow:
        """A new run with the same inputs ("run again"); it runs as far as they allow."""
        source = self.view(run)
        new = self.store.create_run(run.workflow, profile_id, profile_name)
        for spec in source.specs:
            old = source.row(spec.id)
            if old.inputs:
                inputs = dict(old.inputs)
                for field in spec.fields:
                    facts = inputs.get(field.name)
                    if field.kind == "upload" and isinstance(facts, dict) and "upload" in facts:
                        await asyncio.to_thread(self._copy_upload, run.key, new.key, facts["upload"]["path"])
                self.store.save_step(StepRow(new.key, spec.id, inputs=inputs))
        await self.advance(new)
        return new

    # --- helpers ------------------------------------------------------------------------------

    def _fresh(self, run: RunRow) -> RunRow:
        return self.store.run(run.key, run.profile_id, run.workflow)

    def check_changeable(self, view: RunView, spec: StepSpec) -> None:
        """A Conflict (409) saying why `spec` cannot change now, or nothing."""
        if view.run.finalized:
            raise Conflict("This run is finalized: unfinalize it to change anything.")
        if view.row(spec.id).status == RUNNING:
            raise Conflict(f"“{spec.title}” is running: cancel it before changing it.")
        for name in dependents(view.specs, spec.id):
            if view.row(name).status == RUNNING:
                title = next(s.title for s in view.specs if s.id == name)
                raise Conflict(f"“{title}” depends on this step and is running: cancel it first.")
        missing = [name for name in spec.wired if view.row(name).status != DONE]
        if missing:
            titles = ", ".join(f"“{s.title}”" for s in view.specs if s.id in missing)
            raise Conflict(f"This step needs {titles} first.")

    async def _keep_uploads(self, run: RunRow, spec: StepSpec, values: dict) -> dict:
        """Uploaded files go to the run's folder; the step receives an Upload naming them."""
        for field in spec.fields:
            upload = values.get(field.name)
            if field.kind != "upload" or upload is None or isinstance(upload, Upload):
                continue
            folder = self.run_dir(run.key) / "uploads"
            name = _base_name(upload.filename)
            target = folder / f"{spec.id}-{field.name}-{name}"
            size = await asyncio.to_thread(_save_upload, upload.file, target, field.max_length)
            values[field.name] = Upload(name, target, size, upload.content_type or "")
        return values

    def _copy_upload(self, source_key: str, target_key: str, name: str) -> None:
        source = self.run_dir(source_key) / "uploads" / name
        if source.is_file():
            (self.run_dir(target_key) / "uploads").mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, self.run_dir(target_key) / "uploads" / name)

    def _changed(self, run_key: str) -> None:
        if self.on_change is not None:
            self.on_change(run_key)


def _base_name(filename: str | None) -> str:
    """The file's own name, without any folder a browser (or a crafted form) put before it, in
    characters safe on every file system."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name).lstrip(".")[-80:]
    return name or "file"


def _save_upload(source, target: Path, limit: int) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    temporary = target.with_name(f".{target.name}.tmp")
    with open(temporary, "wb") as out:
        while chunk := source.read(1 << 20):
            size += len(chunk)
            if size > limit:
                out.close()
                temporary.unlink(missing_ok=True)
                raise UserError(f"That file is larger than {limit // (1024 * 1024)} MB; nothing was saved.", 413)
            out.write(chunk)
    temporary.replace(target)
    return size
