"""Two crawls of the same site side by side: pages new, removed and changed; issues fixed and
introduced. The older crawl's file is attached read-only to the newer one's, and SQL does it."""

from __future__ import annotations

import csv
import io
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from fasthtml.common import H4, A, Div, P, Table, Tbody, Td, Th, Thead, Tr

from pipulate import NotFound

from .data import STORE, has_table, open_readonly
from .views import external

if TYPE_CHECKING:
    import sqlite3

PARTS = ("new", "removed", "changed", "fixed", "introduced")
SHOWN = 20
COMPARED = ("status", "title", "description", "meta_robots", "h1", "canonical_id IS NULL", "word_count / 50")
_PAGES = "SELECT u.url, p.status, p.title, p.description, p.meta_robots, p.h1, c.url AS canonical, p.word_count " \
         "FROM {db}.pages p JOIN {db}.urls u ON u.id = p.url_id LEFT JOIN {db}.urls c ON c.id = p.canonical_id"
QUERIES = {
    "new": f"SELECT n.url, n.status, n.title FROM ({_PAGES.format(db='main')}) n WHERE n.url NOT IN "
           f"(SELECT u.url FROM old.pages p JOIN old.urls u ON u.id = p.url_id) ORDER BY n.url",
    "removed": f"SELECT o.url, o.status, o.title FROM ({_PAGES.format(db='old')}) o WHERE o.url NOT IN "
               f"(SELECT u.url FROM main.pages p JOIN main.urls u ON u.id = p.url_id) ORDER BY o.url",
    # Changed: what a person would notice (status, title, description, robots, H1, canonical,
    # or the word count by more than a few words), each change named.
    "changed": f"SELECT n.url, trim("
               "CASE WHEN n.status IS NOT o.status THEN 'status ' || coalesce(o.status, '') || '→' || coalesce(n.status, '') || '; ' ELSE '' END || "
               "CASE WHEN n.title IS NOT o.title THEN 'title; ' ELSE '' END || "
               "CASE WHEN n.description IS NOT o.description THEN 'description; ' ELSE '' END || "
               "CASE WHEN n.meta_robots IS NOT o.meta_robots THEN 'meta robots; ' ELSE '' END || "
               "CASE WHEN n.h1 IS NOT o.h1 THEN 'H1; ' ELSE '' END || "
               "CASE WHEN n.canonical IS NOT o.canonical THEN 'canonical; ' ELSE '' END || "
               "CASE WHEN abs(coalesce(n.word_count, 0) - coalesce(o.word_count, 0)) > 20 THEN 'words ' || "
               "coalesce(o.word_count, 0) || '→' || coalesce(n.word_count, 0) ELSE '' END, '; '), n.title "
               f"FROM ({_PAGES.format(db='main')}) n JOIN ({_PAGES.format(db='old')}) o ON o.url = n.url "
               "WHERE n.status IS NOT o.status OR n.title IS NOT o.title OR n.description IS NOT o.description OR "
               "n.meta_robots IS NOT o.meta_robots OR n.h1 IS NOT o.h1 OR n.canonical IS NOT o.canonical OR "
               "abs(coalesce(n.word_count, 0) - coalesce(o.word_count, 0)) > 20 ORDER BY n.url",
    "fixed": "SELECT u.url, i.type, i.detail FROM old.issues i JOIN old.urls u ON u.id = i.url_id "
             "EXCEPT SELECT u.url, i.type, i.detail FROM main.issues i JOIN main.urls u ON u.id = i.url_id ORDER BY 2, 1",
    "introduced": "SELECT u.url, i.type, i.detail FROM main.issues i JOIN main.urls u ON u.id = i.url_id "
                  "EXCEPT SELECT u.url, i.type, i.detail FROM old.issues i JOIN old.urls u ON u.id = i.url_id ORDER BY 2, 1",
}
COLUMNS = {"new": ("url", "status", "title"), "removed": ("url", "status", "title"), "changed": ("url", "what changed", "title"),
           "fixed": ("url", "issue", "detail"), "introduced": ("url", "issue", "detail")}


def _attached(folder: Path, other: Path) -> sqlite3.Connection:
    db = open_readonly(folder)
    if not (Path(other) / STORE).is_file():
        db.close()
        raise NotFound("The other run has no crawl.")
    db.execute("ATTACH DATABASE ? AS old", [f"file:{Path(other) / STORE}?mode=ro"])
    for name in ("main", "old"):
        if not has_table(db, "issues") or db.execute(f"SELECT 1 FROM {name}.sqlite_master WHERE name = 'issues'").fetchone() is None:
            db.close()
            raise NotFound("Both crawls need their audit done before they can be compared.")
    return db


def compare(folder: Path, other: Path, limit: int | None = SHOWN) -> dict:
    """{part: (count, first rows)} for each of PARTS."""
    with closing(_attached(folder, other)) as db:
        result = {}
        for part in PARTS:
            count = db.execute(f"SELECT count(*) FROM ({QUERIES[part]})").fetchone()[0]
            rows = db.execute(QUERIES[part] + (f" LIMIT {int(limit)}" if limit else "")).fetchall()
            result[part] = (count, rows)
        return result


def compare_csv(folder: Path, other: Path, part: str) -> bytes:
    if part not in PARTS:
        raise NotFound("No such part of the comparison.")
    with closing(_attached(folder, other)) as db:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(COLUMNS[part])
        for row in db.execute(QUERIES[part]):
            writer.writerow(["'" + v if isinstance(v, str) and v[:1] in "=+-@" else v for v in row])
    return ("\ufeff" + buffer.getvalue()).encode()


def compare_view(base: str, this_key: str, other_key: str, result: dict):
    sections = []
    for part in PARTS:
        count, rows = result[part]
        names = COLUMNS[part]
        sections.append(Div(
            H4(f"{part.capitalize()}: {count:,}"),
            Table(Thead(Tr(*[Th(n) for n in names])), Tbody(*[Tr(Td(external(row[0])), *[Td("" if v is None else str(v)) for v in row[1:]])
                                                               for row in rows]), cls="data") if rows else None,
            P(f"… and {count - len(rows):,} more in the CSV.", cls="hint") if count > len(rows) else None,
            A(f"{part.capitalize()} (CSV)", href=f"{base}/compare.csv?other={other_key}&part={part}", cls="button secondary",
              download=True) if count else None,
            cls=f"compare-part compare-{part}"))
    return Div(P(f"{this_key} compared with {other_key} (the earlier crawl)."), *sections, cls="comparison")
