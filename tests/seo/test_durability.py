"""A crawl killed with SIGKILL mid-way resumes when the server starts again, and ends with exactly
the results of an uninterrupted crawl (the fixture site's expected pages and issues); Pause and
Resume from the page continue from the crawl's file too."""

from __future__ import annotations

import signal
import sqlite3
import time

from tests._workflows.support import HTMX, new_run, step_states, submit, wait_for_state
from tests.seo import fixture_site
from tests.seo.support import serve_fixture
from tests.seo.test_apps import WORKFLOW, crawl_form
from tests.support.server import assert_no_traceback, start_server
from tests.support.timing import poll


def crawled(data_dir, key: str) -> int:
    path = data_dir / "runs" / key / "seo" / "crawl.sqlite"
    if not path.exists():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute("SELECT count(*) FROM pages").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def results(data_dir, key: str) -> tuple[dict, set]:
    db = sqlite3.connect(data_dir / "runs" / key / "seo" / "crawl.sqlite")
    try:
        pages = dict(db.execute("SELECT u.url, p.status FROM pages p JOIN urls u ON u.id = p.url_id"))
        issues = set(db.execute("SELECT i.type, u.url FROM issues i JOIN urls u ON u.id = i.url_id"))
    finally:
        db.close()
    return pages, issues


def test_a_crawl_killed_mid_way_resumes_to_the_same_results(tmp_path):
    data = tmp_path / "data"
    with serve_fixture() as site:
        server = start_server(data, cwd=tmp_path)
        try:
            with server.client() as client:
                key = new_run(client, WORKFLOW)
                # Slow enough (a delay between requests) to be killed in the middle.
                submit(client, WORKFLOW, key, "settings", **crawl_form(site.origin, delay_seconds="0.02"))
                poll(lambda: crawled(data, key) >= 60, 60, "the crawl did not get going")
            server.stop(signal.SIGKILL)
            at_kill = crawled(data, key)
            assert at_kill < len(fixture_site.expected_pages(site.origin))
            server = start_server(data, cwd=tmp_path)
            with server.client() as client:
                wait_for_state(client, WORKFLOW, key, "link_graph", ("done",), timeout=180)
        finally:
            server.stop()
        assert_no_traceback(server)
        pages, issues = results(data, key)
        assert pages == fixture_site.expected_pages(site.origin)
        assert issues == fixture_site.expected_issues(site.origin)
        # What was saved before the kill was not fetched again (a batch in flight may have been).
        fetched = [path for path in site.paths() if not path.startswith(("/robots.txt", "/sitemap"))]
        assert len(fetched) <= len(pages) + 5 + 60  # the 429 phase's retries, and at most a batch or so again


def test_pause_and_resume_from_the_page_continue_the_crawl(tmp_path):
    data = tmp_path / "data"
    with serve_fixture() as site:
        server = start_server(data, cwd=tmp_path)
        try:
            with server.client() as client:
                key = new_run(client, WORKFLOW)
                html = submit(client, WORKFLOW, key, "settings", **crawl_form(site.origin, delay_seconds="0.02"))
                assert ">Pause<" in html
                poll(lambda: crawled(data, key) >= 40, 60, "the crawl did not get going")
                html = client.post(f"/{WORKFLOW}/runs/{key}/steps/crawl/cancel", headers=HTMX).text
                assert step_states(html)["crawl"] == "cancelled" and "Paused. Resume continues where it stopped." in html
                assert ">Resume<" in html
                time.sleep(0.5)
                paused_at = crawled(data, key)
                time.sleep(1)
                assert crawled(data, key) == paused_at  # it really stopped
                client.post(f"/{WORKFLOW}/runs/{key}/steps/crawl/retry", headers=HTMX)
                wait_for_state(client, WORKFLOW, key, "link_graph", ("done",), timeout=180)
        finally:
            server.stop()
        assert_no_traceback(server)
        pages, issues = results(data, key)
        assert pages == fixture_site.expected_pages(site.origin)
        assert issues == fixture_site.expected_issues(site.origin)
