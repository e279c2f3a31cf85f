"""What the chat's model is told about the run a page shows, so "what does this step do?" and
"summarise what we found" get answers grounded in the run itself."""

from __future__ import annotations

import json

from .engine import RunView
from .store import DONE

VALUE_LIMIT = 300
CONTEXT_LIMIT = 4_000


def describe_run(workflow, view: RunView) -> str:
    lines = [f"The user has the workflow “{workflow.menu_label()}” open, run {view.run.key} ({view.status})."]
    if workflow.description:
        lines.append(f"What the workflow does: {workflow.description}")
    current = view.current
    if current is not None:
        about = f" — {current.description}" if current.description else ""
        lines.append(f"The current step is “{current.title}”{about}.")
    results = []
    for spec in view.specs:
        row = view.row(spec.id)
        if row.status == DONE and row.has_result:
            results.append(f"- {spec.title}: {summary(row)}")
    if results:
        lines.append("Results so far:")
        lines += results
    text = "\n".join(lines)
    return text if len(text) <= CONTEXT_LIMIT else text[: CONTEXT_LIMIT - 1] + "…"


def summary(row) -> str:
    if row.result_kind == "tables":
        tables = "; ".join(f"{name}: {one.get('rows', 0):,} rows" for name, one in row.result_info.get("tables", {}).items())
        text = json.dumps(row.result, default=str)
        return f"{text[:VALUE_LIMIT]} (tables: {tables})"
    if row.result_kind == "file":
        columns = ", ".join(row.result_info.get("columns", [])[:12])
        return f"a table of {row.result_info.get('rows', 0):,} rows (columns: {columns})"
    text = row.result if isinstance(row.result, str) else json.dumps(row.result, default=str)
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"
