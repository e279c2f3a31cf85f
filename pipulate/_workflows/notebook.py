"""The workflows from Python: a notebook, a script, `pipulate run`, or a test.

    import pipulate
    app = pipulate.workflows()                 # ./pipulate.toml's data, or data_dir=...
    run = app.start("hello")                   # or app.open("default-hello-01"), app.runs("hello")
    run.submit("greeting", name="Ada", tone="pirate")
    run.run_all()                              # runs what can run; waits for background steps
    run.result("poem")                         # tables come back as DataFrames / Arrow tables

The same database file and the same rows as the web page: a run advanced here shows its new
step in the page on reload, and one advanced in the page is read here. Database work happens on
a thread of its own with its own event loop, so this works inside Jupyter's running loop too.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from pathlib import Path

from .._config import Settings, load_settings
from .._errors import NotFound, UserError
from .engine import Engine
from .execution import inputs_complete
from .jobs import Jobs
from .results import load_result
from .store import DONE, FAILED, RUNNING


class StepNeedsInput(UserError):
    """`run_all` stopped at a step whose form has no values yet; `.step` names it."""

    def __init__(self, step: str, title: str, fields: list[str]) -> None:
        super().__init__(f"The step “{title}” ({step}) needs input: {', '.join(fields)}.")
        self.step = step


class StepFailed(UserError):
    def __init__(self, step: str, error: str) -> None:
        super().__init__(f"The step {step} failed: {error}")
        self.step = step


def workflows(data_dir=None, config=None, profile: str | None = None, plugins=None, on_event=None, **settings) -> "Workflows":
    """Open the app's workflows from Python: the settings `pipulate serve` would use here
    (./pipulate.toml, PIPULATE_*), with `data_dir` and any other setting overridden by keyword.
    `plugins` limits the workflows to those classes (tests)."""
    overrides = {"data_dir": Path(data_dir)} if data_dir is not None else {}
    if "plugin_dirs" in settings:
        settings["plugin_dirs"] = tuple(Path(folder) for folder in settings["plugin_dirs"])
    settings = load_settings(config, **overrides, **settings)
    return Workflows(settings, plugins=plugins, profile=profile, on_event=on_event)


class Workflows:
    def __init__(self, settings: Settings, plugins=None, profile: str | None = None, role: str = "headless", on_event=None) -> None:
        from .._plugins import discover_plugins

        classes = discover_plugins(settings.plugin_dirs, disabled=settings.disabled_plugins) if plugins is None else list(plugins)
        self.settings = settings
        self.classes = {cls.name: cls for cls in classes if getattr(cls, "step_specs", None)}
        self.on_event = on_event  # on_event(dict): progress and streamed text of jobs (the CLI prints them)
        self._changed = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="pipulate-workflows", daemon=True)
        self._thread.start()
        self._call(self._open(classes, profile, role))

    async def _open(self, classes, profile_name, role) -> None:
        from .._database import open_database
        from .._profiles import Profiles
        from .._store import Store

        tables = [table for cls in classes for table in cls.tables]
        self.db = open_database(self.settings.database_path, self.settings.synchronous, tables=tables)
        self.profiles = Profiles(self.db, Store(self.db))
        self.profile = self.profiles.stored_selection()
        if profile_name is not None:
            found = [p for p in self.profiles.all() if p.name.lower() == profile_name.lower()]
            if not found:
                raise NotFound(f"No profile named {profile_name!r}.")
            self.profile = found[0]
        runs_dir = self.settings.data_dir / "runs"
        self.jobs = Jobs(self.settings.database_path, runs_dir, self.classes, self.settings.jobs_database_url,
                         self.settings.job_concurrency, role=role)
        self.jobs.runtime.listener = self._job_event
        self.jobs.runtime.make_llm = self._make_llm
        self.engine = Engine(self.db, self.classes, runs_dir, self.jobs)

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    # --- finding runs -------------------------------------------------------------------------

    def names(self) -> list[str]:
        return sorted(self.classes)

    def runs(self, workflow: str | None = None) -> list["Run"]:
        async def listed():
            return self.engine.store.list_runs(self.profile.id, workflow)

        return [Run(self, row) for row in self._call(listed())]

    def start(self, workflow: str) -> "Run":
        if workflow not in self.classes:
            raise NotFound(f"No workflow named {workflow!r} (installed: {', '.join(self.names()) or 'none'}).")
        return Run(self, self._call(self.engine.create(workflow, self.profile.id, self.profile.name)))

    def open(self, key: str) -> "Run":
        async def found():
            return self.engine.store.run(key, self.profile.id)

        return Run(self, self._call(found()))

    # --- jobs ---------------------------------------------------------------------------------

    def _job_event(self, event: dict) -> None:
        if self.on_event is not None:
            self.on_event(event)
        if event["kind"] == "finished":
            # Scheduled from a fresh context, not the job thread's (see service.py's _from_job_thread).
            contextvars.Context().run(asyncio.run_coroutine_threadsafe, self.engine.job_ended(event["run_key"]), self._loop)
        with self._changed:
            self._changed.notify_all()

    def _make_llm(self, run_key: str, step: str, emit):
        from .._llm.connect import resolve_llm_url
        from .llm import LLM

        settings = self.settings
        return LLM(resolve_llm_url(settings.llm_url), settings.model, emit, settings.model_file, settings.llm_timeout)

    def wait(self, seconds: float) -> None:
        with self._changed:
            self._changed.wait(seconds)

    def close(self) -> None:
        """Stop this process's jobs engine and close the database (a running job is resumed by the
        next process that opens the same data as the server, or by the next `workflows()`)."""
        self.jobs.shutdown()

        async def close_db():
            self.db.close()

        self._call(close_db())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def __enter__(self) -> "Workflows":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class Run:
    def __init__(self, app: Workflows, row) -> None:
        self.app = app
        self.key = row.key
        self.workflow = row.workflow
        self._row = row

    def view(self):
        async def current():
            return self.app.engine.view(self.app.engine.store.run(self.key, self._row.profile_id))

        return self.app._call(current())

    @property
    def status(self) -> str:
        return self.view().status

    def steps(self) -> list[dict]:
        view = self.view()
        return [{"step": s.id, "title": s.title, "status": view.row(s.id).status, "error": view.row(s.id).error}
                for s in view.specs]

    def submit(self, step: str, **values) -> "Run":
        """Give a step's form its values (as a person would type them, or as Python values) and
        run it and whatever can follow. Bad values raise FieldError, with a message per field."""
        raw = {name: _as_form_text(value) for name, value in values.items()}
        self.app._call(self.app.engine.submit(self._fresh(), step, raw))
        return self

    def run_all(self, timeout: float | None = None) -> "Run":
        """Run every step that can run, waiting for background steps; stop at the first step that
        needs input (StepNeedsInput) or that failed (StepFailed)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.app._call(self.app.engine.advance(self._fresh()))  # runs whatever can run now
            view = self.view()
            spec = view.current
            if spec is None:
                return self
            row = view.row(spec.id)
            if row.status == RUNNING:
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"{spec.id} is still running after {timeout} s")
                self.app.wait(0.2)
                continue
            if row.status in (FAILED, "cancelled"):
                raise StepFailed(spec.id, row.error)
            if all(view.row(name).status == DONE for name in spec.wired) and inputs_complete(spec, row.inputs):
                continue  # it became runnable just now (a job ended between two looks)
            raise StepNeedsInput(spec.id, spec.title, [f.name for f in spec.fields if f.name not in row.inputs])

    def result(self, step: str):
        """A done step's result: a value as it was returned, a table as a DataFrame (if it was
        one), an Arrow table or a list of dicts."""
        view = self.view()
        row = view.row(self.app.engine.spec(self.workflow, step).id)
        if row.status != DONE:
            raise NotFound(f"The step {step} has no result yet (it is {row.status}).")
        return load_result(self.app.engine.run_dir(self.key), row.result_kind, row.result, row.result_info)

    def table(self, step: str, name: str | None = None):
        """A table result as a pyarrow Table, whatever it was returned as (`name`: one of the
        step's Tables)."""
        import pyarrow as pa

        value = self.result(step)
        if hasattr(value, "tables") and hasattr(value, "read"):
            if name not in value.tables:
                raise NotFound(f"The step {step} has the tables {', '.join(value.tables)}; name one.")
            return value.read(name)
        if isinstance(value, list):
            return pa.Table.from_pylist(value)
        if type(value).__name__ == "DataFrame":
            return pa.Table.from_pandas(value, preserve_index=False)
        return value

    def cancel(self, step: str) -> None:
        self.app._call(self.app.engine.cancel(self._fresh(), step))

    def retry(self, step: str) -> "Run":
        self.app._call(self.app.engine.retry(self._fresh(), step))
        return self

    def finalize(self, finalized: bool = True) -> "Run":
        self.app._call(self.app.engine.finalize(self._fresh(), finalized))
        return self

    def _fresh(self):
        async def row():
            return self.app.engine.store.run(self.key, self._row.profile_id)

        return self.app._call(row())

    def __repr__(self) -> str:
        lines = [f"Run {self.key} ({self.status})"]
        lines += [f"  {s['step']}: {s['status']}" + (f" — {s['error']}" if s["error"] else "") for s in self.steps()]
        return "\n".join(lines)


def _as_form_text(value):
    """Python values as a form would send them (a list as lines, a bool as on/off)."""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, (list, tuple)):
        return "\n".join(str(item) for item in value)
    if hasattr(value, "value") and type(value).__module__ != "builtins":  # an Enum member
        return str(value.value)
    return value if isinstance(value, str) else str(value)
