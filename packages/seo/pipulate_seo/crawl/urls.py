"""URLs as the crawl compares them: one spelling per page, and what is inside the crawl's scope.

Two links that differ only in case of the host, a default port, a fragment or a tracking
parameter are the same page; anything that is not http(s) is not a page at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

MAX_URL_LENGTH = 2048  # longer "URLs" are almost always traps or garbage
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"


class BadURL(ValueError):
    """A URL (or a setting) that cannot be crawled; the message says why in words."""

    def user_text(self) -> str:  # what the step's card shows, without the class name
        return str(self)


def normalize(url: str, base: str | None = None, strip_params: frozenset[str] = frozenset()) -> str | None:
    """The crawl's spelling of `url` (joined to `base`), or None when it is not an http(s) page."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH or url.startswith("#"):
        return None
    try:
        joined = urljoin(base, url) if base else url
        parts = urlsplit(joined)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            return None
        host = parts.hostname.rstrip(".").lower()
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
        port = parts.port
    except (ValueError, UnicodeError):
        return None
    if not re.fullmatch(r"[a-z0-9.\-\[\]:_]+", host):
        return None
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        netloc = f"[{host}]" if port is None else f"[{host}]:{port}"
    path = quote(unquote(_without_dots(parts.path)), safe=_SAFE_PATH) if parts.path else "/"
    query = parts.query
    if query and strip_params:
        kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k.lower() not in strip_params]
        query = urlencode(kept, quote_via=quote)
    result = urlunsplit((scheme, netloc, path or "/", query, ""))
    return result if len(result) <= MAX_URL_LENGTH else None


def _without_dots(path: str) -> str:
    """RFC 3986's remove_dot_segments: /a/../b is /b (only when there are dot segments)."""
    if "/." not in path:
        return path
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(kept) > 1:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    result = "/".join(kept)
    if path.endswith(("/.", "/..")):
        result += "/"
    return result if result.startswith("/") else "/" + result


def check_start(url: str) -> str:
    """A start URL typed by a person, normalized, or BadURL saying what is wrong with it."""
    text = (url or "").strip()
    scheme = urlsplit(text).scheme.lower() if "://" in text else ""
    if scheme and scheme not in ("http", "https"):
        raise BadURL(f"{text[:80]!r} is a {scheme}: URL; only http:// and https:// pages can be crawled.")
    if not scheme:
        raise BadURL(f"{text[:80]!r} has no http:// or https:// in front.")
    found = normalize(text)
    if found is None:
        raise BadURL(f"{text[:80]!r} is not a URL that can be crawled (check the host name and port).")
    return found


@dataclass(frozen=True)
class Scope:
    """Which URLs the crawl fetches: the start's host (and its subdomains when asked), matching
    the include patterns when there are any, and none of the exclude patterns."""

    host: str
    follow_subdomains: bool = False
    include: tuple[re.Pattern, ...] = ()
    exclude: tuple[re.Pattern, ...] = ()
    hosts: frozenset[str] = frozenset()  # more hosts that count as the site (list mode: every listed one)

    @classmethod
    def for_start(cls, start: str, follow_subdomains=False, include=(), exclude=()) -> "Scope":
        return cls(urlsplit(start).hostname or "", follow_subdomains, compile_patterns(include, "Include"),
                   compile_patterns(exclude, "Exclude"))

    def is_internal(self, url: str) -> bool:
        host = urlsplit(url).hostname or ""
        if host == self.host or host in self.hosts:
            return True
        if not self.follow_subdomains:
            return False
        base = self.host.removeprefix("www.")
        return host == base or host.endswith("." + base)

    def allows(self, url: str) -> bool:
        if not self.is_internal(url):
            return False
        if self.include and not any(p.search(url) for p in self.include):
            return False
        return not any(p.search(url) for p in self.exclude)


def compile_patterns(patterns, label: str) -> tuple[re.Pattern, ...]:
    compiled = []
    for number, pattern in enumerate(patterns or (), 1):
        if len(pattern) > 500:
            raise BadURL(f"{label} pattern {number} is longer than 500 characters.")
        try:
            compiled.append(re.compile(pattern))
        except re.error as error:
            raise BadURL(f"{label} pattern {number} ({pattern[:60]!r}) is not a valid regular expression: {error}.") from None
    return tuple(compiled)
