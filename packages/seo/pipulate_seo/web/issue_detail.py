"""One issue type: what it means, the pages it affects (a page at a time), its CSV, and a button
that asks the chat to explain it from this crawl's numbers."""

from __future__ import annotations

import csv
import io

from fasthtml.common import H4, A, Button, Div, P, Span, Table, Tbody, Td, Th, Thead, Tr

from ..audit.catalog import ISSUES
from .data import PAGE_SIZE
from .views import ask_chat, external


def issue_detail(base: str, key: str, kind: str, rows: list[dict], total: int, page: int):
    issue = ISSUES[kind]
    pages = max(1, -(-total // PAGE_SIZE))
    traffic = any(row["clicks"] is not None for row in rows)
    table = Table(
        Thead(Tr(Th("URL"), Th("Detail"), Th("Status"), Th("Title"), Th("Depth"), *([Th("Clicks")] if traffic else []))),
        Tbody(*[Tr(Td(external(row["url"])), Td(row["detail"] or ""), Td("" if row["status"] is None else str(row["status"] or "—")),
                   Td(row["title"] or ""), Td("" if row["depth"] is None else str(row["depth"])),
                   *([Td(f"{row['clicks'] or 0:,}")] if traffic else [])) for row in rows]),
        cls="data affected")
    target = f"#issue-detail-{key}"
    pager = Div(
        Button("← Previous", cls="secondary", disabled=page <= 1, hx_get=f"{base}/issues/{kind}?page={page - 1}", hx_target=target,
               hx_swap="innerHTML"),
        Span(f"Page {page:,} of {pages:,}", cls="hint"),
        Button("Next →", cls="secondary", disabled=page >= pages, hx_get=f"{base}/issues/{kind}?page={page + 1}", hx_target=target,
               hx_swap="innerHTML"),
        cls="pager")
    return Div(
        H4(issue.title, " ", Span(issue.severity, cls=f"severity {issue.severity}")),
        P(issue.explanation, cls="hint"),
        P(f"{total:,} affected URL{'s' if total != 1 else ''}."),
        Div(table, cls="table-scroll"), pager,
        Div(A("These URLs (CSV)", href=f"{base}/issue-csv/{kind}", cls="button secondary", download=True),
            ask_chat(f"Explain the issue “{issue.title}” in this crawl: what it means for these pages, and how to fix it.",
                     "Explain this issue"), cls="actions"),
        id=f"issue-{key}-{kind}", cls="issue-detail")


def affected_csv(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["url", "detail"])
    for url, detail in rows:
        writer.writerow([_safe(url), _safe(detail)])
    return ("\ufeff" + buffer.getvalue()).encode()


def _safe(value: str) -> str:
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
