"""Workflows as a person uses them, in a real Chromium against the real server: a run from its
first step to Finalize, a job whose page is reloaded mid-way (the bar picks up where it is), and
Cancel. The page's Content-Security-Policy stays strict: no violation may be recorded."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests._workflows.support import install_samples
from tests.browser.test_chat_in_chromium import RECORD_CSP_VIOLATIONS, open_app
from tests.support.plugins.sample_workflows import trace_lines
from tests.support.polling import wait_until
from tests.support.scripted_model_server import MODEL, ScriptedModelServer
from tests.support.server import assert_no_traceback, start_server
from tests.support.timing import ms


def card(page: Page, step: str):
    return page.locator(f"article[id$='-{step}']")


def test_hello_from_the_first_step_to_finalize(servers, chromium):
    with ScriptedModelServer(lambda messages: ["Ahoy ", "there, ", "sailor!\n", "The sea ", "says hi."], delay=0.05) as model:
        app = servers("--llm-url", model.url, "--model", MODEL)
        context = chromium.new_context()
        page = context.new_page()
        page.add_init_script(RECORD_CSP_VIOLATIONS)
        try:
            open_app(page, app.url)
            page.get_by_role("link", name="Hello workflow").click()
            expect(page.locator("#app-panel h2")).to_have_text("Hello workflow")
            page.get_by_role("button", name="Start a new run").click()
            expect(page).to_have_url(re.compile(r"/hello/runs/default-hello-01$"))
            page.get_by_label("Name").fill("Ada")
            page.get_by_label("Tone").select_option("pirate")
            page.get_by_role("button", name="Next").click()
            expect(card(page, "greeting")).to_contain_text("The greeting: Ahoy, Ada!")
            expect(card(page, "poem")).to_have_class(re.compile("done"), timeout=ms(15))
            expect(card(page, "poem")).to_contain_text("sailor!")
            expect(card(page, "poem")).to_contain_text("Answered by scripted")

            # Change step 1: the poem depends on it, runs again by itself.
            card(page, "greeting").get_by_role("button", name="Change").click()
            expect(page.get_by_label("Name")).to_have_value("Ada")  # the form, prefilled
            page.get_by_label("Name").fill("Grace")
            page.get_by_role("button", name="Next").click()
            expect(card(page, "greeting")).to_contain_text("Ahoy, Grace!")
            expect(card(page, "poem")).to_have_class(re.compile("done"), timeout=ms(15))
            assert "Grace" in model.received[-1]["messages"][-1]["content"]

            page.get_by_role("button", name="Finalize").click()
            expect(page.locator(".run-bar .status")).to_have_text("finalized")
            expect(page.get_by_role("button", name="Change")).to_have_count(0)
            page.reload()  # a bookmark shows the run as it is now
            expect(page.locator(".run-bar .status")).to_have_text("finalized")
            page.get_by_role("button", name="Unfinalize").click()
            expect(page.get_by_role("button", name="Change")).to_have_count(1)
            assert page.evaluate("() => window.__cspViolations") == []
        finally:
            context.close()
    assert "Traceback" not in app.log()


@pytest.fixture
def slow_server(tmp_path):
    install_samples(tmp_path)
    trace = tmp_path / "trace.txt"
    server = start_server(tmp_path / "data", cwd=tmp_path, env={"PIPULATE_TEST_TRACE": str(trace)})
    yield server, trace
    server.stop()
    assert_no_traceback(server)


def start_slow_job(page: Page, url: str, units: int, seconds: float) -> None:
    open_app(page, url + "/slow-count")
    page.get_by_role("button", name="Start a new run").click()
    page.get_by_label("Units").fill(str(units))
    page.get_by_label("Seconds").fill(str(seconds))
    page.get_by_role("button", name="Next").click()
    expect(card(page, "slow").locator("progress")).to_be_visible()


def progress_value(page: Page) -> int:
    return int(page.locator("article[id$='-slow'] progress").get_attribute("value") or 0)


def test_a_reloaded_page_reattaches_to_the_running_job(chromium, slow_server):
    server, _trace = slow_server
    context = chromium.new_context()
    page = context.new_page()
    try:
        start_slow_job(page, server.url, units=40, seconds=0.1)
        wait_until(page, "() => Number(document.querySelector(\"article[id$='-slow'] progress\").value) >= 5")
        before = progress_value(page)
        page.reload()
        expect(card(page, "slow")).to_have_class(re.compile("running"))
        wait_until(page, "() => document.documentElement.dataset.socket === 'open'")
        after = progress_value(page)
        assert after >= before  # shown at once where it is, not from zero
        wait_until(page, f"() => Number(document.querySelector(\"article[id$='-slow'] progress\").value) > {after}")
        expect(card(page, "after")).to_contain_text("total 820", timeout=ms(20))  # 1 + ... + 40
        expect(card(page, "slow")).to_have_class(re.compile("done"))
        # The chat showed the same progress, and says it is done.
        expect(page.locator("#chat-messages .msg.progress .progress-note").last).to_have_text("done")
    finally:
        context.close()


def test_cancel_stops_the_job(chromium, slow_server):
    server, trace = slow_server
    context = chromium.new_context()
    page = context.new_page()
    try:
        start_slow_job(page, server.url, units=200, seconds=0.05)
        wait_until(page, "() => Number(document.querySelector(\"article[id$='-slow'] progress\").value) >= 3")
        card(page, "slow").get_by_role("button", name="Cancel").click()
        expect(card(page, "slow")).to_have_class(re.compile("cancelled"))
        expect(card(page, "slow")).to_contain_text("Cancelled.")
        stopped_at = len(trace_lines(trace))
        page.wait_for_timeout(ms(0.8))  # the job would have gone on by now
        assert len(trace_lines(trace)) <= stopped_at + 1  # no more work after the one in hand
        assert stopped_at < 200
        card(page, "slow").get_by_role("button", name="Retry").click()
        expect(card(page, "slow")).to_have_class(re.compile("running"))
    finally:
        context.close()
