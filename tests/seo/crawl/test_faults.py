"""Bad input and hostile sites: each ends in a clear message or a recorded error for that URL,
and the crawl goes on (or pauses itself and says why)."""

from __future__ import annotations

import asyncio
import gzip
import resource

import pytest

from pipulate_seo.crawl.config import CrawlConfig, checked
from pipulate_seo.crawl.engine import CrawlError, CrawlPaused
from pipulate_seo.crawl.fetch import fetch, make_client
from pipulate_seo.crawl.urls import BadURL
from tests.seo.support import crawl, pages, serve, states
from tests.support.site_server import Reply

PAGE = b"<html><head><title>A page</title></head><body><a href='/a'>a</a><a href='/b'>b</a></body></html>"


@pytest.mark.parametrize("url, words", [
    ("ftp://example.com/", "only http:// and https://"), ("javascript:alert(1)", "no http://"),
    ("example.com", "no http://"), ("http://", "not a URL that can be crawled"),
    ("http://exa mple.com/", "not a URL that can be crawled"), ("http://example.com:99999/", "not a URL that can be crawled"),
])
def test_a_start_url_that_cannot_be_crawled_says_why(url, words):
    with pytest.raises(BadURL, match=words):
        checked(CrawlConfig(start=url))


def test_bad_patterns_and_lists_say_which_line():
    with pytest.raises(BadURL, match="Exclude pattern 2"):
        checked(CrawlConfig(start="https://example.com/", exclude=("ok", "(unclosed")))
    with pytest.raises(BadURL, match="Line 2"):
        checked(CrawlConfig(mode="list", urls=("https://example.com/", "mailto:someone@example.com")))


def test_private_targets_need_the_users_confirmation(tmp_path):
    with serve(lambda path: Reply(200, PAGE)) as server:
        with pytest.raises(CrawlError, match="loopback address.*your own network.*Allow private addresses"):
            crawl(tmp_path, start=server.origin + "/", allow_private=False)
        with pytest.raises(CrawlError, match="loopback"):
            crawl(tmp_path / "b", start=f"http://localhost:{server.port}/", allow_private=False)

        async def direct():  # a link or a redirect to a private address, met mid-crawl: refused at connect
            async with make_client("test", allow_private=False, timeout=5, connections=2) as client:
                return await fetch(client, server.origin + "/", 5)

        answer = asyncio.run(direct())
        assert answer.status == 0 and "cannot turn the crawler against your own network" in answer.error
        assert server.hits == []


def test_a_huge_robots_txt_is_read_to_500_kib_and_a_malformed_one_does_not_stop_the_crawl(tmp_path):
    huge = b"User-agent: *\nDisallow: /a\n" + b"# padding\n" * 60_000 + b"Disallow: /b\n"
    with serve(lambda path: Reply(200, huge, {"Content-Type": "text/plain"}) if path == "/robots.txt" else Reply(200, PAGE)) as server:
        said = []
        _, store = crawl(tmp_path, said, start=server.origin + "/")
        assert states(store, "blocked") == {server.origin + "/a"}  # the rule past 500 KiB is not applied
        assert server.origin + "/b" in pages(store)
        assert any("larger than 500 KiB" in line for line in said)
    garbage = b"\x00\xff<html>User-agent *\nDisallow\n:::\nAllow: \n\xfe\xfeCrawl-delay: soon\n"
    with serve(lambda path: Reply(200, garbage) if path == "/robots.txt" else Reply(200, PAGE)) as server:
        _, store = crawl(tmp_path / "b", start=server.origin + "/")
        assert set(pages(store)) == {server.origin + p for p in ("/", "/a", "/b")}


def test_a_page_that_never_finishes_times_out_and_the_crawl_goes_on(tmp_path):
    def handler(path):
        if path == "/a":
            return Reply(200, b"", trickle=True)
        return Reply(404, b"") if path == "/robots.txt" else Reply(200, PAGE)

    with serve(handler) as server:
        _, store = crawl(tmp_path, start=server.origin + "/", timeout=2)
        error = store.db.execute("SELECT p.error FROM pages p JOIN urls u ON u.id = p.url_id WHERE u.url = ?",
                                 [server.origin + "/a"]).fetchone()[0]
        assert "within 2 s" in error and pages(store)[server.origin + "/b"] == 200


def test_a_gzip_bomb_stops_at_the_body_cap(tmp_path):
    bomb = gzip.compress(b"<html><body>" + b" " * (300 * 1024 * 1024), compresslevel=9)  # 300 MB in about 300 KB
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def handler(path):
        if path == "/a":
            return Reply(200, bomb, {"Content-Encoding": "gzip"})
        return Reply(404, b"") if path == "/robots.txt" else Reply(200, PAGE)

    with serve(handler) as server:
        _, store = crawl(tmp_path, start=server.origin + "/")
        row = store.db.execute("SELECT p.status, p.truncated, p.error FROM pages p JOIN urls u ON u.id = p.url_id WHERE u.url = ?",
                               [server.origin + "/a"]).fetchone()
    assert row[0] == 200 and row[1] == 1 and "first 5 MB" in row[2]
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 150  # MB: nowhere near 300


def test_bytes_that_are_not_utf8_are_replaced_not_fatal(tmp_path):
    page = b"<html><head><title>Caf\xe9 \xff\xfe ok</title></head><body>x</body></html>"
    with serve(lambda path: Reply(404, b"") if path == "/robots.txt" else Reply(200, page)) as server:
        _, store = crawl(tmp_path, start=server.origin + "/")
        title = store.db.execute("SELECT title FROM pages").fetchone()[0]
    assert title.startswith("Caf\ufffd") and title.endswith("ok")


def test_a_sitemap_of_a_million_urls_is_read_only_as_far_as_needed(tmp_path):
    body = gzip.compress(b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                         + b"".join(b"<url><loc>http://127.0.0.1:%d/p/%d</loc></url>" % (0, i) for i in range(1_000_000))
                         + b"</urlset>", compresslevel=6)
    holder = {}

    def handler(path):
        if path == "/sitemap.xml.gz":
            return Reply(200, holder["body"], {"Content-Type": "application/gzip"})
        return Reply(404, b"") if path == "/robots.txt" else Reply(200, PAGE)

    with serve(handler) as server:
        holder["body"] = gzip.compress(gzip.decompress(body).replace(b"127.0.0.1:0", f"127.0.0.1:{server.port}".encode()))
        said = []
        _, store = crawl(tmp_path, said, mode="sitemap", start=server.origin + "/sitemap.xml.gz", max_pages=30)
        assert len(pages(store)) == 30
        assert any("first 30 were kept" in line for line in said)


def test_a_site_that_answers_429_to_everything_gets_a_clear_message(tmp_path):
    with serve(lambda path: Reply(429, b"", {"Retry-After": "1"})) as server:
        said = []
        summary, _ = crawl(tmp_path, said, start=server.origin + "/")
    assert summary["pages_crawled"] == 0
    assert any("robots.txt answered 429" in line and "nothing" in line for line in said)


def test_an_error_spike_pauses_the_crawl_which_resumes_once_the_site_is_back(tmp_path):
    hub = "".join(f'<a href="/p{i}">p</a>' for i in range(60)).encode()
    broken = {"on": True}

    def handler(path):
        if path == "/robots.txt":
            return Reply(404, b"")
        if path == "/":
            return Reply(200, b"<html><body>" + hub + b"</body></html>")
        return Reply(500, b"down") if broken["on"] else Reply(200, PAGE)

    with serve(handler) as server:
        with pytest.raises(CrawlPaused, match="paused itself.*Resume"):
            crawl(tmp_path, start=server.origin + "/")
        broken["on"] = False
        summary, store = crawl(tmp_path, start=server.origin + "/")
    statuses = pages(store)
    assert summary["pages_crawled"] == 63 and statuses[server.origin + "/p59"] == 200
    assert sum(1 for status in statuses.values() if status == 500) >= 19  # the failures before the pause are kept
