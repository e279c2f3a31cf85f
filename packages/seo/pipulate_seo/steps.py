"""The site audit's steps: what to crawl, the crawl (a resumable job), the audit, the link graph.

The crawl is ONE background job with its own concurrency inside, not a job per URL: the job
engine starts it, survives restarts for it and carries its progress; everything the crawl knows
is in the run's folder (`job.folder`), so Pause (Cancel) and Resume (Retry), a restart or a kill
all continue from there.
"""

from __future__ import annotations

import enum
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

from pipulate import Field, Job, Tables, step

from .crawl.config import DEFAULT_USER_AGENT, CrawlConfig, checked
from .crawl.store import CrawlStore
from .web import views

# The crawl engine (httpx, selectolax, protego), the audit and the link graph (numpy) are imported
# by the steps that use them, not here: this module loads with the server, and an app that only
# lists its runs should not hold some 20 MiB of libraries it may never call (idle memory target).

STORE = Path("seo") / "crawl.sqlite"


class Mode(enum.Enum):
    SITE = "spider"
    LIST = "list"
    SITEMAP = "sitemap"


def store_path(folder: Path) -> Path:
    return Path(folder) / STORE


@step("What to crawl", render=views.settings_card)
def settings(
    mode: Annotated[Mode, Field(label="Crawl", help="Site: follow links from the start URL. List: only the URLs below. "
                                "Sitemap: the URLs a sitemap lists (index files and .gz too).")] = Mode.SITE,
    start_url: Annotated[str, Field(label="Start URL (or sitemap URL)", placeholder="https://example.com/")] = "",
    urls: Annotated[list[str], Field(label="URLs (list mode), one per line")] = [],  # noqa: B006 - a form default
    sitemap_url: Annotated[str, Field(label="Sitemap (optional)", help="Site mode reads robots.txt's sitemaps, else "
                                      "/sitemap.xml, to find orphan pages; name another here.")] = "",
    max_pages: Annotated[int, Field(min=1, max=200_000, label="Max pages")] = 500,
    max_depth: Annotated[int, Field(min=0, max=1000, label="Max depth (clicks from the start)")] = 10,
    include: Annotated[list[str], Field(label="Include (regular expressions, one per line)")] = [],  # noqa: B006
    exclude: Annotated[list[str], Field(label="Exclude (regular expressions, one per line)")] = [],  # noqa: B006
    follow_subdomains: bool = False,
    strip_params: Annotated[list[str], Field(label="Query parameters to strip")] = list(CrawlConfig().strip_params),  # noqa: B006
    user_agent: Annotated[str, Field(label="User agent", max_length=300)] = DEFAULT_USER_AGENT,
    requests_per_host: Annotated[int, Field(min=1, max=32, label="Requests at once per host")] = 2,
    delay_seconds: Annotated[float, Field(min=0, max=60, label="Delay between requests to a host (s)",
                                          help="robots.txt's Crawl-delay raises it.")] = 0.5,
    timeout_seconds: Annotated[float, Field(min=1, max=120, label="Timeout per page (s)")] = 20.0,
    respect_robots: Annotated[bool, Field(label="Obey robots.txt", help="Untick only for a site you own.")] = True,
    allow_private: Annotated[bool, Field(label="Allow private addresses", help="Crawl 127.0.0.1, 192.168.x.x and the like. "
                                         "Off by default so that a pasted URL cannot turn the crawler against your own "
                                         "network (a router's or another app's pages).")] = False,
) -> dict:
    """Where to start and how politely: the defaults are those of a considerate crawler."""
    config = checked(CrawlConfig(
        mode=mode.value, start=start_url, urls=tuple(urls), sitemap=sitemap_url, max_pages=max_pages, max_depth=max_depth,
        include=tuple(include), exclude=tuple(exclude), follow_subdomains=follow_subdomains,
        strip_params=tuple(strip_params), user_agent=user_agent, per_host=requests_per_host, delay=delay_seconds,
        timeout=timeout_seconds, respect_robots=respect_robots, allow_private=allow_private))
    data = asdict(config)
    data.pop("extra")
    return data


def config_of(settings: dict) -> CrawlConfig:
    values = {key: tuple(value) if isinstance(value, list) else value for key, value in settings.items()}
    return CrawlConfig(**values)


@step("Crawl", job=True, resumable=True, render=views.crawl_card)
def crawl(settings: dict, job: Job) -> Tables:
    """Fetches the pages: pages crawled, queued, errors and pages/s show here as it goes."""
    from .audit import tables
    from .crawl.engine import CrawlError, Reporter, run_crawl

    folder = Path(job.folder)
    store = CrawlStore(store_path(folder))
    try:
        reporter = Reporter(progress=job.progress, say=job.say, check=job.check_cancelled)
        try:
            summary = run_crawl(config_of(settings), store, reporter)
        except CrawlError as error:
            job.say(str(error))
            raise
        out = folder / "seo"
        tables.page_facts(store.db, out / "pages.parquet")
        tables.links(store.db, out / "links.parquet")
    finally:
        store.close()
    return Tables(summary, pages=out / "pages.parquet", links=out / "links.parquet")


@step("Audit", job=True, render=views.audit_card)
def audit(crawl: Tables, job: Job) -> Tables:
    """Every issue, with its severity and what it means; the affected pages one click away."""
    from .audit import tables
    from .audit.checks import run_audit

    folder = Path(job.folder)
    store = CrawlStore(store_path(folder))
    try:
        counts = run_audit(store.db)
        tables.issues(store.db, folder / "seo" / "issues.parquet")
    finally:
        store.close()
    found = tables.summary(counts)
    job.say(f"Audit done: {sum(row['pages'] for row in found):,} issues of {len(found)} kinds." if found
            else "Audit done: no issues found.")
    return Tables({"issue_types": found}, issues=folder / "seo" / "issues.parquet")


@step("Link graph", job=True, render=views.graph_card)
def link_graph(crawl: Tables, job: Job) -> Tables:
    """Inlinks, outlinks, depth and internal PageRank per page; orphans and dead ends."""
    from .audit import graph as graph_metrics

    folder = Path(job.folder)
    store = CrawlStore(store_path(folder))
    try:
        facts = graph_metrics.build_graph(store.db)
        graph_metrics.nodes_table(store.db, folder / "seo" / "nodes.parquet")
        graph_metrics.edges_table(store.db, folder / "seo" / "edges.parquet")
    finally:
        store.close()
    return Tables(facts, nodes=folder / "seo" / "nodes.parquet", edges=folder / "seo" / "edges.parquet")

