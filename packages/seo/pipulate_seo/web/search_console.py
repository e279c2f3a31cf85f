"""A Search Console performance export (its UI's "Export > Download CSV": a .zip with Pages.csv,
or Pages.csv itself), joined to the crawl's pages so issues can be ranked by clicks."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from pipulate import UserError

from ..crawl.store import CrawlStore
from ..crawl.urls import normalize

TRAFFIC_SCHEMA = "CREATE TABLE IF NOT EXISTS traffic (url_id INTEGER PRIMARY KEY, clicks INTEGER, impressions INTEGER);"
MAX_ROWS = 200_000


def read_export(data: bytes, name: str) -> list[tuple[str, int, int]]:
    """(page URL, clicks, impressions) rows, or UserError saying what is wrong with the file."""
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                member = next((n for n in archive.namelist() if n.lower().endswith("pages.csv")), None)
                if member is None:
                    raise UserError("The .zip has no Pages.csv: export the Pages tab of the performance report.")
                if archive.getinfo(member).file_size > 50 * 1024 * 1024:
                    raise UserError("Pages.csv is larger than 50 MB.")
                data = archive.read(member)
        except zipfile.BadZipFile:
            raise UserError(f"{name} is not a readable .zip file.") from None
    text = data.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    url_column = next((i for i, h in enumerate(header) if "page" in h or h in ("url", "address")), None)
    clicks_column = next((i for i, h in enumerate(header) if h.startswith("click")), None)
    impressions_column = next((i for i, h in enumerate(header) if h.startswith("impression")), None)
    if url_column is None or clicks_column is None:
        raise UserError("That file has no page and clicks columns; export the Pages tab of Search Console's "
                        "performance report (Export > Download CSV).")
    rows = []
    for number, row in enumerate(reader, 2):
        if number > MAX_ROWS:
            break
        if len(row) <= max(url_column, clicks_column):
            continue
        rows.append((row[url_column].strip(), _number(row[clicks_column]),
                     _number(row[impressions_column]) if impressions_column is not None and len(row) > impressions_column else 0))
    if not rows:
        raise UserError("That export lists no pages.")
    return rows


def _number(text: str) -> int:
    cleaned = text.strip().replace(",", "").replace("\u00a0", "")
    try:
        return int(float(cleaned)) if cleaned else 0
    except ValueError:
        return 0


def import_traffic(folder: Path, rows: list[tuple[str, int, int]]) -> tuple[int, int]:
    """Join the rows to the crawl's URLs; answers (matched, listed)."""
    store = CrawlStore(Path(folder) / "seo" / "crawl.sqlite")
    try:
        store.db.executescript(TRAFFIC_SCHEMA)
        matched = 0
        with store.db:
            store.db.execute("DELETE FROM traffic")
            for url, clicks, impressions in rows:
                found = normalize(url)
                row = store.db.execute("SELECT id FROM urls WHERE url = ?", [found]).fetchone() if found else None
                if row:
                    matched += 1
                    store.db.execute("INSERT OR REPLACE INTO traffic VALUES (?, ?, ?)", [row[0], clicks, impressions])
        return matched, len(rows)
    finally:
        store.close()
