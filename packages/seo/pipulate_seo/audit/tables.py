"""The crawl's and the audit's tables as Parquet files, streamed from the crawl's SQLite file in
batches (a crawl of 100,000 pages never sits in memory as a whole)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .catalog import ISSUES, RANK

BATCH = 10_000

PAGE_FACTS_SQL = """
SELECT u.url, u.state, coalesce(p.status, 0) AS status, coalesce(p.error, u.note) AS note, u.depth, u.in_sitemap,
       p.content_type, p.size, p.time_ms AS response_ms, r.url AS redirects_to, p.title, length(p.title) AS title_length,
       p.description AS meta_description, length(p.description) AS description_length, p.meta_robots, p.x_robots,
       c.url AS canonical, p.hreflang, p.h1, p.h1_count, p.word_count, p.images, p.images_without_alt,
       (SELECT count(DISTINCT l.src) FROM links l WHERE l.dst = u.id AND l.kind = 'a') AS inlinks,
       (SELECT count(*) FROM links l JOIN urls t ON t.id = l.dst WHERE l.src = u.id AND l.kind = 'a' AND t.internal = 1)
           AS internal_links,
       (SELECT count(*) FROM links l JOIN urls t ON t.id = l.dst WHERE l.src = u.id AND l.kind = 'a' AND t.internal = 0)
           AS external_links
FROM urls u LEFT JOIN pages p ON p.url_id = u.id LEFT JOIN urls r ON r.id = p.location_id LEFT JOIN urls c ON c.id = p.canonical_id
WHERE u.internal = 1 AND u.id > ? ORDER BY u.id LIMIT ?
"""
LINKS_SQL = """
SELECT l.rowid, s.url AS source, t.url AS target, l.kind, l.anchor, l.nofollow, t.internal
FROM links l JOIN urls s ON s.id = l.src JOIN urls t ON t.id = l.dst WHERE l.rowid > ? ORDER BY l.rowid LIMIT ?
"""
ISSUES_SQL = """
SELECT i.rowid, i.type, u.url, i.detail FROM issues i JOIN urls u ON u.id = i.url_id WHERE i.rowid > ? ORDER BY i.rowid LIMIT ?
"""


def write_query(db: sqlite3.Connection, sql: str, destination: Path, transform=None, key: int = 0) -> int:
    """Run a keyset-paged query (`? > last key`, `LIMIT ?`) into a Parquet file; answers rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.tmp")
    writer, last, rows = None, -1, 0
    try:
        while True:
            cursor = db.execute(sql, [last, BATCH])
            names = [d[0] for d in cursor.description]
            batch = cursor.fetchall()
            if not batch:
                break
            last = batch[-1][key]
            records = [dict(zip(names, row, strict=True)) for row in batch]
            if transform is not None:
                records = [transform(record) for record in records]
            table = pa.Table.from_pylist(records, schema=writer.schema if writer else None)
            if writer is None:
                writer = pq.ParquetWriter(temporary, table.schema, compression="zstd")
            writer.write_table(table)
            rows += len(records)
        if writer is None:  # no rows: still a valid, empty file with the query's columns
            empty = pa.table({name: pa.array([], pa.string()) for name in names})
            pq.write_table(empty, temporary)
    finally:
        if writer is not None:
            writer.close()
    temporary.replace(destination)
    return rows


def page_facts(db: sqlite3.Connection, destination: Path) -> int:
    sql = PAGE_FACTS_SQL.replace("SELECT u.url,", "SELECT u.id AS _id, u.url,", 1)

    def drop_id(record):
        record.pop("_id")
        return record

    return write_query(db, sql, destination, drop_id)


def links(db: sqlite3.Connection, destination: Path) -> int:
    def shape(record):
        record.pop("rowid")
        record["nofollow"] = bool(record["nofollow"])
        record["internal"] = bool(record["internal"])
        return record

    return write_query(db, LINKS_SQL, destination, shape)


def issues(db: sqlite3.Connection, destination: Path) -> int:
    def shape(record):
        record.pop("rowid")
        kind = ISSUES[record["type"]]
        return {"issue": kind.title, "severity": kind.severity, "type": record["type"], "url": record["url"],
                "detail": record["detail"]}

    return write_query(db, ISSUES_SQL, destination, shape)


def summary(counts: dict[str, int]) -> list[dict]:
    """One row per issue type found, most severe first."""
    rows = [{"type": name, "issue": ISSUES[name].title, "severity": ISSUES[name].severity, "pages": count,
             "explanation": ISSUES[name].explanation} for name, count in counts.items() if count]
    return sorted(rows, key=lambda row: (RANK[row["severity"]], -row["pages"], row["type"]))
