"""A crawl's settings, checked once, in words a person understands."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

from .urls import BadURL, Scope, check_start, compile_patterns

DEFAULT_USER_AGENT = "PipulateSEO/0.1 (+a local crawl run from Pipulate by the site's owner or their SEO)"
MODES = ("spider", "list", "sitemap")
LIST_LIMIT = 10_000


@dataclass(frozen=True)
class CrawlConfig:
    mode: str = "spider"  # spider: follow links from `start`; list: only `urls`; sitemap: the URLs `start` lists
    start: str = ""
    urls: tuple[str, ...] = ()
    sitemap: str = ""  # spider mode: a sitemap to read besides robots.txt's (for orphans)
    max_pages: int = 500
    max_depth: int = 10
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    follow_subdomains: bool = False
    strip_params: tuple[str, ...] = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "gclid", "fbclid")
    user_agent: str = DEFAULT_USER_AGENT
    per_host: int = 2  # requests to one host at once
    delay: float = 0.5  # seconds between two requests to one host (robots.txt's Crawl-delay can raise it)
    timeout: float = 20.0  # seconds for a whole answer
    respect_robots: bool = True
    allow_private: bool = False
    extra: dict = field(default_factory=dict, compare=False)  # checked values derived below

    def digest(self) -> str:
        """Changes when anything that decides what is crawled changes (the crawl then starts over)."""
        data = asdict(self)
        data.pop("extra")
        for name in ("per_host", "delay", "timeout", "user_agent"):
            data.pop(name)  # politeness may change between a pause and a resume
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def strip(self) -> frozenset[str]:
        return frozenset(p.lower() for p in self.strip_params)


def checked(config: CrawlConfig) -> CrawlConfig:
    """The config with its URLs normalized, or BadURL with a sentence saying what to fix."""
    if config.mode not in MODES:
        raise BadURL(f"The mode must be one of {', '.join(MODES)}.")
    if not 1 <= config.per_host <= 32:
        raise BadURL("Requests at once per host must be between 1 and 32.")
    if not 0 <= config.delay <= 60:
        raise BadURL("The delay between requests must be between 0 and 60 seconds.")
    if not 1 <= config.timeout <= 120:
        raise BadURL("The timeout must be between 1 and 120 seconds.")
    compile_patterns(config.include, "Include")
    compile_patterns(config.exclude, "Exclude")
    start, urls, sitemap = "", (), ""
    if config.mode == "list":
        if not config.urls:
            raise BadURL("List mode needs at least one URL, one per line.")
        if len(config.urls) > LIST_LIMIT:
            raise BadURL(f"The list has {len(config.urls):,} URLs; the limit is {LIST_LIMIT:,}.")
        found = []
        for number, url in enumerate(config.urls, 1):
            try:
                found.append(check_start(url))
            except BadURL as error:
                raise BadURL(f"Line {number}: {error}") from None
        urls = tuple(dict.fromkeys(found))
        start = urls[0]
    else:
        start = check_start(config.start)
        if config.sitemap.strip():
            sitemap = check_start(config.sitemap)
    ua = " ".join(config.user_agent.split())
    if not ua or len(ua) > 300 or not ua.isascii():
        raise BadURL("The user agent must be 1 to 300 plain ASCII characters.")
    return CrawlConfig(**{**asdict(config), "start": start, "urls": urls, "sitemap": sitemap, "user_agent": ua,
                          "include": tuple(config.include), "exclude": tuple(config.exclude),
                          "strip_params": tuple(config.strip_params)})


def scope_of(config: CrawlConfig) -> Scope:
    scope = Scope.for_start(config.start, config.follow_subdomains, config.include, config.exclude)
    if config.mode == "list":
        hosts = frozenset(urlsplit(url).hostname or "" for url in config.urls)
        return Scope(scope.host, scope.follow_subdomains, scope.include, scope.exclude, hosts)
    return scope
