"""The SEO tools as plugins (this module is the `pipulate.plugins` entry point `seo`).

Site audit: a workflow whose steps are in steps.py; the routes below serve what its cards load:
the issues explorer, one issue's URLs, the audit workbook, the link graph's data and script,
the Search Console import, and the comparison with another crawl.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response

from pipulate import NotFound, UserError, Workflow, route

from .steps import audit, crawl, link_graph, settings
from .web import compare as comparison
from .web import data, search_console
from .web.context import crawl_context
from .web.issue_detail import affected_csv, issue_detail
from .web.views import issues_explorer
from .web.workbook import write_audit_workbook

STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"d3-force.js": "text/javascript", "linkgraph.js": "text/javascript"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SiteAudit(Workflow):
    name = "seo-crawl"
    label = "Site audit"
    menu_order = 20
    description = ("Crawls a site politely (robots.txt, delays, back-off), audits every page, maps its internal links, "
                   "and exports it all; the chat explains the findings from the crawl's own numbers.")
    steps = (settings, crawl, audit, link_graph)

    def base(self, key: str) -> str:
        return f"/{self.name}/runs/{key}"

    @route.get("/static/{name}")
    async def static(self, name: str):
        if name not in STATIC_FILES:
            raise NotFound("No such file.")
        return FileResponse(STATIC / name, media_type=STATIC_FILES[name], headers={"Cache-Control": "max-age=3600"})

    # --- the audit ------------------------------------------------------------------------------

    @route.get("/runs/{key}/issues")
    async def issues(self, key: str, severity: str = "", q: str = "", sort: str = "severity", desc: str = "0"):
        folder = self.run_folder(key)
        severity, text = data.check_severity(severity), q.strip()[:100]
        rows, traffic = await asyncio.to_thread(data.issue_rows, folder, severity, text, sort, desc == "1")
        return issues_explorer(self.base(key), key, rows, traffic, severity, text, sort if sort in data.SORTS else "severity",
                               desc == "1")

    @route.get("/runs/{key}/issues/{kind}")
    async def issue(self, request, key: str, kind: str, page: str = "1"):
        folder = self.run_folder(key)
        if "hx-request" not in request.headers:  # a reload of the pushed URL: the run, where it shows
            return RedirectResponse(self.base(key), status_code=303)
        number = int(page) if page.isdigit() and len(page) < 8 else 1
        rows, total = await asyncio.to_thread(data.affected, folder, kind, number)
        return issue_detail(self.base(key), key, kind, rows, total, number)

    @route.get("/runs/{key}/issue-csv/{kind}")
    async def issue_csv(self, key: str, kind: str):
        folder = self.run_folder(key)
        if not re.fullmatch(r"[a-z0-9_]{1,40}", kind):
            raise NotFound("No such issue type.")
        body = await asyncio.to_thread(lambda: affected_csv(data.all_affected(folder, kind)))
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{key}-{kind}.csv"'})

    @route.get("/runs/{key}/audit.xlsx")
    async def audit_workbook(self, key: str):
        folder = self.run_folder(key)
        target = folder / "seo" / "audit.xlsx"
        await asyncio.to_thread(write_audit_workbook, folder, target)
        return FileResponse(target, filename=f"{key}-audit.xlsx", media_type=XLSX)

    @route.post("/runs/{key}/search-console")
    async def import_search_console(self, request, key: str):
        folder = self.run_folder(key)
        form = await request.form()
        upload = form.get("export")
        if upload is None or isinstance(upload, str) or not upload.filename:
            raise UserError("Choose the Search Console export first (Pages.csv or its .zip).")
        rows = search_console.read_export(await upload.read(), upload.filename)
        matched, listed = await asyncio.to_thread(search_console.import_traffic, folder, rows)
        table = await self.issues(key, sort="clicks", desc="1")
        note = f"Imported {listed:,} pages from Search Console; {matched:,} are pages of this crawl. Issues are ranked by clicks."
        from fasthtml.common import P

        return P(note, cls="hint gsc-note"), table

    # --- the link graph ---------------------------------------------------------------------------

    @route.get("/runs/{key}/graph.json")
    async def graph_data(self, key: str):
        folder = self.run_folder(key)
        from .audit.graph import picture  # numpy: loaded when a graph is first asked for, not at start-up

        def read():
            db = data.open_readonly(folder)
            try:
                if not data.has_table(db, "graph"):
                    raise NotFound("The link graph has not been computed yet.")
                return picture(db)
            finally:
                db.close()

        return JSONResponse(await asyncio.to_thread(read))

    # --- compare ----------------------------------------------------------------------------------

    def _comparable(self, key: str) -> list[str]:
        """This profile's other crawls of the same site with their audit done, newest first."""
        mine = self.engine.store.step(key, "settings").result or {}
        profile = self.core.profiles.selected()
        found = []
        for run in self.engine.store.list_runs(profile.id, self.name):
            if run.key == key or self.engine.store.step(run.key, "audit").status != "done":
                continue
            other = self.engine.store.step(run.key, "settings").result or {}
            if _site(other.get("start", "")) == _site(mine.get("start", "")):
                found.append(run.key)
        return found

    @route.get("/runs/{key}/compare-options")
    async def compare_options(self, key: str):
        from fasthtml.common import Option

        self.run(key)
        keys = self._comparable(key)
        if not keys:
            return Option("No other audited crawl of this site yet", value="")
        return tuple(Option(other, value=other) for other in keys)

    @route.get("/runs/{key}/compare")
    async def compare(self, key: str, other: str = ""):
        folder = self.run_folder(key)
        if not other:
            raise UserError("Pick another crawl of this site to compare with.")
        if other not in self._comparable(key):
            raise NotFound("That run is not an audited crawl of the same site in this profile.")
        result = await asyncio.to_thread(comparison.compare, folder, self.run_folder(other))
        return comparison.compare_view(self.base(key), key, other, result)

    @route.get("/runs/{key}/compare.csv")
    async def compare_csv(self, key: str, other: str = "", part: str = ""):
        folder = self.run_folder(key)
        if other not in self._comparable(key):
            raise NotFound("That run is not an audited crawl of the same site in this profile.")
        body = await asyncio.to_thread(comparison.compare_csv, folder, self.run_folder(other), part)
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{key}-vs-{other}-{part}.csv"'})

    # --- the chat ---------------------------------------------------------------------------------

    def chat_context(self, path: str) -> str | None:
        base = super().chat_context(path)
        if base is None:
            return None
        parts = path.strip("/").split("/")
        focus = parts[4] if len(parts) >= 5 and parts[3] == "issues" else None
        try:
            numbers = crawl_context(self.run_folder(parts[2]), focus)
        except NotFound:
            numbers = ""
        return f"{base}\n{numbers}" if numbers else base


def _site(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc.removeprefix("www.")  # the port too: another port is another site
