"""The workflows of a running app: one engine, one door to the job engine, and the wiring that
carries what jobs do (progress, streamed text, their end) to the open pages and the chat.

Job threads never touch the pages or the app's database connection: they call the listener,
which hands each event to the server's event loop. After a restart, jobs that were running are
recovered by the job engine; this module launches it in the background (never on the start-up
path) and marks a job whose record is gone as failed, so no run waits forever.
"""

from __future__ import annotations

import asyncio
import contextvars
import html
import logging
import shutil
import threading

from .engine import Engine
from .jobs import Jobs
from .render import job_over, progress_bar
from .store import FAILED, RUNNING

log = logging.getLogger("pipulate.workflows")
LOST = "The job was interrupted and could not be resumed (its record is gone). Retry it."
UNSAVED = "The job ended while the app was stopping, before its result was saved. Retry it."


class WorkflowService:
    def __init__(self, core, workflow_classes) -> None:
        settings = core.settings
        self.core = core
        self.workflows = {cls.name: cls for cls in workflow_classes}
        runs_dir = settings.data_dir / "runs"
        self.jobs = Jobs(settings.database_path, runs_dir, self.workflows, settings.jobs_database_url, settings.job_concurrency)
        self.jobs.runtime.make_llm = self.make_llm
        self.engine = Engine(core.db, self.workflows, runs_dir, self.jobs)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task] = set()
        core.profiles.on_delete(self.delete_profile_runs)

    # --- the server's life --------------------------------------------------------------------

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.jobs.runtime.listener = self._from_job_thread
        if self.engine.store.running_steps():
            self._spawn(self.recover())  # in the background: the app answers at once

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.to_thread(self.jobs.shutdown)

    async def recover(self) -> None:
        """Launch the job engine (it resumes this app's unfinished jobs), then settle the rows of
        jobs it does not know or that ended without saving."""
        await self.jobs.launch_async()
        for row in self.engine.store.running_steps():
            state = await asyncio.to_thread(self.jobs.status, row.job_id)
            if state in ("PENDING", "ENQUEUED", "DELAYED"):
                continue
            row.status, row.error = FAILED, (LOST if state is None else UNSAVED)
            self.engine.store.save_step(row)
            log.warning("job %s: %s", row.job_id, row.error)
            await self.engine.job_ended(row.run_key)

    # --- events from job threads ----------------------------------------------------------------

    def _from_job_thread(self, event: dict) -> None:
        loop = self.loop
        if loop is not None and not loop.is_closed():
            # A fresh context: the job thread's carries the job engine's "inside this job" state, and a
            # task inheriting it would start the next step's job as a child of this (ended) one.
            loop.call_soon_threadsafe(lambda: self._spawn(self.on_job_event(event)), context=contextvars.Context())

    async def on_job_event(self, event: dict) -> None:
        key, step, kind = event["run_key"], event["step"], event["kind"]
        workflow = self._workflow_of(key)
        if workflow is None:
            return
        pages = self.core.pages
        if kind == "progress":
            bar = progress_bar(workflow, key, step, event["done"], event["total"], event["note"], oob=True)
            await pages.broadcast(_xml(bar))
            await self.core.chat.show_progress(f"chat-job-{key}-{step}", self._label(workflow, step), event["done"],
                                               event["total"] or None, event["note"])
        elif kind == "stream":
            await pages.broadcast(f'<div id="stream-{key}-{step}" hx-swap-oob="beforeend">{html.escape(event["text"], quote=False)}</div>')
        elif kind == "say":
            await self.core.chat.say(event["text"])
        elif kind == "finished":
            await self.engine.job_ended(key)
            note = {"done": "done", "failed": "failed", "cancelled": "cancelled"}.get(event.get("status"), "ended")
            row = self.engine.store.step(key, step)
            await pages.broadcast(_xml(job_over(workflow, key)))
            await self.core.chat.show_progress(f"chat-job-{key}-{step}", self._label(workflow, step), row.progress_done,
                                               row.progress_total or None, note, finished=True)

    def _label(self, workflow: str, step: str) -> str:
        """What the chat's bar is about: the workflow and the step, as the page names them."""
        cls = self.workflows.get(workflow)
        spec = next((s for s in getattr(cls, "step_specs", ()) if s.id == step), None)
        return f"{cls.menu_label()}: {spec.title}" if cls is not None and spec is not None else f"{workflow}: {step}"

    def _workflow_of(self, key: str) -> str | None:
        rows = self.engine.store.runs(where="key = ?", where_args=[key], select="workflow", as_cls=False)
        return rows[0]["workflow"] if rows else None

    def _spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)

    # --- the model, for steps that take `llm` ---------------------------------------------------

    def make_llm(self, run_key: str, step: str, emit):
        from .._llm.connect import resolve_llm_url
        from .llm import LLM

        settings = self.core.settings
        chat = self.core.plugins.get("chat")
        model = chat.model() if chat is not None and hasattr(chat, "model") else settings.model
        return LLM(resolve_llm_url(settings.llm_url), model, emit, settings.model_file, settings.llm_timeout)

    # --- profiles -------------------------------------------------------------------------------

    def delete_profile_runs(self, profile_id: int) -> None:
        """A deleted profile takes its runs along: rows, result files, and running jobs."""
        store = self.engine.store
        for key in store.runs_of_profile(profile_id):
            for row in store.steps_of(key).values():
                if row.status == RUNNING and row.job_id:
                    self.jobs.runtime.cancelled.add(row.job_id)
                    if self.jobs.launched:
                        threading.Thread(target=self.jobs.cancel, args=(row.job_id,), daemon=True).start()
            store.delete_run(key)
            shutil.rmtree(self.engine.run_dir(key), ignore_errors=True)


def _xml(content) -> str:
    from fasthtml.common import to_xml

    return to_xml(content)


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a workflow task failed", exc_info=task.exception())
