"""The site audit through the real server (`python -m pipulate serve`, the SEO package found by
its entry point): a crawl of the fixture site started from the form, then the issues explorer,
one issue's URLs, the audit workbook, the tables' downloads, the link graph, a Search Console
import, the comparison of two crawls, and the chat's view of it all."""

from __future__ import annotations

import io
import json

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from tests._workflows.support import HTMX, body, new_run, step_states, submit, wait_for_state
from tests.seo import fixture_site
from tests.seo.support import serve_fixture
from tests.support.scripted_model_server import MODEL, ScriptedModelServer
from tests.support.server import assert_no_traceback, start_server

WORKFLOW = "seo-crawl"


def crawl_form(origin: str, **extra) -> dict:
    return {"mode": "spider", "start_url": origin + "/", "max_pages": "1000", "max_depth": str(fixture_site.MAX_DEPTH),
            "delay_seconds": "0", "timeout_seconds": "5", "respect_robots": "on", "allow_private": "on", **extra}


def run_audit(client, origin: str) -> str:
    key = new_run(client, WORKFLOW)
    submit(client, WORKFLOW, key, "settings", **crawl_form(origin))
    wait_for_state(client, WORKFLOW, key, "link_graph", ("done",), timeout=120)
    return key


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    """A server, the fixture site, a model server that records what it is told, and one finished run."""
    folder = tmp_path_factory.mktemp("seo-app")
    with serve_fixture() as site, ScriptedModelServer(lambda messages: ["ok"]) as model:
        server = start_server(folder / "data", "--llm-url", model.url, "--model", MODEL, cwd=folder)
        try:
            with server.client(timeout=60) as client:
                key = run_audit(client, site.origin)
                yield server, site, model, key
        finally:
            server.stop()
        assert_no_traceback(server)


def test_the_run_shows_every_step_done_with_the_crawls_numbers(audited):
    server, site, _model, key = audited
    with server.client() as client:
        html = body(client, WORKFLOW, key)
    assert step_states(html) == {"settings": "done", "crawl": "done", "audit": "done", "link_graph": "done"}
    assert f"{len(fixture_site.expected_pages(site.origin))}" in html and "Pages crawled" in html
    assert "Download the audit (XLSX, a sheet per issue)" in html and "Orphan pages" in html


def test_the_issues_table_sorts_and_filters_by_type_and_severity(audited):
    server, site, _model, key = audited
    expected_types = {kind for kind, _url in fixture_site.expected_issues(site.origin)}
    with server.client() as client:
        html = client.get(f"/{WORKFLOW}/runs/{key}/issues", headers=HTMX).text
        assert {kind for kind in expected_types if f'data-type="{kind}"' in html} == expected_types
        errors = client.get(f"/{WORKFLOW}/runs/{key}/issues?severity=error", headers=HTMX).text
        assert 'data-type="status_4xx"' in errors and 'data-type="thin_content"' not in errors
        found = client.get(f"/{WORKFLOW}/runs/{key}/issues?q=title", headers=HTMX).text
        assert 'data-type="title_too_long"' in found and 'data-type="orphan"' not in found
        by_pages = client.get(f"/{WORKFLOW}/runs/{key}/issues?sort=pages&desc=1", headers=HTMX).text
        order = [kind for kind in _types_in_order(by_pages)]
        assert order[0] == "blocked_by_robots_linked"  # 4 pages: the most affected type
        # Hostile input to the filters is shown escaped and changes nothing.
        odd = client.get(f"/{WORKFLOW}/runs/{key}/issues", params={"q": '"><script>x</script>', "severity": "bogus",
                                                                   "sort": "nope"}, headers=HTMX)
        assert odd.status_code == 200 and "<script>x" not in odd.text


def _types_in_order(html: str) -> list[str]:
    import re

    return re.findall(r'data-type="([a-z0-9_]+)"', html)


def test_an_issues_urls_are_one_click_away(audited):
    server, site, _model, key = audited
    with server.client() as client:
        html = client.get(f"/{WORKFLOW}/runs/{key}/issues/broken_link", headers=HTMX).text
        for path in ("/defects/broken-source", "/defects/", "/defects/mixed"):
            assert f'href="{site.origin}{path}"' in html
        assert 'rel="noopener noreferrer nofollow"' in html and "Explain this issue" in html
        csv = client.get(f"/{WORKFLOW}/runs/{key}/issue-csv/broken_link").text
        assert csv.count("\n") == 4 and "/missing-page (404)" in csv
        # A reload of the pushed URL shows the run; an unknown issue type is a 404.
        assert client.get(f"/{WORKFLOW}/runs/{key}/issues/broken_link").status_code == 303
        assert client.get(f"/{WORKFLOW}/runs/{key}/issues/nope", headers=HTMX).status_code == 404


def test_the_audit_workbook_has_a_sheet_per_issue_type_with_a_header_row(audited):
    server, site, _model, key = audited
    with server.client() as client:
        answer = client.get(f"/{WORKFLOW}/runs/{key}/audit.xlsx")
    assert answer.status_code == 200
    workbook = load_workbook(io.BytesIO(answer.content))
    from pipulate_seo.audit.catalog import ISSUES

    expected = {kind for kind, _url in fixture_site.expected_issues(site.origin)}
    assert workbook.sheetnames[0] == "Summary"
    # Excel forbids / in sheet names: "Mixed http/https links" becomes "Mixed http https links".
    assert sorted(workbook.sheetnames[1:]) == sorted(ISSUES[kind].title.replace("/", " ")[:31] for kind in expected)
    sheet = workbook["Links to a broken page"]
    assert [cell.value for cell in sheet[1]] == ["url", "detail", "status", "title", "depth"]
    assert sheet["A1"].font.bold and sheet.freeze_panes == "A2" and sheet.column_dimensions["A"].width >= 50
    assert {row[0].value for row in sheet.iter_rows(min_row=2)} == {site.origin + p for p in ("/defects/", "/defects/broken-source",
                                                                                             "/defects/mixed")}


def test_the_raw_crawl_and_the_graph_download_as_parquet_csv_and_xlsx(audited):
    server, site, _model, key = audited
    with server.client() as client:
        raw = client.get(f"/{WORKFLOW}/runs/{key}/steps/crawl/download.parquet?table=pages")
        table = pq.read_table(io.BytesIO(raw.content))
        crawled = {row["url"] for row in table.to_pylist() if row["state"] == "done"}
        assert crawled == set(fixture_site.expected_pages(site.origin))
        nodes = client.get(f"/{WORKFLOW}/runs/{key}/steps/link_graph/download.csv?table=nodes").text
        assert nodes.splitlines()[0].lstrip("\ufeff").startswith("url,depth,status,title,inlinks,outlinks,pagerank")
        edges = client.get(f"/{WORKFLOW}/runs/{key}/steps/link_graph/download.xlsx?table=edges")
        assert load_workbook(io.BytesIO(edges.content)).active["A1"].value == "source"
        links = client.get(f"/{WORKFLOW}/runs/{key}/steps/crawl/download.csv?table=links").text
        assert "nofollow" in links.splitlines()[0]
        graph = client.get(f"/{WORKFLOW}/runs/{key}/graph.json").json()
        assert len(graph["nodes"]) == graph["total"] and graph["edges"]
        home = next(node for node in graph["nodes"] if node["url"] == site.origin + "/")
        assert home["depth"] == 0 and home["rank"] == max(node["rank"] for node in graph["nodes"])
        assert client.get("/seo-crawl/static/d3-force.js").status_code == 200
        assert client.get("/seo-crawl/static/../apps.py").status_code == 404


def test_search_console_clicks_rank_the_issues(audited):
    server, site, _model, key = audited
    export = f"Top pages,Clicks,Impressions,CTR,Position\n{site.origin}/defects/title-long,1200,5000,24%,3\n" \
             f"{site.origin}/defects/thin,7,90,7%,9\nhttps://elsewhere.example/,3,4,1%,1\n"
    with server.client() as client:
        answer = client.post(f"/{WORKFLOW}/runs/{key}/search-console", headers=HTMX,
                             files={"export": ("Pages.csv", export.encode(), "text/csv")})
        assert answer.status_code == 200, answer.text[:300]
        assert "Imported 3 pages" in answer.text and "2 are pages of this crawl" in answer.text
        assert _types_in_order(answer.text)[0] == "title_too_long"  # the most clicks first
        bad = client.post(f"/{WORKFLOW}/runs/{key}/search-console", headers=HTMX,
                          files={"export": ("x.csv", b"just,some\nthing,else\n", "text/csv")})
        assert bad.status_code == 422 and "page and clicks columns" in bad.text


def test_two_crawls_of_the_same_site_compare(audited, tmp_path):
    server, _site, _model, key = audited
    with serve_fixture(fixed={"title-long"}) as changed_site, server.client(timeout=60) as client:
        # Two crawls of a second site (another port is another site), before and after a change.
        first = run_audit(client, changed_site.origin)
        changed_site.site.fixed.clear()  # the page goes back to its long title
        changed_site.site.fixed.add("thin")  # and the thin page gets its words
        second = run_audit(client, changed_site.origin)
        options = client.get(f"/{WORKFLOW}/runs/{second}/compare-options", headers=HTMX).text
        assert first in options and key not in options  # only crawls of the same site
        html = client.get(f"/{WORKFLOW}/runs/{second}/compare", params={"other": first}, headers=HTMX).text
        assert "Fixed: 1" in html and "Introduced: 1" in html and "Changed: 2" in html and "New: 0" in html
        fixed = client.get(f"/{WORKFLOW}/runs/{second}/compare.csv", params={"other": first, "part": "fixed"}).text
        assert "thin_content" in fixed and "/defects/thin" in fixed
        introduced = client.get(f"/{WORKFLOW}/runs/{second}/compare.csv", params={"other": first, "part": "introduced"}).text
        assert "title_too_long" in introduced
        refused = client.get(f"/{WORKFLOW}/runs/{second}/compare", params={"other": key}, headers=HTMX)
        assert refused.status_code == 404


def test_the_chat_explains_from_the_crawls_own_numbers(audited):
    server, site, model, key = audited
    from tests.apps.test_chat_over_websocket import connect, read_reply

    with connect(server) as ws:
        ws.send(json.dumps({"action": "chat", "message": "Explain this issue",
                            "HEADERS": {"HX-Current-URL": f"{server.url}/{WORKFLOW}/runs/{key}/issues/title_too_long"}}))
        read_reply(ws, timeout=10)
    system = model.received[-1]["messages"][0]["content"]
    crawled = len(fixture_site.expected_pages(site.origin))
    assert f"This crawl fetched {crawled:,} pages" in system
    assert "Title too long (warning, 1 pages" in system and "Links to a broken page (error, 3 pages" in system
    assert "The user is looking at the issue “Title too long”" in system
    assert f"{site.origin}/defects/title-long: 69 characters; status 200" in system


def test_bad_settings_get_a_sentence_and_lose_nothing(audited):
    server, _site, _model, _key = audited
    with server.client() as client:
        key = new_run(client, WORKFLOW)
        html = submit(client, WORKFLOW, key, "settings", **crawl_form("ftp://example.com"))
        assert "only http:// and https://" in html and step_states(html)["settings"] == "failed"
        html = client.get(f"/{WORKFLOW}/runs/{key}/steps/settings/edit", headers=HTMX).text
        assert 'value="ftp://example.com/"' in html  # what was typed is still there
        html = submit(client, WORKFLOW, key, "settings", status=422, **crawl_form("https://example.com", max_pages="0"))
        assert "Max pages must be at least 1" in html
