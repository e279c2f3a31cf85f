"""The internal link graph: inlinks and outlinks per page, crawl depth, internal PageRank,
orphan and dead-end pages; nodes and edges for Gephi, and a picture for the page.

PageRank is the classic power iteration (damping 0.85, dangling pages' rank spread evenly)
over the followed internal links between crawled HTML pages, with numpy: a 100,000-page graph
with millions of links takes seconds and a few tens of MB.
"""

from __future__ import annotations

import sqlite3
from array import array
from pathlib import Path

import numpy as np

from .tables import write_query

DAMPING, ITERATIONS, TOLERANCE = 0.85, 100, 1e-9
PICTURE_LIMIT = 3_000  # nodes drawn in the page (the highest PageRank); the CSVs have them all

GRAPH_SCHEMA = "CREATE TABLE IF NOT EXISTS graph (url_id INTEGER PRIMARY KEY, inlinks INTEGER, outlinks INTEGER, pagerank REAL);"
NODES_SQL = """
SELECT u.id, u.url, u.depth, p.status, p.title, g.inlinks, g.outlinks, g.pagerank,
       (u.in_sitemap = 1 AND g.inlinks = 0) AS orphan, (p.status = 200 AND g.outlinks = 0) AS dead_end
FROM graph g JOIN urls u ON u.id = g.url_id JOIN pages p ON p.url_id = u.id WHERE u.id > ? ORDER BY u.id LIMIT ?
"""
EDGES_SQL = """
SELECT l.rowid, s.url AS source, t.url AS target, l.anchor, l.nofollow FROM links l
JOIN graph gs ON gs.url_id = l.src JOIN graph gt ON gt.url_id = l.dst JOIN urls s ON s.id = l.src JOIN urls t ON t.id = l.dst
WHERE l.kind = 'a' AND l.src != l.dst AND l.rowid > ? ORDER BY l.rowid LIMIT ?
"""


def pagerank(sources: np.ndarray, targets: np.ndarray, count: int) -> np.ndarray:
    if count == 0:
        return np.zeros(0)
    outdegree = np.bincount(sources, minlength=count).astype(float)
    rank = np.full(count, 1.0 / count)
    dangling = outdegree == 0
    weights = np.divide(1.0, outdegree, out=np.zeros(count), where=~dangling)
    for _ in range(ITERATIONS):
        spread = np.bincount(targets, weights=rank[sources] * weights[sources], minlength=count)
        new = (1 - DAMPING) / count + DAMPING * (spread + rank[dangling].sum() / count)
        if np.abs(new - rank).sum() < TOLERANCE:
            rank = new
            break
        rank = new
    return rank


def build_graph(db: sqlite3.Connection) -> dict:
    """Compute the graph table (one row per crawled internal page); answers its headline facts."""
    db.executescript(GRAPH_SCHEMA)
    ids = np.array([row[0] for row in db.execute(
        "SELECT u.id FROM urls u JOIN pages p ON p.url_id = u.id WHERE u.internal = 1 ORDER BY u.id")], dtype=np.int64)
    index = {int(node): number for number, node in enumerate(ids)}
    sources, targets = array("q"), array("q")  # 8 bytes a link, not a Python int's 28
    for src, dst in db.execute("SELECT DISTINCT src, dst FROM links WHERE kind = 'a' AND src != dst"):
        if src in index and dst in index:
            sources.append(index[src])
            targets.append(index[dst])
    sources_a = np.frombuffer(sources, dtype=np.int64) if sources else np.zeros(0, dtype=np.int64)
    targets_a = np.frombuffer(targets, dtype=np.int64) if targets else np.zeros(0, dtype=np.int64)
    rank = pagerank(sources_a, targets_a, len(ids))
    inlinks = np.bincount(targets_a, minlength=len(ids))
    outlinks = np.bincount(sources_a, minlength=len(ids))
    with db:
        db.execute("DELETE FROM graph")
        db.executemany("INSERT INTO graph VALUES (?, ?, ?, ?)",
                       ((int(ids[i]), int(inlinks[i]), int(outlinks[i]), float(rank[i])) for i in range(len(ids))))
    orphans = db.execute("SELECT count(*) FROM graph g JOIN urls u ON u.id = g.url_id WHERE u.in_sitemap = 1 AND g.inlinks = 0").fetchone()[0]
    dead_ends = db.execute("SELECT count(*) FROM graph g JOIN pages p ON p.url_id = g.url_id WHERE p.status = 200 AND g.outlinks = 0").fetchone()[0]
    top = db.execute("SELECT u.url, g.pagerank FROM graph g JOIN urls u ON u.id = g.url_id ORDER BY g.pagerank DESC LIMIT 10").fetchall()
    return {"pages": len(ids), "links": len(sources_a), "orphans": orphans, "dead_ends": dead_ends,
            "top_pagerank": [{"url": url, "pagerank": round(value, 6)} for url, value in top]}


def nodes_table(db: sqlite3.Connection, destination: Path) -> int:
    def shape(record):
        record.pop("id")
        record["orphan"], record["dead_end"] = bool(record["orphan"]), bool(record["dead_end"])
        record["pagerank"] = round(record["pagerank"] or 0.0, 8)
        return record

    return write_query(db, NODES_SQL, destination, shape)


def edges_table(db: sqlite3.Connection, destination: Path) -> int:
    def shape(record):
        record.pop("rowid")
        record["nofollow"] = bool(record["nofollow"])
        return record

    return write_query(db, EDGES_SQL, destination, shape)


def picture(db: sqlite3.Connection, limit: int = PICTURE_LIMIT) -> dict:
    """Nodes (the `limit` highest PageRank) and the links between them, for the page's graph."""
    rows = db.execute("SELECT u.id, u.url, u.depth, p.status, g.inlinks, g.outlinks, g.pagerank FROM graph g "
                      "JOIN urls u ON u.id = g.url_id JOIN pages p ON p.url_id = u.id ORDER BY g.pagerank DESC LIMIT ?",
                      [limit]).fetchall()
    index = {row[0]: number for number, row in enumerate(rows)}
    nodes = [{"url": url, "depth": depth, "status": status, "in": inl, "out": outl, "rank": round(rank, 8)}
             for _id, url, depth, status, inl, outl, rank in rows]
    edges = []
    for chunk in range(0, len(rows), 500):
        ids = ",".join(str(row[0]) for row in rows[chunk:chunk + 500])
        for src, dst in db.execute(f"SELECT DISTINCT src, dst FROM links WHERE kind = 'a' AND src != dst AND src IN ({ids})"):
            if dst in index:
                edges.append([index[src], index[dst]])
    return {"nodes": nodes, "edges": edges, "total": db.execute("SELECT count(*) FROM graph").fetchone()[0]}
