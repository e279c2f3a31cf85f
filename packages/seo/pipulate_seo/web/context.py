"""What the chat's model is told while a page shows a site audit: the crawl's own numbers (issue
counts by severity, clicks when Search Console was imported, affected URLs and their facts), so
"explain this issue" and "what should I fix first" are answered from this site, not from general
knowledge alone. It is all local: the model is the chat's (Ollama, a local server or embedded)."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from ..audit.catalog import ISSUES, RANK
from .data import has_table, open_readonly

LIMIT = 4_000  # characters: leaves room for the conversation in a small model's context
EXAMPLES = 2
DETAIL_URLS = 12


def crawl_context(folder: Path, focus: str | None = None) -> str:
    try:
        db = open_readonly(folder)
    except Exception:
        return ""
    with closing(db):
        if not has_table(db, "issues"):
            return "The crawl has not been audited yet."
        crawled = db.execute("SELECT count(*) FROM pages").fetchone()[0]
        traffic = has_table(db, "traffic")
        rows = db.execute("SELECT type, count(DISTINCT url_id) FROM issues GROUP BY type").fetchall()
        found = sorted(((kind, n) for kind, n in rows if kind in ISSUES),
                       key=lambda item: (RANK[ISSUES[item[0]].severity], -item[1]))
        lines = _focus(db, focus) if focus in ISSUES else []  # what the page shows comes first
        lines.append(f"This crawl fetched {crawled:,} pages. Issues found (severity, pages affected"
                     + (", clicks on those pages from Search Console" if traffic else "") + "):")
        for kind, count in found:
            issue = ISSUES[kind]
            clicks = ""
            if traffic:
                total = db.execute("SELECT coalesce(sum(clicks), 0) FROM traffic WHERE url_id IN "
                                   "(SELECT url_id FROM issues WHERE type = ?)", [kind]).fetchone()[0]
                clicks = f", {total:,} clicks"
            examples = [url for (url,) in db.execute("SELECT u.url FROM issues i JOIN urls u ON u.id = i.url_id "
                                                       "WHERE i.type = ? ORDER BY u.url LIMIT ?", [kind, EXAMPLES])]
            lines.append(f"- {issue.title} ({issue.severity}, {count:,} pages{clicks}), e.g. {', '.join(examples)}")
        if not found:
            lines.append("- none")
    text = "\n".join(lines)
    return text if len(text) <= LIMIT else text[: LIMIT - 1] + "…"


def _focus(db, kind: str) -> list[str]:
    issue = ISSUES[kind]
    lines = [f"The user is looking at the issue “{issue.title}” ({issue.severity}): {issue.explanation} "
             "Its affected pages, with their facts:"]
    for url, detail, status, title, words, depth in db.execute(
            "SELECT u.url, i.detail, p.status, p.title, p.word_count, u.depth FROM issues i JOIN urls u ON u.id = i.url_id "
            "LEFT JOIN pages p ON p.url_id = i.url_id WHERE i.type = ? ORDER BY u.url LIMIT ?", [kind, DETAIL_URLS]):
        facts = [f"status {status}" if status is not None else "not fetched"]
        if title is not None:
            facts.append(f"title “{title[:80]}”")
        if words is not None:
            facts.append(f"{words} words")
        if depth is not None:
            facts.append(f"depth {depth}")
        lines.append(f"- {url}: {detail + '; ' if detail else ''}{', '.join(facts)}")
    return lines
