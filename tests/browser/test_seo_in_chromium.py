"""The site audit as a person uses it, in a real Chromium against the real server and the fixture
site on 127.0.0.1: start a crawl from the form, watch its progress, open the issues and one
issue's URLs, see the link graph drawn, and export the audit as XLSX (its sheets checked with
openpyxl). The page's Content-Security-Policy stays strict: no violation may be recorded."""

from __future__ import annotations

import re

from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.test_chat_in_chromium import RECORD_CSP_VIOLATIONS, open_app
from tests.seo import fixture_site
from tests.seo.support import serve_fixture
from tests.support.server import assert_no_traceback, start_server
from tests.support.timing import ms


def test_start_a_crawl_watch_it_open_the_issues_and_export_the_audit(chromium, tmp_path):
    with serve_fixture() as site:
        app = start_server(tmp_path / "data", cwd=tmp_path)
        context = chromium.new_context(accept_downloads=True)
        context.set_default_timeout(ms(30))
        page = context.new_page()
        page.add_init_script(RECORD_CSP_VIOLATIONS)
        try:
            open_app(page, app.url)
            page.get_by_role("link", name="Site audit").click()
            page.get_by_role("button", name="Start a new run").click()
            expect(page).to_have_url(re.compile(r"/seo-crawl/runs/default-seo-crawl-01$"))
            page.get_by_label("Start URL (or sitemap URL)").fill(site.origin + "/")
            page.get_by_label("Max depth (clicks from the start)").fill(str(fixture_site.MAX_DEPTH))
            page.get_by_label("Delay between requests to a host (s)").fill("0.02")
            page.get_by_label("Timeout per page (s)").fill("5")
            page.get_by_label("Allow private addresses").check()
            page.get_by_role("button", name="Next").click()

            crawl = page.locator("article[id$='-crawl']")
            expect(crawl.locator(".progress-note")).to_contain_text("pages/s", timeout=ms(30))
            expect(crawl.locator(".progress-note")).to_contain_text("crawled")
            expect(crawl.get_by_role("button", name="Pause")).to_be_visible()

            audit = page.locator("article[id$='-audit']")
            expect(audit).to_have_class(re.compile("done"), timeout=ms(120))
            expected = len(fixture_site.expected_pages(site.origin))
            expect(crawl).to_contain_text(f"{expected:,}")

            # The issues: filter to errors, then one click to the URLs of "Links to a broken page".
            row = audit.locator("tr[data-type='broken_link']")
            expect(row).to_contain_text("Links to a broken page")
            audit.locator("select[name=severity]").select_option("notice")
            expect(audit.locator("tr[data-type='broken_link']")).to_have_count(0)
            audit.locator("select[name=severity]").select_option("")
            audit.locator("tr[data-type='broken_link']").get_by_role("button").click()
            detail = audit.locator(".issue-detail")
            expect(detail).to_contain_text("3 affected URLs")
            expect(detail.get_by_role("link", name=site.origin + "/defects/broken-source")).to_be_visible()
            expect(page).to_have_url(re.compile(r"/issues/broken_link$"))
            # "Explain this issue" asks the chat, over the page's socket (no model answers here: the
            # question shows in the chat, and the chat says what it could not reach).
            detail.get_by_role("button", name="Explain this issue").click()
            expect(page.locator("#chat-messages .msg.user").last).to_contain_text("Explain the issue “Links to a broken page”")

            # The link graph is drawn from the package's own scripts.
            graph = page.locator("article[id$='-link_graph']")
            expect(graph).to_have_class(re.compile("done"), timeout=ms(60))
            expect(graph.locator(".graph-info")).to_contain_text("pages", timeout=ms(15))

            with page.expect_download() as download:
                audit.get_by_role("link", name="Download the audit (XLSX, a sheet per issue)").click()
            path = tmp_path / "audit.xlsx"
            download.value.save_as(path)
            workbook = load_workbook(path)
            assert workbook.sheetnames[0] == "Summary"
            assert {"Links to a broken page", "Redirect chain", "Orphan page", "Title too long"} <= set(workbook.sheetnames)
            sheet = workbook["Orphan page"]
            assert [cell.value for cell in sheet[1]] == ["url", "detail", "status", "title", "depth"]
            assert sheet["A2"].value == site.origin + "/orphans/lonely"
            assert page.evaluate("window.__cspViolations") == []
        finally:
            context.close()
            app.stop()
        assert_no_traceback(app)
