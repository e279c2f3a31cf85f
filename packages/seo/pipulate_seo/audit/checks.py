"""The audit: every issue of the catalog, found in the crawl's file with SQL (so 100,000 pages
are checked without loading them), written to its `issues` table: (type, url, detail)."""

from __future__ import annotations

import json
import sqlite3

from .catalog import DEEP, DESCRIPTION_RANGE, ISSUES, THIN_WORDS, TITLE_RANGE

ISSUES_SCHEMA = """
CREATE TABLE IF NOT EXISTS issues (type TEXT NOT NULL, url_id INTEGER NOT NULL, detail TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS issues_type ON issues (type, url_id);
"""
NOINDEX = "(lower(coalesce(p.meta_robots, '')) LIKE '%noindex%' OR lower(coalesce(p.meta_robots, '')) LIKE '%none%' " \
          "OR lower(coalesce(p.x_robots, '')) LIKE '%noindex%' OR lower(coalesce(p.x_robots, '')) LIKE '%none%')"
PARSED = "p.status = 200 AND p.title_count IS NOT NULL"
MAX_HOPS = 20


def run_audit(db: sqlite3.Connection) -> dict[str, int]:
    """(Re)compute every issue; answers the count per issue type."""
    db.executescript(ISSUES_SCHEMA)
    with db:
        db.execute("DELETE FROM issues")
        for sql in _SQL_CHECKS:
            db.execute("INSERT INTO issues (type, url_id, detail) " + sql)
        db.executemany("INSERT INTO issues (type, url_id, detail) VALUES (?, ?, ?)", _redirect_issues(db))
        db.executemany("INSERT INTO issues (type, url_id, detail) VALUES (?, ?, ?)", _hreflang_issues(db))
    counts = dict(db.execute("SELECT type, count(DISTINCT url_id) FROM issues GROUP BY type").fetchall())
    return {name: counts.get(name, 0) for name in ISSUES}


def _on_page(kind: str, where: str, detail: str = "''") -> str:
    return f"SELECT '{kind}', p.url_id, {detail} FROM pages p WHERE {PARSED} AND ({where})"


def _linked_from(target: str = "u.id") -> str:
    return (f"'linked from ' || (SELECT count(DISTINCT l.src) FROM links l WHERE l.dst = {target} AND l.kind = 'a') "
            "|| ' page(s)'")


_SQL_CHECKS = [
    f"SELECT 'status_4xx', u.id, p.status || ', ' || {_linked_from()} FROM pages p JOIN urls u ON u.id = p.url_id "
    "WHERE p.status BETWEEN 400 AND 499",
    f"SELECT 'status_5xx', u.id, p.status || ', ' || {_linked_from()} FROM pages p JOIN urls u ON u.id = p.url_id "
    "WHERE p.status >= 500",
    "SELECT 'fetch_error', p.url_id, p.error FROM pages p WHERE p.status = 0",
    "SELECT DISTINCT 'broken_link', l.src, t.url || ' (' || CASE WHEN p.status = 0 THEN 'no answer' ELSE p.status END || ')' "
    "FROM links l JOIN pages p ON p.url_id = l.dst JOIN urls t ON t.id = l.dst "
    "WHERE l.kind = 'a' AND (p.status >= 400 OR p.status = 0)",
    "SELECT DISTINCT 'internal_link_to_redirect', l.src, t.url || ' (' || p.status || ')' "
    "FROM links l JOIN pages p ON p.url_id = l.dst JOIN urls t ON t.id = l.dst "
    "WHERE l.kind = 'a' AND t.internal = 1 AND p.status BETWEEN 300 AND 399",
    _on_page("title_missing", "p.title_count = 0"),
    _on_page("title_empty", "p.title_count > 0 AND p.title = ''"),
    _on_page("title_too_long", f"length(p.title) > {TITLE_RANGE[1]}", "length(p.title) || ' characters'"),
    _on_page("title_too_short", f"p.title != '' AND length(p.title) < {TITLE_RANGE[0]}", "length(p.title) || ' characters'"),
    "SELECT 'title_duplicate', p.url_id, 'shared by ' || d.n || ' pages' FROM pages p JOIN "
    f"(SELECT title, count(*) AS n FROM pages p WHERE {PARSED} AND p.title != '' GROUP BY title HAVING n > 1) d "
    f"ON d.title = p.title WHERE {PARSED}",
    _on_page("description_missing", "p.description_count = 0"),
    _on_page("description_empty", "p.description_count > 0 AND p.description = ''"),
    _on_page("description_too_long", f"length(p.description) > {DESCRIPTION_RANGE[1]}", "length(p.description) || ' characters'"),
    _on_page("description_too_short", f"p.description != '' AND length(p.description) < {DESCRIPTION_RANGE[0]}",
             "length(p.description) || ' characters'"),
    "SELECT 'description_duplicate', p.url_id, 'shared by ' || d.n || ' pages' FROM pages p JOIN "
    f"(SELECT description, count(*) AS n FROM pages p WHERE {PARSED} AND p.description != '' GROUP BY description "
    f"HAVING n > 1) d ON d.description = p.description WHERE {PARSED}",
    _on_page("h1_missing", "p.h1_count = 0"),
    _on_page("h1_multiple", "p.h1_count > 1", "p.h1_count || ' H1s'"),
    f"SELECT 'noindex_in_sitemap', u.id, '' FROM urls u JOIN pages p ON p.url_id = u.id WHERE u.in_sitemap = 1 AND {NOINDEX}",
    # Canonicals: to a page that answers 200 and is indexable (a notice), else an error saying which.
    "SELECT CASE WHEN p.status != 200 THEN 'canonical_to_non200' WHEN " + NOINDEX + " THEN 'canonical_to_noindex' "
    "ELSE 'canonical_to_other' END, s.url_id, t.url || ' (' || CASE WHEN p.status = 0 THEN 'no answer' ELSE p.status END || ')' "
    "FROM pages s JOIN urls t ON t.id = s.canonical_id JOIN pages p ON p.url_id = s.canonical_id "
    "WHERE s.canonical_id IS NOT NULL AND s.canonical_id != s.url_id AND s.status = 200",
    f"SELECT 'blocked_by_robots_linked', u.id, {_linked_from()} FROM urls u WHERE u.state = 'blocked' "
    "AND EXISTS (SELECT 1 FROM links l WHERE l.dst = u.id AND l.kind = 'a')",
    "SELECT 'orphan', u.id, 'in the sitemap, linked from no crawled page' FROM urls u JOIN pages p ON p.url_id = u.id "
    "WHERE u.in_sitemap = 1 AND u.depth IS NULL AND p.status = 200 "
    "AND NOT EXISTS (SELECT 1 FROM links l WHERE l.dst = u.id AND l.kind = 'a' AND l.src != u.id)",
    _on_page("thin_content", f"p.word_count < {THIN_WORDS}", "p.word_count || ' words'"),
    _on_page("mixed_links", "p.http_links > 0", "p.http_links || ' link(s) or image(s)'"),
    f"SELECT 'too_deep', u.id, u.depth || ' clicks' FROM urls u JOIN pages p ON p.url_id = u.id "
    f"WHERE u.depth > {DEEP} AND p.status = 200",
    _on_page("images_without_alt", "p.images_without_alt > 0", "p.images_without_alt || ' of ' || p.images || ' images'"),
]


def _redirect_issues(db: sqlite3.Connection):
    """Chains (two or more hops from a URL something links to) and loops, by walking redirects."""
    hops = dict(db.execute("SELECT url_id, location_id FROM pages WHERE status BETWEEN 300 AND 399 "
                           "AND location_id IS NOT NULL").fetchall())
    if not hops:
        return
    urls = dict(db.execute(f"SELECT id, url FROM urls WHERE id IN ({','.join(map(str, hops))})").fetchall())
    reached = set(hops.values()) - set(urls)
    if reached:
        urls.update(db.execute(f"SELECT id, url FROM urls WHERE id IN ({','.join(map(str, reached))})").fetchall())
    linked = {row[0] for row in db.execute(
        f"SELECT DISTINCT dst FROM links WHERE kind = 'a' AND dst IN ({','.join(map(str, hops))})")}
    seeds = {row[0] for row in db.execute("SELECT id FROM urls WHERE depth = 0")}
    for start in hops:
        if start not in linked and start not in seeds:
            continue  # a hop in the middle of a chain: reported from where the chain starts
        chain, current = [start], hops[start]
        while current in hops and current not in chain and len(chain) < MAX_HOPS:
            chain.append(current)
            current = hops[current]
        path = " → ".join(urls.get(step, "?") for step in [*chain, current])
        if current in chain:
            yield "redirect_loop", start, path
        elif len(chain) >= 2:
            yield "redirect_chain", start, f"{len(chain)} redirects: {path}"


def _hreflang_issues(db: sqlite3.Connection):
    rows = db.execute("SELECT p.url_id, u.url, p.hreflang FROM pages p JOIN urls u ON u.id = p.url_id "
                      "WHERE p.hreflang IS NOT NULL AND p.hreflang != ''").fetchall()
    annotations = {url: {target for _lang, target in _pairs(text)} for _id, url, text in rows}
    for url_id, url, text in rows:
        for lang, target in _pairs(text):
            if target == url:
                continue
            answer = db.execute("SELECT p.status FROM urls u JOIN pages p ON p.url_id = u.id WHERE u.url = ?", [target]).fetchone()
            if answer is None:
                continue  # not crawled: nothing known about it
            if answer[0] != 200:
                yield "hreflang_to_non200", url_id, f"{lang}: {target} ({answer[0] or 'no answer'})"
            elif url not in annotations.get(target, set()):
                yield "hreflang_no_return", url_id, f"{lang}: {target} does not link back"


def _pairs(text: str) -> list[tuple[str, str]]:
    try:
        return [(str(lang), str(target)) for lang, target in json.loads(text)]
    except (ValueError, TypeError):
        return []
