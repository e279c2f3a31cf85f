"""Reading a run's crawl file from the web routes: read-only, one connection per request, in a
worker thread (the file can be large; the server's loop never waits on it)."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from pipulate import NotFound

from ..audit.catalog import ISSUES, RANK, SEVERITIES

if TYPE_CHECKING:
    import sqlite3

STORE = Path("seo") / "crawl.sqlite"
PAGE_SIZE = 50
SORTS = {"severity", "issue", "pages", "clicks"}


def open_readonly(folder: Path) -> sqlite3.Connection:
    path = Path(folder) / STORE
    if not path.is_file():
        raise NotFound("This run has no crawl yet.")
    import sqlite3  # here, not at the top: the server starts without the sqlite3 module (idle memory)

    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    return db


def has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]).fetchone() is not None


def issue_rows(folder: Path, severity: str = "", text: str = "", sort: str = "severity", descending: bool = False) -> tuple[list[dict], bool]:
    """One row per issue type found (filtered and sorted), and whether traffic is known."""
    with closing(open_readonly(folder)) as db:
        if not has_table(db, "issues"):
            raise NotFound("The audit has not run yet.")
        traffic = has_table(db, "traffic")
        clicks = ("(SELECT coalesce(sum(t.clicks), 0) FROM traffic t WHERE t.url_id IN "
                  "(SELECT DISTINCT url_id FROM issues j WHERE j.type = i.type))") if traffic else "0"
        found = db.execute(f"SELECT i.type, count(DISTINCT i.url_id), {clicks} FROM issues i GROUP BY i.type").fetchall()
    rows = []
    for kind, pages, total_clicks in found:
        issue = ISSUES.get(kind)
        if issue is None:
            continue
        if severity and issue.severity != severity:
            continue
        if text and text.lower() not in f"{issue.title} {kind}".lower():
            continue
        rows.append({"type": kind, "issue": issue.title, "severity": issue.severity, "pages": pages,
                     "clicks": total_clicks, "explanation": issue.explanation})
    key = {"severity": lambda r: (RANK[r["severity"]], -r["pages"]), "issue": lambda r: r["issue"].lower(),
           "pages": lambda r: r["pages"], "clicks": lambda r: r["clicks"]}[sort if sort in SORTS else "severity"]
    rows.sort(key=key, reverse=descending)
    return rows, traffic


def affected(folder: Path, kind: str, page: int = 1) -> tuple[list[dict], int]:
    """The URLs an issue type affects (a page of them, by traffic then URL), and how many there are."""
    if kind not in ISSUES:
        raise NotFound("No such issue type.")
    with closing(open_readonly(folder)) as db:
        if not has_table(db, "issues"):
            raise NotFound("The audit has not run yet.")
        traffic = has_table(db, "traffic")
        total = db.execute("SELECT count(*) FROM issues WHERE type = ?", [kind]).fetchone()[0]
        clicks = "(SELECT clicks FROM traffic t WHERE t.url_id = i.url_id)" if traffic else "NULL"
        rows = db.execute(
            f"SELECT u.url, i.detail, p.status, p.title, u.depth, {clicks} AS clicks FROM issues i JOIN urls u ON u.id = i.url_id "
            f"LEFT JOIN pages p ON p.url_id = i.url_id WHERE i.type = ? ORDER BY coalesce(clicks, -1) DESC, u.url, i.detail "
            f"LIMIT ? OFFSET ?", [kind, PAGE_SIZE, (max(page, 1) - 1) * PAGE_SIZE]).fetchall()
    names = ("url", "detail", "status", "title", "depth", "clicks")
    return [dict(zip(names, row, strict=True)) for row in rows], total


def all_affected(folder: Path, kind: str):
    """Every (url, detail) of an issue type, for its CSV."""
    with closing(open_readonly(folder)) as db:
        yield from db.execute("SELECT u.url, i.detail FROM issues i JOIN urls u ON u.id = i.url_id WHERE i.type = ? "
                              "ORDER BY u.url", [kind])


def check_severity(value: str) -> str:
    return value if value in SEVERITIES else ""
