"""The audit as one Excel workbook: a summary sheet, then one sheet per issue type, each with a
bold, frozen header row and columns wide enough to read (openpyxl's streaming writer, so a large
crawl's workbook is written row by row)."""

from __future__ import annotations

import os
import re
from contextlib import closing
from pathlib import Path

from ..audit.catalog import ISSUES, RANK
from .data import open_readonly

SHEET_ROWS = 1_048_575  # an Excel sheet's rows, less the header
WIDTHS = {"url": 70, "detail": 50, "status": 8, "title": 50, "depth": 7, "issue": 40, "severity": 10, "pages": 8,
          "explanation": 90, "type": 28}


def sheet_name(title: str, taken: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", " ", title)[:31].strip() or "Sheet"
    base, number = name, 2
    while name.lower() in taken:
        suffix = f" ({number})"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(name.lower())
    return name


def write_audit_workbook(folder: Path, destination: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    bold = Font(bold=True)
    workbook = Workbook(write_only=True)
    taken: set[str] = set()

    def sheet(title: str, columns: list[str]):
        ws = workbook.create_sheet(sheet_name(title, taken))
        for index, column in enumerate(columns):
            ws.column_dimensions[chr(ord("A") + index)].width = WIDTHS.get(column, 15)
        ws.freeze_panes = "A2"
        header = []
        for column in columns:
            cell = WriteOnlyCell(ws, value=column)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        return ws

    with closing(open_readonly(folder)) as db:
        counts = db.execute("SELECT type, count(DISTINCT url_id) FROM issues GROUP BY type").fetchall()
        found = sorted(((kind, n) for kind, n in counts if kind in ISSUES), key=lambda item: (RANK[ISSUES[item[0]].severity], item[0]))
        summary = sheet("Summary", ["issue", "severity", "pages", "explanation", "type"])
        for kind, count in found:
            issue = ISSUES[kind]
            summary.append([issue.title, issue.severity, count, issue.explanation, kind])
        for kind, _count in found:
            ws = sheet(ISSUES[kind].title, ["url", "detail", "status", "title", "depth"])
            rows = db.execute("SELECT u.url, i.detail, p.status, p.title, u.depth FROM issues i JOIN urls u ON u.id = i.url_id "
                              "LEFT JOIN pages p ON p.url_id = i.url_id WHERE i.type = ? ORDER BY u.url LIMIT ?", [kind, SHEET_ROWS])
            for row in rows:
                ws.append([_text(value) for value in row])
    temporary = destination.with_name(f".{destination.name}.{os.getpid()}.tmp")
    workbook.save(temporary)
    os.replace(temporary, destination)
    return destination


def _text(value):
    """Cells from crawled pages are data, never formulas."""
    if isinstance(value, str) and value.startswith("="):
        return "'" + value
    return value
