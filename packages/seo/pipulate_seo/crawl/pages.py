"""From an answer to what the store keeps: the page's row and the links it makes."""

from __future__ import annotations

import time

from .fetch import Response
from .parse import Link, decode, parse
from .store import hreflang_json
from .urls import normalize


def page_row(url: str, response: Response, attempts: int, strip: frozenset[str]) -> tuple[dict, list[Link], str]:
    """(the row without ids, the links, where it redirects or "")."""
    row = {
        "status": response.status, "error": response.error, "content_type": response.content_type[:200],
        "size": response.size or len(response.body), "time_ms": response.elapsed_ms,
        "x_robots": response.headers.get("x-robots-tag", "")[:500], "truncated": int(response.truncated),
        "attempts": attempts, "fetched_at": round(time.time(), 3),
    }
    links: list[Link] = []
    location = ""
    if 300 <= response.status < 400 and response.headers.get("location"):
        location = normalize(response.headers["location"], url, strip) or ""
        if location:
            links.append(Link(location, kind="redirect"))
    if response.status == 200 and response.is_html and response.body:
        facts = parse(decode(response.body, response.content_type), url, strip)
        row.update(
            title=facts.title, title_count=facts.title_count, description=facts.description,
            description_count=facts.description_count, meta_robots=facts.meta_robots, h1=facts.h1,
            h1_count=facts.h1_count, word_count=facts.word_count, images=facts.images,
            images_without_alt=facts.images_without_alt, http_links=facts.http_links,
            hreflang=hreflang_json(facts.hreflang), canonical=facts.canonical,
        )
        links += facts.links
    if response.truncated and not response.error:
        row["error"] = "Only the first 5 MB were read (a cap keeps one huge page from exhausting memory)."
    return row, links, location
