"""The crawl: breadth first, level by level, politely, with everything on disk.

One asyncio loop (inside the workflow job's thread) runs many requests at once, at most
`per_host` per host, each host's requests `delay` apart (or robots.txt's Crawl-delay). Levels
are crawled in order and, inside a level, URLs in alphabetical order: so the depth of a page is
its shortest click distance, and the pages a limit lets through are the same every time, even
after a kill and a resume. Results are written in batches (store.py); a resume starts from the
file, so nothing is fetched twice that was saved once.
"""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from .config import CrawlConfig, scope_of
from .fetch import BODY_CAP, Response, fetch, make_client, retry_after
from .guard import check_host
from .hosts import Host, Hosts
from .pages import page_row
from .robots import ROBOTS_CAP, from_response
from .sitemaps import SITEMAP_CAP, read_sitemaps
from .store import CrawlStore
from .urls import normalize

MAX_ATTEMPTS = 4  # tries of one URL that answers 429/503
BATCH = 50  # pages per transaction
ERROR_WINDOW, ERROR_MIN, ERROR_SHARE = 50, 20, 0.5  # pause when half of the last 50 failed
SITEMAP_URL_LIMIT = 100_000
MAX_REDIRECTS_ROBOTS = 5


class CrawlError(Exception):
    """The crawl cannot go on; the message says why and what to do."""

    def user_text(self) -> str:  # what the step's card shows, without the class name
        return str(self)


class CrawlPaused(CrawlError):
    """The crawl paused itself (errors spiked); Resume continues from where it stopped."""


@dataclass
class Reporter:
    """How the crawl talks to its job: all three are called from the crawl's own thread."""

    progress: object = lambda done, total, note: None  # may raise to stop the crawl (Cancel)
    say: object = lambda text: None
    check: object = lambda: None  # raises when the crawl must stop


class Crawler:
    def __init__(self, config: CrawlConfig, store: CrawlStore, reporter: Reporter | None = None) -> None:
        self.config = config
        self.store = store
        self.report = reporter or Reporter()
        self.scope = scope_of(config)
        self.hosts = Hosts(config.per_host, config.delay)
        self.buffer: list[tuple] = []
        self.tasks: set[asyncio.Task] = set()
        self.outcomes: collections.deque[bool] = collections.deque(maxlen=ERROR_WINDOW)
        self.fetched = 0
        self.in_flight = 0  # dispatched, not yet counted in `fetched`
        self.errors = 0
        self.session_pages = 0
        self.started = time.monotonic()
        self._last_report = 0.0
        self._last_flush = time.monotonic()
        self._milestone = 0
        self.paused: CrawlPaused | None = None

    # --- the whole crawl ------------------------------------------------------------------------

    async def run(self) -> dict:
        config = self.config
        if self.store.get("digest") != config.digest():
            self.store.reset()
            with self.store.db:
                self.store.put("digest", config.digest())
        self.fetched = self.store.pages_fetched()
        self.errors = self.store.db.execute("SELECT count(*) FROM pages WHERE status = 0 OR status >= 500").fetchone()[0]
        self.max_tasks = max(config.per_host * 4, 16)
        self.client = make_client(config.user_agent, config.allow_private, config.timeout, self.max_tasks)
        try:
            if not self.store.get("seeded"):
                await self._seed()
            level = self.store.get("level", 0)
            while not self._limit_reached():
                next_level = level if self.store.frontier(level, "", 1) else self.store.next_level(level)
                if next_level is None or next_level > config.max_depth:
                    break
                level = next_level
                with self.store.db:
                    self.store.put("level", level)
                await self._crawl_level(level)
            while not self._limit_reached() and self.store.frontier(None, "", 1):
                await self._crawl_level(None)  # pages only the sitemap knows (orphans)
            left = self.store.finish_unfetched("Not crawled: the page limit was reached." if self._limit_reached()
                                               else "Not crawled.")
            summary = self._summary(left)
            self.report.say(self._final_words(summary))
            return summary
        finally:
            await self._stop_tasks()
            self._flush()
            await self.client.aclose()

    async def _seed(self) -> None:
        config = self.config
        if config.mode != "list":
            reason = await check_host(urlsplit(config.start).hostname or "", config.allow_private)
            if reason:
                raise CrawlError(reason)
        with self.store.db:
            if config.mode == "spider":
                self._add_seed(config.start, 0)
            elif config.mode == "list":
                for url in config.urls:
                    self._add_seed(url, 0)
        sitemaps, limit = [], SITEMAP_URL_LIMIT
        if config.mode == "sitemap":
            sitemaps, limit = [config.start], config.max_pages
        elif config.mode == "spider":
            robots = await self._robots(self.hosts.get(urlsplit(config.start).netloc), config.start)
            sitemaps = [config.sitemap] if config.sitemap else (robots.sitemaps or [f"{_root(config.start)}/sitemap.xml"])
        if sitemaps:
            read = await read_sitemaps(sitemaps, self._get_whole, limit)
            kept = 0
            with self.store.db:
                for url in read.urls:
                    found = normalize(url, strip_params=config.strip)
                    if found and self.scope.allows(found):
                        depth = 0 if config.mode == "sitemap" else None
                        self.store.url_id(found, depth, "queued", True, sitemap=True)
                        kept += 1
            notes = [n for n in read.notes if config.sitemap or config.mode == "sitemap" or "could not be read" not in n]
            if kept or config.mode == "sitemap":
                self.report.say(f"Read {read.files:,} sitemap file(s): {kept:,} URLs of this site." + "".join(f" {n}" for n in notes))
            if config.mode == "sitemap" and not kept:
                raise CrawlError(f"The sitemap {config.start} lists no URL of this site. " + " ".join(read.notes))
        with self.store.db:
            self.store.put("seeded", True)

    def _add_seed(self, url: str, depth: int) -> None:
        self.store.url_id(url, depth, "queued", True)

    # --- one level ------------------------------------------------------------------------------

    async def _crawl_level(self, depth: int | None) -> None:
        after = ""
        while not self._limit_reached():
            batch = self.store.frontier(depth, after, 200)
            if not batch:
                break
            for url_id, url in batch:
                after = url
                if self._limit_reached():
                    break
                await self._dispatch(url_id, url, depth)
        await self._drain()
        self._flush()

    async def _dispatch(self, url_id: int, url: str, depth: int | None) -> None:
        self._tick()
        host = self.hosts.get(urlsplit(url).netloc)
        robots = await self._robots(host, url)
        if self.config.respect_robots and not robots.allowed(url, self.config.user_agent):
            with self.store.db:
                self.store.set_state(url_id, "blocked", "Disallowed by robots.txt.")
            return
        while len(self.tasks) >= self.max_tasks:
            await asyncio.wait(self.tasks, return_when=asyncio.FIRST_COMPLETED)
            self._tick()
        self.in_flight += 1
        task = asyncio.ensure_future(self._fetch_page(host, url_id, url, depth))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _fetch_page(self, host: Host, url_id: int, url: str, depth: int | None) -> None:
        try:
            response, attempts = await self._polite_get(host, url)
        except Exception as error:  # a fault of ours must not requeue the URL forever
            response, attempts = Response(error=f"The request failed: {type(error).__name__}: {str(error)[:200]}"), 1
        finally:
            self.in_flight -= 1
        try:
            row, links, _location = page_row(url, response, attempts, self.config.strip)
        except Exception as error:  # a page the parser chokes on is one page's error, not the crawl's
            row, links = {"status": response.status, "error": f"The page could not be read: {type(error).__name__}.",
                          "content_type": response.content_type, "size": response.size, "time_ms": response.elapsed_ms,
                          "attempts": attempts, "fetched_at": time.time()}, []
        row["url_id"] = url_id
        self.buffer.append((row, links, depth))
        self.fetched += 1
        self.session_pages += 1
        failed = response.status == 0 or response.status >= 500 or response.status == 429
        self.errors += failed
        self.outcomes.append(failed)
        if len(self.buffer) >= BATCH or time.monotonic() - self._last_flush > 1.0:
            self._flush()
        if len(self.outcomes) >= ERROR_MIN and sum(self.outcomes) >= ERROR_SHARE * len(self.outcomes) and self.paused is None:
            self.paused = CrawlPaused(
                f"The crawl paused itself: {sum(self.outcomes)} of the last {len(self.outcomes)} requests failed "
                f"(the last: {response.error or response.status} at {url}). Check that the site is up, then Resume: "
                "the crawl continues where it stopped.")

    async def _polite_get(self, host: Host, url: str, cap: int = BODY_CAP, read_all: bool = False) -> tuple[Response, int]:
        attempts = 0
        async with host.slots:
            while True:
                await host.turn()
                attempts += 1
                response = await fetch(self.client, url, self.config.timeout, cap, read_all)
                if response.status not in (429, 503) or attempts >= MAX_ATTEMPTS:
                    return response, attempts
                asked = retry_after(response.headers.get("retry-after"))
                waited = host.back_off(asked if asked is not None else 2.0 ** attempts)
                if host.backoffs == 1 or host.backoffs % 50 == 0:
                    self.report.say(f"{host.name} answered {response.status}: waiting {waited:g} s before asking again"
                                    f"{' (its Retry-After)' if asked is not None else ''}.")

    async def _get_whole(self, url: str) -> Response:
        response, _ = await self._polite_get(self.hosts.get(urlsplit(url).netloc), url, SITEMAP_CAP, read_all=True)
        return response

    async def _robots(self, host: Host, url: str):
        if host.robots is not None:
            return host.robots
        async with host.robots_lock:
            if host.robots is None:
                host.robots = await self._fetch_robots(host, url)
                delay = host.robots.crawl_delay(self.config.user_agent) if self.config.respect_robots else None
                if delay and delay > host.delay:
                    host.delay = delay
                    self.report.say(f"{host.name} asks for a Crawl-delay of {delay:g} s between requests; the crawl keeps it.")
                if host.robots.note and self.config.respect_robots:
                    self.report.say(host.robots.note)
        return host.robots

    async def _fetch_robots(self, host: Host, url: str):
        if not self.config.respect_robots:
            return from_response(host.name, 200, b"", ignore=True)
        target = f"{_root(url)}/robots.txt"
        for _ in range(MAX_REDIRECTS_ROBOTS + 1):
            response, _attempts = await self._polite_get(self.hosts.get(urlsplit(target).netloc) if urlsplit(target).netloc != host.name
                                                         else host, target, ROBOTS_CAP + 1, read_all=True)
            location = response.headers.get("location") if 300 <= response.status < 400 else None
            if not location:
                break
            target = normalize(location, target) or target
        return from_response(host.name, response.status, response.body, response.error)

    # --- bookkeeping ----------------------------------------------------------------------------

    def _limit_reached(self) -> bool:
        """Pages fetched and in flight: a limit is never overshot, and cut at the same page."""
        return self.fetched + self.in_flight >= self.config.max_pages

    def _flush(self) -> None:
        if not self.buffer:
            return
        buffer, self.buffer = self.buffer, []
        with self.store.db:
            for row, links, depth in buffer:
                self._save(row, links, depth)
        self._last_flush = time.monotonic()

    def _save(self, row: dict, links, depth: int | None) -> None:
        config, store = self.config, self.store
        resolved, seen = [], set()
        for link in links:
            target_depth = None if depth is None else depth + 1
            internal = self.scope.is_internal(link.url)
            if not internal:
                state, note = "external", ""
            elif config.mode != "spider" or depth is None:
                state, note = "skipped", "Not crawled: only the listed pages are fetched." if depth is not None else \
                    "Not crawled: linked only from pages outside the site's link structure."
            elif not self.scope.allows(link.url):
                state, note = "excluded", "Not crawled: excluded by the include/exclude patterns."
            elif target_depth > config.max_depth:
                state, note = "skipped", "Not crawled: deeper than the max depth."
            else:
                state, note = "queued", ""
            target, new = store.url_id(link.url, target_depth if internal else None, state, internal)
            if new and note:
                store.set_state(target, state, note)
            key = (target, link.kind, link.anchor, link.nofollow)
            if key not in seen:
                seen.add(key)
                resolved.append((target, link.kind, link.anchor, int(link.nofollow)))
            if link.kind == "redirect":
                row["location_id"] = target
            elif link.kind == "canonical":
                row["canonical_id"] = target
        row.pop("canonical", None)
        store.save_page(row, resolved)

    def _tick(self) -> None:
        """Progress now and then; Cancel and a self-pause take effect here."""
        if self.paused is not None:
            raise self.paused
        now = time.monotonic()
        if now - self._last_report < 0.5:
            return
        self._last_report = now
        self.report.check()
        queued = self.store.count("state = 'queued'")
        total = min(self.config.max_pages, self.fetched + queued)
        rate = self.session_pages / max(now - self.started, 1e-6)
        self.report.progress(self.fetched, max(total, self.fetched), f"{self.fetched:,} crawled · {queued:,} queued · "
                             f"{self.errors:,} errors · {rate:,.1f} pages/s")
        step = 1000 if self.config.max_pages > 2000 else max(100, self.config.max_pages // 4)
        if self.fetched // step > self._milestone:
            self._milestone = self.fetched // step
            self.report.say(f"{self.fetched:,} pages crawled, {queued:,} queued, {self.errors:,} errors so far.")

    async def _drain(self) -> None:
        while self.tasks:
            await asyncio.wait(self.tasks, timeout=0.5)
            self._tick()

    async def _stop_tasks(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    def _summary(self, left: int) -> dict:
        facts = self.store.summary()
        seconds = max(time.monotonic() - self.started, 1e-6)
        return {"start": self.config.start, "mode": self.config.mode, "pages_crawled": self.fetched,
                "errors": self.errors, "not_crawled": left, "states": facts["states"],
                "status_classes": facts["status_classes"], "seconds": round(seconds, 1),
                "pages_per_second": round(self.session_pages / seconds, 1)}

    def _final_words(self, summary: dict) -> str:
        blocked = summary["states"].get("blocked", 0)
        return (f"Crawl finished: **{summary['pages_crawled']:,}** pages crawled, {summary['errors']:,} errors"
                + (f", {blocked:,} blocked by robots.txt" if blocked else "") + ".")


def _root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def run_crawl(config: CrawlConfig, store: CrawlStore, reporter: Reporter | None = None) -> dict:
    """Run the crawl to its end in this thread (its own event loop)."""
    return asyncio.run(Crawler(config, store, reporter).run())
