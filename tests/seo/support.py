"""What the SEO tests share: the fixture site served on 127.0.0.1, a crawl run straight through
the engine, and the results read back from the crawl's file."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from pipulate_seo.audit.checks import run_audit
from pipulate_seo.crawl.config import CrawlConfig, checked
from pipulate_seo.crawl.engine import Reporter, run_crawl
from pipulate_seo.crawl.store import CrawlStore
from tests.seo import fixture_site
from tests.support.site_server import SiteServer


@contextmanager
def serve_fixture(**options):
    origin = [""]
    site = fixture_site.FixtureSite(origin, **options)
    with SiteServer(site) as server:
        origin[0] = server.origin
        server.site = site
        yield server


@contextmanager
def serve(handler):
    with SiteServer(handler) as server:
        yield server


def crawl(folder: Path, said: list | None = None, **options) -> tuple[dict, CrawlStore]:
    """A crawl of `start` (allowed on 127.0.0.1, no politeness delay unless asked), in this thread."""
    values = {"delay": 0.0, "timeout": 5.0, "allow_private": True, "max_depth": fixture_site.MAX_DEPTH, "max_pages": 1000,
              **options}
    store = CrawlStore(Path(folder) / "crawl.sqlite")
    summary = run_crawl(checked(CrawlConfig(**values)), store, Reporter(say=(said.append if said is not None else print)))
    return summary, store


def pages(store: CrawlStore) -> dict[str, int]:
    return dict(store.db.execute("SELECT u.url, p.status FROM pages p JOIN urls u ON u.id = p.url_id"))


def states(store: CrawlStore, state: str) -> set[str]:
    return {url for (url,) in store.db.execute("SELECT url FROM urls WHERE state = ?", [state])}


def issues(store: CrawlStore) -> set[tuple[str, str]]:
    run_audit(store.db)
    return set(store.db.execute("SELECT i.type, u.url FROM issues i JOIN urls u ON u.id = i.url_id"))
