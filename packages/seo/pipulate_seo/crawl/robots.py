"""robots.txt, read the way Google reads it, with protego (a maintained parser that implements
Google's rules: wildcards `*` and `$`, the longest matching rule wins, `Allow` beats an equally
long `Disallow`).

What Google does with the file's answer, and so do we:
- 2xx: the rules apply (only the first 500 KiB are read; a larger file is cut there).
- 4xx (but 429): there are no rules; everything may be crawled.
- 5xx, 429, or no answer at all: the whole host is treated as disallowed, and the crawl says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from protego import Protego

ROBOTS_CAP = 500 * 1024  # Google's limit
CRAWL_DELAY_CAP = 60.0  # a Crawl-delay above this is honoured as this (and said)


@dataclass
class Robots:
    host: str
    status: int
    note: str = ""
    parser: Protego | None = None
    allow_all: bool = False
    deny_all: bool = False
    sitemaps: list[str] = field(default_factory=list)

    def allowed(self, url: str, user_agent: str) -> bool:
        if self.deny_all:
            return False
        if self.allow_all or self.parser is None:
            return True
        try:
            return self.parser.can_fetch(url, user_agent)
        except Exception:  # a rule protego cannot apply: do not crawl what may be forbidden
            return False

    def crawl_delay(self, user_agent: str) -> float | None:
        if self.parser is None:
            return None
        try:
            delay = self.parser.crawl_delay(user_agent)
        except Exception:
            return None
        return None if delay is None else min(float(delay), CRAWL_DELAY_CAP)


def from_response(host: str, status: int, body: bytes, error: str = "", ignore: bool = False) -> Robots:
    """The rules for `host` from what its /robots.txt answered (after following redirects)."""
    if ignore:
        return Robots(host, status, "robots.txt is ignored for this crawl, as asked.", allow_all=True)
    if status == 0:
        return Robots(host, 0, f"robots.txt could not be fetched ({error}); as Google does, nothing on {host} is crawled.",
                      deny_all=True)
    if status == 429 or status >= 500:
        return Robots(host, status, f"robots.txt answered {status}; as Google does, nothing on {host} is crawled until it answers.",
                      deny_all=True)
    if status >= 400:
        return Robots(host, status, f"{host} has no robots.txt ({status}): every page may be crawled.", allow_all=True)
    if status >= 300:
        return Robots(host, status, "robots.txt redirected too many times: every page may be crawled.", allow_all=True)
    note = ""
    if len(body) > ROBOTS_CAP:
        body = body[:ROBOTS_CAP]
        note = "robots.txt is larger than 500 KiB; as Google does, only its first 500 KiB are read. "
    text = body.decode("utf-8", errors="replace")
    try:
        parser = Protego.parse(text)
    except Exception as error:  # protego is lenient; anything it still cannot read is said
        return Robots(host, status, f"robots.txt could not be read ({type(error).__name__}): every page may be crawled.",
                      allow_all=True)
    try:
        sitemaps = [s for s in parser.sitemaps][:50]
    except Exception:
        sitemaps = []
    return Robots(host, status, note.strip(), parser=parser, sitemaps=sitemaps)
