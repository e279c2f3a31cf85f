"""The crawl on disk: every URL seen (the frontier is the queued ones), every page fetched and
every link, in one SQLite file in the run's folder.

Nothing about the crawl lives only in memory, so a crawl of 100,000 URLs runs in bounded memory,
and a crawl that was killed, paused or cancelled continues from this file. Results are written
in batches, one transaction each: a page's row, its links and its URL's state change together,
so a kill loses at most the pages of the batch in flight, which are still "queued" and are
simply fetched again.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS urls (
    id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE, depth INTEGER, state TEXT NOT NULL,
    internal INTEGER NOT NULL, in_sitemap INTEGER NOT NULL DEFAULT 0, note TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS urls_frontier ON urls (state, depth, url);
CREATE TABLE IF NOT EXISTS pages (
    url_id INTEGER PRIMARY KEY, status INTEGER NOT NULL, error TEXT NOT NULL DEFAULT '', content_type TEXT,
    size INTEGER, time_ms REAL, location_id INTEGER, x_robots TEXT, title TEXT, title_count INTEGER,
    description TEXT, description_count INTEGER, meta_robots TEXT, canonical_id INTEGER, h1 TEXT, h1_count INTEGER,
    word_count INTEGER, images INTEGER, images_without_alt INTEGER, http_links INTEGER, hreflang TEXT,
    truncated INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 1, fetched_at REAL);
CREATE TABLE IF NOT EXISTS links (src INTEGER NOT NULL, dst INTEGER NOT NULL, kind TEXT NOT NULL,
    anchor TEXT NOT NULL DEFAULT '', nofollow INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS links_src ON links (src);
CREATE INDEX IF NOT EXISTS links_dst ON links (dst);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""
ID_CACHE = 50_000  # URL -> id entries kept in memory (site-wide navigation links hit it)
PAGE_COLUMNS = ("url_id", "status", "error", "content_type", "size", "time_ms", "location_id", "x_robots", "title",
                "title_count", "description", "description_count", "meta_robots", "canonical_id", "h1", "h1_count",
                "word_count", "images", "images_without_alt", "http_links", "hreflang", "truncated", "attempts",
                "fetched_at")


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    import sqlite3  # here, not at the top: the server starts without the sqlite3 module (idle memory)

    if readonly:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, timeout=30)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")  # a commit survives a kill of the process
        db.executescript(SCHEMA)
    db.execute("PRAGMA cache_size = -16000")  # 16 MB of page cache, whatever the crawl's size
    return db


class CrawlStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = connect(path)
        self._ids: OrderedDict[str, int] = OrderedDict()

    def close(self) -> None:
        self.db.close()

    # --- meta ---------------------------------------------------------------------------------

    def get(self, key: str, default=None):
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return json.loads(row[0]) if row else default

    def put(self, key: str, value) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, json.dumps(value)])

    def reset(self) -> None:
        """Forget everything: the crawl's settings changed, so its frontier means nothing now."""
        with self.db:
            for table in ("urls", "pages", "links", "meta"):
                self.db.execute(f"DELETE FROM {table}")
        self._ids.clear()

    # --- URLs ---------------------------------------------------------------------------------

    def url_id(self, url: str, depth: int | None, state: str, internal: bool, sitemap: bool = False) -> tuple[int, bool]:
        """The id of `url`, added when new (with `depth` and `state`); and whether it was new.
        A URL known only from a sitemap (no depth yet) takes the depth of the first link to it."""
        if not sitemap and url in self._ids:
            self._ids.move_to_end(url)
            return self._ids[url], False
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO urls (url, depth, state, internal, in_sitemap) VALUES (?, ?, ?, ?, ?)",
            [url, depth, state, int(internal), int(sitemap)])
        new = cursor.rowcount == 1
        if new:
            found = cursor.lastrowid
        else:
            found, known_depth = self.db.execute("SELECT id, depth FROM urls WHERE url = ?", [url]).fetchone()
            if sitemap:
                self.db.execute("UPDATE urls SET in_sitemap = 1 WHERE id = ?", [found])
            elif known_depth is None and depth is not None:
                self.db.execute("UPDATE urls SET depth = ? WHERE id = ?", [depth, found])
        if depth is not None:
            self._ids[url] = found
            if len(self._ids) > ID_CACHE:
                self._ids.popitem(last=False)
        return found, new

    def set_state(self, url_id: int, state: str, note: str = "") -> None:
        self.db.execute("UPDATE urls SET state = ?, note = ? WHERE id = ?", [state, note, url_id])

    def frontier(self, depth: int | None, after: str, limit: int) -> list[tuple[int, str]]:
        """Queued URLs of one level (None: the sitemap-only ones), in URL order after `after`."""
        if depth is None:
            sql = "SELECT id, url FROM urls WHERE state = 'queued' AND depth IS NULL AND url > ? ORDER BY url LIMIT ?"
            return self.db.execute(sql, [after, limit]).fetchall()
        sql = "SELECT id, url FROM urls WHERE state = 'queued' AND depth = ? AND url > ? ORDER BY url LIMIT ?"
        return self.db.execute(sql, [depth, after, limit]).fetchall()

    def next_level(self, level: int) -> int | None:
        return self.db.execute("SELECT min(depth) FROM urls WHERE state = 'queued' AND depth > ?", [level]).fetchone()[0]

    def count(self, where: str = "1", args=()) -> int:
        return self.db.execute(f"SELECT count(*) FROM urls WHERE {where}", list(args)).fetchone()[0]

    def pages_fetched(self) -> int:
        return self.db.execute("SELECT count(*) FROM pages").fetchone()[0]

    # --- results ------------------------------------------------------------------------------

    def save_page(self, row: dict, links: list[tuple[int, str, str, int]]) -> None:
        """One fetched page (inside the caller's transaction): its row, its links, its state."""
        self.db.execute(f"INSERT OR REPLACE INTO pages ({', '.join(PAGE_COLUMNS)}) VALUES ({', '.join('?' * len(PAGE_COLUMNS))})",
                        [row.get(name) for name in PAGE_COLUMNS])
        self.db.execute("DELETE FROM links WHERE src = ?", [row["url_id"]])
        self.db.executemany("INSERT INTO links (src, dst, kind, anchor, nofollow) VALUES (?, ?, ?, ?, ?)",
                            [(row["url_id"], dst, kind, anchor, nofollow) for dst, kind, anchor, nofollow in links])
        self.db.execute("UPDATE urls SET state = 'done' WHERE id = ?", [row["url_id"]])

    def finish_unfetched(self, note: str) -> int:
        """Queued URLs that the limits left: marked skipped, with why."""
        with self.db:
            return self.db.execute("UPDATE urls SET state = 'skipped', note = ? WHERE state = 'queued'", [note]).rowcount

    def summary(self) -> dict:
        states = dict(self.db.execute("SELECT state, count(*) FROM urls WHERE internal = 1 GROUP BY state").fetchall())
        statuses = dict(self.db.execute("SELECT status / 100, count(*) FROM pages GROUP BY status / 100").fetchall())
        return {"states": states, "status_classes": {f"{k}xx" if k else "errors": v for k, v in statuses.items()}}


def hreflang_json(pairs: list[tuple[str, str]]) -> str:
    return json.dumps(pairs[:100]) if pairs else ""
