"""The fake Botify API (tests/support/fake_botify.py) that the Botifython tests stand on: it guards
every endpoint with the token, pages like Botify, records what it was asked, and its failure
switches answer as documented. A test of a test double: reported apart (tests/support/doubles.py)."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.support.fake_botify import ORGANISATION, USERNAME, VALID_TOKEN, FakeBotify

AUTH = {"Authorization": f"Token {VALID_TOKEN}"}


@pytest.fixture
def fake():
    with FakeBotify() as server:
        yield server


def get(fake, path, headers=AUTH, **params):
    return httpx.get(fake.url + path, headers=headers, params=params, trust_env=False)


def test_the_fake_server_runs_in_a_thread_and_stops(fake):
    threads_before = threading.active_count()
    with FakeBotify() as second:
        assert httpx.get(second.url + "/v1/authentication/profile", trust_env=False).status_code == 401
    assert threading.active_count() <= threads_before


def test_every_endpoint_wants_the_token_and_each_request_is_recorded(fake):
    for path in ("/v1/authentication/profile", f"/v1/projects/{USERNAME}", f"/v1/analyses/{ORGANISATION}/acme-shop"):
        refused = get(fake, path, headers={"Authorization": "Token wrong"})
        assert refused.status_code == 401 and refused.json()["error"]["error_code"] == "1001"
        assert get(fake, path).status_code == 200
    assert [r["authorized"] for r in fake.requests] == [False, True] * 3
    assert get(fake, "/v1/authentication/profile").json()["data"]["username"] == USERNAME


def test_lists_are_paged_with_next_links_until_the_last_page(fake):
    names, page = [], get(fake, f"/v1/projects/{USERNAME}").json()
    while True:
        names += [project["slug"] for project in page["results"]]
        if not page["next"]:
            break
        page = httpx.get(page["next"], headers=AUTH, trust_env=False).json()
    assert len(names) == page["count"] == 5 and len(set(names)) == 5
    assert get(fake, f"/v1/projects/{USERNAME}", size=0).status_code == 400
    assert get(fake, "/v1/projects/someone-else").status_code == 404
    finished = get(fake, f"/v1/analyses/{ORGANISATION}/acme-shop", only_success="true", size=50).json()
    assert {a["status"] for a in finished["results"]} == {"success"} and finished["count"] == 3


def test_the_failure_switches_answer_the_next_requests_then_stop(fake):
    fake.rate_limit(2, retry_after="7")
    for _ in range(2):
        limited = get(fake, "/v1/authentication/profile")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    fake.fail(1, status=503)
    failed = get(fake, "/v1/authentication/profile")
    assert failed.status_code == 503 and failed.headers["content-type"].startswith("text/html")
    fake.answer_html(1)
    html = get(fake, "/v1/authentication/profile")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert get(fake, "/v1/authentication/profile").json()["data"]["username"] == USERNAME  # back to normal
