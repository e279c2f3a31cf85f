"""URL normalization and scope, and robots.txt read with Google's rules (protego)."""

from __future__ import annotations

import pytest

from pipulate_seo.crawl.robots import from_response
from pipulate_seo.crawl.urls import Scope, normalize

STRIP = frozenset({"utm_source", "gclid"})


@pytest.mark.parametrize("raw, base, expected", [
    ("HTTP://Example.COM:80/a/../b?utm_source=x&q=1#top", None, "http://example.com/b?q=1"),
    ("/x y", "https://example.com/dir/", "https://example.com/x%20y"),
    ("page?gclid=abc", "https://example.com/dir/", "https://example.com/dir/page"),
    ("https://example.com:443", None, "https://example.com/"),
    ("https://bücher.example/", None, "https://xn--bcher-kva.example/"),
    ("mailto:someone@example.com", None, None), ("javascript:void(0)", None, None), ("#top", "https://e.com/", None),
    ("http://[::1]:8080/a", None, "http://[::1]:8080/a"), ("http://" + "a" * 3000 + ".com/", None, None),
])
def test_normalize(raw, base, expected):
    assert normalize(raw, base, STRIP) == expected


def test_scope_subdomains_and_patterns():
    scope = Scope.for_start("https://www.example.com/", follow_subdomains=True, include=[r"/blog/"], exclude=[r"\?page="])
    assert scope.is_internal("https://shop.example.com/x") and scope.is_internal("https://example.com/")
    assert not scope.is_internal("https://example.org/")
    assert scope.allows("https://www.example.com/blog/a") and not scope.allows("https://www.example.com/blog/a?page=2")
    assert not scope.allows("https://www.example.com/shop/")
    assert not Scope.for_start("https://example.com/").is_internal("https://sub.example.com/")


ROBOTS = b"""User-agent: *
Disallow: /private/
Allow: /private/public$
Disallow: /*?sort=
Disallow: /*.json$

User-agent: pickybot
Disallow: /
"""


@pytest.mark.parametrize("path, allowed", [
    ("/", True), ("/private/x", False), ("/private/public", True), ("/private/public/x", False),
    ("/list?sort=asc", False), ("/list?page=2", True), ("/data.json", False), ("/data.json?v=1", True),
])
def test_googles_rules_wildcards_longest_match_and_allow(path, allowed):
    robots = from_response("example.com", 200, ROBOTS)
    assert robots.allowed("https://example.com" + path, "PipulateSEO/0.1") is allowed


def test_a_group_for_our_user_agent_wins():
    assert not from_response("example.com", 200, ROBOTS).allowed("https://example.com/", "pickybot/2.0")


@pytest.mark.parametrize("status, allowed", [(404, True), (410, True), (429, False), (500, False), (503, False), (0, False)])
def test_what_an_unreadable_robots_txt_means(status, allowed):
    robots = from_response("example.com", status, b"", "refused")
    assert robots.allowed("https://example.com/a", "bot") is allowed
    assert robots.note
