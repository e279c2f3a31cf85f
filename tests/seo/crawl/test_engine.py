"""The crawl of the fixture website, end to end through the engine: exactly the expected pages,
robots.txt obeyed, the limits kept, polite to the host, and a stopped crawl resumes to the same
result."""

from __future__ import annotations

import time

import pytest

from pipulate_seo.crawl.engine import Reporter, run_crawl
from pipulate_seo.crawl.store import CrawlStore
from tests.seo import fixture_site
from tests.seo.support import crawl, issues, pages, serve, states
from tests.support.site_server import Reply


def test_the_crawl_finds_exactly_the_expected_pages_and_the_audit_exactly_the_expected_issues(site, tmp_path):
    said = []
    summary, store = crawl(tmp_path, said, start=site.origin + "/")
    origin = site.origin
    assert pages(store) == fixture_site.expected_pages(origin)
    assert states(store, "blocked") == {origin + path for path in fixture_site.BLOCKED}
    assert states(store, "skipped") == {origin + "/calendar/" + fixture_site.month(fixture_site.MAX_DEPTH)}
    assert issues(store) == fixture_site.expected_issues(origin)
    # The spider trap is cut at the max depth; robots.txt's wildcard rules were read as Google reads them.
    assert origin + "/files/report.pdf?x=1" in pages(store) and origin + "/private/public" in pages(store)
    # The 429 phase was waited out (Retry-After) and left no trace in the results; the chat was told.
    assert site.site.throttled == 3  # fewer than the crawler's 4 tries of one URL: always waited out
    assert any("answered 429" in line and "Retry-After" in line for line in said)
    assert any("sitemap" in line and "URLs of this site" in line for line in said)
    assert summary["pages_crawled"] == len(fixture_site.expected_pages(origin))
    # Facts of one page: the Latin-1 page decoded right, depths are click distances.
    title, = store.db.execute("SELECT p.title FROM pages p JOIN urls u ON u.id = p.url_id WHERE u.url = ?",
                              [origin + "/defects/latin1"]).fetchone()
    assert title == "Café page written in Latin-1 encoding"
    depths = dict(store.db.execute("SELECT url, depth FROM urls"))
    assert depths[origin + "/"] == 0 and depths[origin + "/defects/chain-end"] == 5
    assert depths[origin + "/orphans/lonely"] is None  # only the sitemap knows it


def test_max_pages_cuts_at_the_same_pages_every_time(site, tmp_path):
    _, store = crawl(tmp_path, start=site.origin + "/", max_pages=17)
    level_one = ["/", *fixture_site.SECTION_HUBS, "/defects/", "/calendar/2024-01", "/files/report.pdf?x=1", "/private/public"]
    # Level by level, and in URL order inside a level: the first two of level 2.
    expected = {site.origin + path for path in [*level_one, "/calendar/2024-02", "/defects/broken-source"]}
    assert set(pages(store)) == expected
    assert states(store, "queued") == set()  # what the limit left is marked, with why
    note = store.db.execute("SELECT note FROM urls WHERE state = 'skipped' LIMIT 1").fetchone()[0]
    assert "page limit" in note


def test_max_depth_and_patterns_are_kept(site, tmp_path):
    _, store = crawl(tmp_path, start=site.origin + "/", max_depth=1, exclude=[r"/section-[1-9]/"])
    fetched = set(pages(store))
    assert site.origin + "/section-0/" in fetched and site.origin + "/section-1/" not in fetched
    assert all(depth <= 1 for (depth,) in store.db.execute(
        "SELECT u.depth FROM pages p JOIN urls u ON u.id = p.url_id WHERE u.depth IS NOT NULL"))
    assert site.origin + "/section-1/" in states(store, "excluded")


def test_list_mode_fetches_only_the_list(site, tmp_path):
    listed = [site.origin + "/defects/title-long", site.origin + "/missing-page", site.origin + "/private/secret"]
    _, store = crawl(tmp_path, mode="list", urls=tuple(listed))
    assert pages(store) == {listed[0]: 200, listed[1]: 404}
    assert states(store, "blocked") == {listed[2]}
    assert ("title_too_long", listed[0]) in issues(store)


def test_sitemap_mode_reads_the_index_and_the_gzipped_sitemap(site, tmp_path):
    _, store = crawl(tmp_path, mode="sitemap", start=site.origin + "/sitemap_index.xml")
    listed = {site.origin + path for path in ["/", *fixture_site.SECTION_HUBS, *fixture_site.SECTION_PAGES,
                                              "/defects/noindex-page", "/defects/xrobots-noindex", "/orphans/lonely",
                                              "/defects/chain-end"]}
    assert set(pages(store)) == listed
    assert {kind for kind, _url in issues(store)} == {"noindex_in_sitemap"}


def test_it_is_polite_two_at_once_a_delay_apart_and_waits_as_asked(tmp_path):
    hub = "".join(f'<a href="/p{i}">p</a>' for i in range(12))
    seen = {"p3": 0}

    def handler(path):
        if path == "/robots.txt":
            return Reply(404, b"")
        if path == "/p3" and seen["p3"] == 0:
            seen["p3"] += 1
            return Reply(429, b"", {"Retry-After": "1"})
        return Reply(200, f"<html><body>{hub if path == '/' else 'leaf'}</body></html>".encode(), delay=0.05)

    with serve(handler) as server:
        crawl(tmp_path, start=server.origin + "/", delay=0.1, per_host=2)
        hits = [hit for hit in server.hits if hit.path != "/robots.txt" and not hit.path.startswith("/sitemap")]
    assert server.max_in_flight <= 2
    starts = sorted(hit.started for hit in hits)
    # The delay (0.1 s) between any two requests, as the server saw them arrive: the crawler spaces
    # its starts exactly, but two requests can take different times to reach the server on a busy
    # machine (a run saw 88.7 ms). Without the delay, two at once would arrive together (gap ~0).
    assert min(b - a for a, b in zip(starts, starts[1:], strict=False)) >= 0.07
    throttled = next(hit for hit in hits if hit.path == "/p3")
    after = [hit.started for hit in hits if hit.started > throttled.started]
    assert after and after[0] - throttled.ended >= 0.95  # Retry-After: 1, for the whole host
    assert [hit.path for hit in hits].count("/p3") == 2


def test_crawl_delay_of_robots_txt_raises_the_delay(tmp_path):
    def handler(path):
        if path == "/robots.txt":
            return Reply(200, b"User-agent: *\nCrawl-delay: 0.3\n", {"Content-Type": "text/plain"})
        return Reply(200, b'<html><body><a href="/a">a</a><a href="/b">b</a></body></html>')

    said = []
    with serve(handler) as server:
        crawl(tmp_path, said, start=server.origin + "/", delay=0.0)
        starts = sorted(hit.started for hit in server.hits if hit.path in ("/", "/a", "/b"))
    assert min(b - a for a, b in zip(starts, starts[1:], strict=False)) >= 0.25  # 0.3 s, less arrival jitter (above)
    assert any("Crawl-delay of 0.3 s" in line for line in said)


class Stop(Exception):
    pass


def test_a_stopped_crawl_resumes_from_its_file_to_the_same_result(site, tmp_path):
    from pipulate_seo.crawl.config import CrawlConfig, checked

    config = checked(CrawlConfig(start=site.origin + "/", delay=0.0, timeout=5, allow_private=True,
                                 max_depth=fixture_site.MAX_DEPTH, max_pages=1000))
    store = CrawlStore(tmp_path / "crawl.sqlite")
    seen = {"n": 0}

    def progress(done, total, note):
        seen["n"] = done
        if done >= 60:
            raise Stop()  # what Cancel does inside a job

    with pytest.raises(Stop):
        run_crawl(config, store, Reporter(progress=progress, say=lambda text: None))
    partial = store.pages_fetched()
    assert 0 < partial < len(fixture_site.expected_pages(site.origin))
    requests_before = len(site.paths())
    run_crawl(config, store, Reporter(say=lambda text: None))
    assert pages(store) == fixture_site.expected_pages(site.origin)
    assert issues(store) == fixture_site.expected_issues(site.origin)
    # Saved pages were not fetched again: the second run asked only for the rest (and robots.txt).
    again = [p for p in site.paths()[requests_before:] if p != "/robots.txt"]
    assert len(again) <= len(fixture_site.expected_pages(site.origin)) - partial + 60 + 5


def test_changed_settings_start_the_crawl_over(site, tmp_path):
    crawl(tmp_path, start=site.origin + "/", max_pages=5)
    _, store = crawl(tmp_path, start=site.origin + "/defects/", max_pages=3, max_depth=0)
    # The new start, then what only the sitemap lists (in URL order) up to the limit: nothing of the first crawl.
    assert set(pages(store)) == {site.origin + path for path in ("/defects/", "/", "/defects/chain-end")}


def test_throughput_is_measured(site, tmp_path):
    started = time.monotonic()
    summary, _ = crawl(tmp_path, start=site.origin + "/", max_pages=100)
    assert summary["pages_crawled"] == 100 and summary["pages_per_second"] > 0
    assert time.monotonic() - started < 60
