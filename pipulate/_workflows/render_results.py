"""Results in a step's card: values shown readably, tables as a paged preview with downloads,
several tables (`Tables`) one after the other, and a step's own renderer (`@step(render=fn)`),
which may take the run (`fn(result, run)`) to build links to its own routes and tables.
"""

from __future__ import annotations

import inspect
import json
import logging
from dataclasses import dataclass

from fasthtml.common import A, Button, Div, Li, NotStr, P, Span, Table, Tbody, Td, Th, Thead, Tr, Ul

from .._chat.markdown import render_markdown
from .definition import StepSpec

log = logging.getLogger("pipulate.workflows")
LIST_PREVIEW = 50
TABLE_PREVIEW = 20


def run_url(workflow: str, key: str, *parts: str) -> str:
    return "/".join([f"/{workflow}/runs/{key}", *parts])


@dataclass(frozen=True)
class RunContext:
    """What a renderer that takes two parameters receives: where its run lives in the app."""

    workflow: str
    key: str
    step: str
    tables_info: dict

    def url(self, *parts: str) -> str:
        """`/<workflow>/runs/<key>/<parts...>`: the run's page, or a route of the workflow's own."""
        return run_url(self.workflow, self.key, *parts)

    def table(self, name: str):
        """The standard preview of one of the step's Tables, with its downloads."""
        return table_file(self.workflow, self.key, self.step, self.tables_info[name], table=name)

    def download(self, name: str, kind: str) -> str:
        """The URL of one of the step's Tables as csv, xlsx or parquet."""
        return f"{self.url('steps', self.step, 'download.' + kind)}?table={name}"


def result_view(workflow, key: str, spec: StepSpec, row):
    tables = row.result_info.get("tables", {}) if row.result_kind == "tables" else {}
    if row.result_kind == "file":
        return table_file(workflow.name, key, spec.id, row.result_info)
    value = row.result
    if spec.render is not None:
        context = RunContext(workflow.name, key, spec.id, tables)
        try:
            if _takes_two(spec.render):
                return spec.render(_with_tables(value, tables, row.result_kind), context)
            return spec.render(value)
        except Exception as error:  # the author's renderer failed: show the result plainly
            log.warning("the renderer of step %s failed: %s", spec.id, error)
    shown = value_view(value, markdown=spec.takes_llm) if value is not None or not tables else None
    return Div(shown, *[Div(P(name.replace("_", " ").capitalize(), cls="table-name"),
                            table_file(workflow.name, key, spec.id, info, table=name)) for name, info in tables.items()])


def _takes_two(function) -> bool:
    try:
        return len(inspect.signature(function).parameters) >= 2
    except (TypeError, ValueError):
        return False


def _with_tables(value, tables: dict, kind: str):
    if kind != "tables":
        return value
    from .results import Tables

    return Tables(value, **{name: info["file"] for name, info in tables.items()})


def value_view(value, markdown: bool = False, depth: int = 0):
    if value is None:
        return P("(no result)", cls="hint")
    if isinstance(value, bool):
        return P("Yes" if value else "No")
    if isinstance(value, (int, float)):
        return P(f"{value:,}" if isinstance(value, int) else f"{value:,.6g}", cls="number")
    if isinstance(value, str):
        return Div(NotStr(render_markdown(value)), cls="markdown") if markdown else Div(value, cls="text")
    if isinstance(value, dict):
        if depth > 2:
            return Div(json.dumps(value)[:500], cls="text")
        return Table(Tbody(*[Tr(Th(str(k)), Td(value_view(v, depth=depth + 1))) for k, v in list(value.items())[:LIST_PREVIEW]]), cls="facts")
    if isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            columns = list(dict.fromkeys(k for item in value[:TABLE_PREVIEW] for k in item))
            return _table(columns, [[item.get(c) for c in columns] for item in value[:TABLE_PREVIEW]], len(value))
        items = [Li(value_view(item, depth=depth + 1) if isinstance(item, (dict, list)) else str(item)) for item in value[:LIST_PREVIEW]]
        more = P(f"… and {len(value) - LIST_PREVIEW:,} more", cls="hint") if len(value) > LIST_PREVIEW else None
        return Div(Ul(*items), more)
    return Div(str(value), cls="text")


def _table(columns, rows, total: int):
    table = Table(Thead(Tr(*[Th(str(c)) for c in columns])), Tbody(*[Tr(*[Td(_cell(v)) for v in r]) for r in rows]), cls="data")
    more = P(f"Showing {len(rows):,} of {total:,} rows.", cls="hint") if total > len(rows) else None
    return Div(Div(table, cls="table-scroll"), more)


def _cell(value) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else (f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value))
    return text if len(text) <= 300 else text[:297] + "…"


def table_file(workflow: str, key: str, step: str, info: dict, page=None, table: str = ""):
    """A table result: a page of its preview, the pager, and the downloads."""
    container = f"table-{key}-{step}" + (f"-{table}" if table else "")
    query = f"?table={table}" if table else ""
    rows = info.get("rows", 0)
    heading = P(f"{rows:,} rows × {len(info.get('columns', []))} columns", cls="hint")
    links = [("CSV", "csv"), ("XLSX", "xlsx")] + ([("Parquet", "parquet")] if table else [])
    downloads = Div(
        *[A(f"Download {label}", href=run_url(workflow, key, "steps", step, f"download.{kind}") + query, cls="button secondary",
            download=True) for label, kind in links],
        cls="actions",
    )
    body = table_page(workflow, key, step, page, table) if page is not None else Div(
        hx_get=run_url(workflow, key, "steps", step, "preview") + (query + "&" if query else "?") + "page=1", hx_trigger="load",
        hx_swap="outerHTML", cls="hint", id=container)
    return Div(heading, body, downloads)


def table_page(workflow: str, key: str, step: str, page, table: str = ""):
    url = run_url(workflow, key, "steps", step, "preview") + (f"?table={table}&" if table else "?")
    container = f"table-{key}-{step}" + (f"-{table}" if table else "")
    pager = Div(
        Button("← Previous", cls="secondary", disabled=page.number <= 1, hx_get=f"{url}page={page.number - 1}",
               hx_target=f"#{container}", hx_swap="outerHTML"),
        Span(f"Page {page.number:,} of {page.pages:,}", cls="hint"),
        Button("Next →", cls="secondary", disabled=page.number >= page.pages, hx_get=f"{url}page={page.number + 1}",
               hx_target=f"#{container}", hx_swap="outerHTML"),
        cls="pager",
    )
    table = Table(Thead(Tr(*[Th(str(c)) for c in page.columns])), Tbody(*[Tr(*[Td(_cell(v)) for v in r]) for r in page.rows]), cls="data")
    return Div(Div(table, cls="table-scroll"), pager, id=container)

