"""`Workflow`: a plugin whose page lists its runs, and whose runs each have a URL.

    /hello                                   the runs of the page's profile; start a new one
    /hello/runs/default-hello-01             a run: done steps as cards, the next step's form
    /hello/runs/<key>/steps/<step>           submit that step's form (POST)

Nothing about "the current run" is global: every request names its run in the URL, and a run
is found only within the profile of the page that asks (another profile's key is a 404). The
handlers are thin: the engine (engine.py) decides, render.py draws.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from starlette.responses import FileResponse, HTMLResponse, StreamingResponse

from .._errors import NotFound
from .._plugins import Plugin, route
from .definition import StepSpec, build_steps
from .fields import FieldError
from .render import job_over, progress_bar, run_body, run_panel, runs_page, step_card
from .render_results import table_page
from .results import ResultError, csv_chunks, preview, write_xlsx
from .store import RUNNING


class Workflow(Plugin):
    """Subclass it with `name`, `steps` (the step functions, in order) and a `description`."""

    steps: ClassVar[tuple] = ()
    description: ClassVar[str] = ""
    menu_order = 50
    step_specs: ClassVar[tuple[StepSpec, ...]] = ()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name and "steps" in cls.__dict__:
            cls.step_specs = build_steps(cls)  # a mistake here is a PluginError naming the step

    @property
    def engine(self):
        return self.core.workflows.engine

    def run(self, key: str):
        """The run `key` of the page's profile, or a 404."""
        return self.engine.store.run(key, self.core.profiles.selected().id, self.name)

    # --- pages --------------------------------------------------------------------------------

    async def render(self, request):
        profile = self.core.profiles.selected()
        runs = self.engine.store.list_runs(profile.id, self.name)
        return runs_page(self, [self.engine.view(run) for run in runs])

    @route.post("/runs")
    async def start(self, request):
        profile = self.core.profiles.selected()
        run = await self.engine.create(self.name, profile.id, profile.name)
        return await self._show_run(request, run, push=True)

    @route.get("/runs/{key}")
    async def show(self, request, key: str):
        return await self._show_run(request, self.run(key))

    @route.get("/runs/{key}/body")
    async def body(self, key: str):
        return run_body(self, self.engine.view(self.run(key)))

    async def _show_run(self, request, run, push: bool = False):
        panel = run_panel(self, self.engine.view(run))
        response = await self.core.panel_response(self, request, panel, title=f"{run.key} · {self.menu_label()}")
        if push and "hx-request" in request.headers:
            html = HTMLResponse(_xml(response), headers={"HX-Push-Url": f"/{self.name}/runs/{run.key}"})
            return html
        return response

    # --- steps --------------------------------------------------------------------------------

    @route.post("/runs/{key}/steps/{step}")
    async def submit(self, request, key: str, step: str):
        from fasthtml.core import parse_form

        run = self.run(key)
        spec = self.engine.spec(self.name, step)
        form = await parse_form(request)
        raw = _form_values(form)
        try:
            await self.engine.submit(run, spec.id, raw)
        except FieldError as error:
            # The form again, with what was typed and a message next to each bad field.
            body = run_body(self, self.engine.view(run), editing=spec.id, errors=error.errors, raw=_shown(raw))
            return HTMLResponse(_xml(body), status_code=422)
        return run_body(self, self.engine.view(run))

    @route.get("/runs/{key}/steps/{step}/edit")
    async def edit(self, key: str, step: str):
        """Reopen a done step: its form, filled with what it was given."""
        run = self.run(key)
        spec = self.engine.spec(self.name, step)
        view = self.engine.view(run)
        self.engine.check_changeable(view, spec)  # finalized, or a job depends on it: say so now
        number = view.specs.index(spec) + 1
        return step_card(self, view, number, spec, show_form=True)

    @route.post("/runs/{key}/steps/{step}/cancel")
    async def cancel(self, key: str, step: str):
        run = self.run(key)
        await self.engine.cancel(run, step)
        return run_body(self, self.engine.view(run))

    @route.post("/runs/{key}/steps/{step}/retry")
    async def retry(self, key: str, step: str):
        run = self.run(key)
        await self.engine.retry(run, step)
        return run_body(self, self.engine.view(run))

    @route.get("/runs/{key}/steps/{step}/progress")
    async def progress(self, key: str, step: str):
        run = self.run(key)
        row = self.engine.store.step(run.key, self.engine.spec(self.name, step).id)
        if row.status != RUNNING:
            return job_over(self.name, run.key)
        return progress_bar(self.name, run.key, row.step, row.progress_done, row.progress_total, row.progress_note)

    # --- results ------------------------------------------------------------------------------

    @route.get("/runs/{key}/steps/{step}/preview")
    async def preview_page(self, key: str, step: str, page: str = "1", table: str = ""):
        path = self._result_file(key, step, table)
        number = int(page) if page.isdigit() and len(page) < 10 else 1
        return table_page(self.name, key, step, await asyncio.to_thread(preview, path, number), table)

    @route.get("/runs/{key}/steps/{step}/download.csv")
    async def download_csv(self, key: str, step: str, table: str = ""):
        path = self._result_file(key, step, table)
        headers = {"Content-Disposition": f'attachment; filename="{_download_name(key, step, table)}.csv"'}
        return StreamingResponse(_in_thread(csv_chunks(path)), media_type="text/csv; charset=utf-8", headers=headers)

    @route.get("/runs/{key}/steps/{step}/download.xlsx")
    async def download_xlsx(self, key: str, step: str, table: str = ""):
        path = self._result_file(key, step, table)
        target = path.with_suffix(".xlsx")
        if not target.exists() or target.stat().st_mtime < path.stat().st_mtime:
            try:
                await asyncio.to_thread(write_xlsx, path, target, table or step)
            except ResultError as error:
                raise NotFound(str(error)) from None
        return FileResponse(target, filename=f"{_download_name(key, step, table)}.xlsx",
                            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    @route.get("/runs/{key}/steps/{step}/download.parquet")
    async def download_parquet(self, key: str, step: str, table: str = ""):
        path = self._result_file(key, step, table)
        return FileResponse(path, filename=f"{_download_name(key, step, table)}.parquet", media_type="application/vnd.apache.parquet")

    def _result_file(self, key: str, step: str, table: str = ""):
        run = self.run(key)
        row = self.engine.store.step(run.key, self.engine.spec(self.name, step).id)
        if row.result_kind == "tables":
            found = row.result_info.get("tables", {}).get(table)
            if found is None:
                raise NotFound("This step has no table by that name.")
            return self.engine.run_dir(run.key) / found["file"]
        if row.result_kind != "file" or table:
            raise NotFound("This step has no table to show.")
        return self.engine.run_dir(run.key) / row.result_info["file"]

    def run_folder(self, key: str):
        """The folder of the page's profile's run `key` (a 404 for another profile's): where its
        result files and what its jobs keep on disk (`job.folder`) live, for routes of your own."""
        return self.engine.run_dir(self.run(key).key)

    # --- the run as a whole -------------------------------------------------------------------

    @route.post("/runs/{key}/finalize")
    async def finalize(self, key: str):
        run = self.run(key)
        await self.engine.finalize(run, True)
        return run_body(self, self.engine.view(self.run(key)))

    @route.post("/runs/{key}/unfinalize")
    async def unfinalize(self, key: str):
        run = self.run(key)
        await self.engine.finalize(run, False)
        return run_body(self, self.engine.view(self.run(key)))

    @route.post("/runs/{key}/copy")
    async def copy(self, request, key: str):
        profile = self.core.profiles.selected()
        run = await self.engine.copy(self.run(key), profile.id, profile.name)
        return await self._show_run(request, run, push=True)

    @route.delete("/runs/{key}")
    async def delete(self, request, key: str):
        await self.engine.delete(self.run(key))
        response = HTMLResponse(_xml(await self.render(request)), headers={"HX-Push-Url": f"/{self.name}"})
        return response

    # --- the chat knows where you are -----------------------------------------------------------

    def chat_context(self, path: str) -> str | None:
        from .context import describe_run

        parts = path.strip("/").split("/")
        if len(parts) < 3 or parts[0] != self.name or parts[1] != "runs":
            return None
        try:
            run = self.run(parts[2])
        except NotFound:
            return None
        return describe_run(self, self.engine.view(run))


def _download_name(key: str, step: str, table: str) -> str:
    return f"{key}-{step}-{table}" if table else f"{key}-{step}"


def _form_values(form) -> dict:
    if isinstance(form, dict):  # a JSON body
        return form
    values = {}
    for name in form.keys():
        found = form.getlist(name)
        values[name] = found[0] if len(found) == 1 else found
    return values


def _shown(raw: dict) -> dict:
    """What to put back in the form after an error: the text typed, never a file object."""
    return {name: value if isinstance(value, str) else "" for name, value in raw.items()}


def _xml(content) -> str:
    from fasthtml.common import to_xml

    return to_xml(content)


async def _in_thread(chunks):
    """Iterate a blocking generator (file reads) in a worker thread, piece by piece."""
    iterator = iter(chunks)
    sentinel = object()
    while (piece := await asyncio.to_thread(next, iterator, sentinel)) is not sentinel:
        yield piece
