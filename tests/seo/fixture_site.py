"""The fixture website: about 320 pages the tests generate and serve on 127.0.0.1, with known
defects of every issue type, robots.txt wildcard rules, a sitemap index (one sitemap gzipped),
redirect chains and a loop, a slow page, a 429 phase and a spider trap (an endless calendar).

The expected results are written out here by hand from the site's design (which page has
which defect), not computed by the crawler's code; only the list of healthy pages is generated.
"""

from __future__ import annotations

import gzip
import threading

from tests.support.site_server import Reply

SECTIONS, PAGES_PER_SECTION = 10, 25
MAX_DEPTH = 8  # the tests' crawl limit: the calendar is cut at depth 8
FILLER = ("Pipulate fixture text about gardening tools, seasonal planting, soil care and watering schedules for "
          "small urban gardens that a crawler should count as ordinary words on a healthy page. ")


def words(count: int, seed: str) -> str:
    base = (FILLER * (count // 25 + 2)).split()[: count - 1]
    return " ".join([seed, *base])


def html(title=None, description=None, h1s=("Heading",), links=(), body_words=250, head_extra="", body_extra="", seed="x",
         charset="utf-8") -> str:
    title_tag = "" if title is None else f"<title>{title}</title>"
    desc_tag = "" if description is None else f'<meta name="description" content="{description}">'
    links_html = "".join(f'<a href="{href}">{text}</a> ' for href, text in links)
    h1_html = "".join(f"<h1>{h}</h1>" for h in h1s)
    return (f'<!doctype html><html><head><meta charset="{charset}">{title_tag}{desc_tag}{head_extra}</head><body>{h1_html}'
            f"<nav>{links_html}</nav><p>{words(body_words, seed)}</p>{body_extra}</body></html>")


def healthy(name: str, links=(), **extra) -> str:
    """A page without defects: unique title (30-60 chars) and description (70-160), one H1, 250 words."""
    title = f"{name} | Pipulate fixture site"
    description = f"The {name} page of the Pipulate fixture site, with ordinary text and links for the crawler."
    assert 30 <= len(title) <= 60 and 70 <= len(description) <= 160, name
    return html(title, description, (name,), links, seed=name, **extra)


def month(index: int) -> str:
    return f"{2024 + index // 12}-{index % 12 + 1:02d}"


ROBOTS = """User-agent: *
Disallow: /private/
Allow: /private/public$
Disallow: /*?print=
Disallow: /*.pdf$
Sitemap: {origin}/sitemap_index.xml
"""

SECTION_PAGES = [f"/section-{s}/page-{p}" for s in range(SECTIONS) for p in range(PAGES_PER_SECTION)]
SECTION_HUBS = [f"/section-{s}/" for s in range(SECTIONS)]
CALENDAR_CRAWLED = [f"/calendar/{month(i)}" for i in range(MAX_DEPTH)]  # depths 1..8
DEFECT_PAGES = [
    "title-missing", "title-empty", "title-long", "title-short", "dup-title-a", "dup-title-b",
    "desc-missing", "desc-empty", "desc-long", "desc-short", "dup-desc-a", "dup-desc-b",
    "h1-missing", "h1-multiple", "thin", "mixed", "images-no-alt", "noindex-page", "xrobots-noindex",
    "canonical-other", "canonical-404", "canonical-noindex", "hreflang-en", "broken-source", "server-error",
    "chain-1", "loop-a", "moved", "slow", "latin1", "dead-end",
]
BLOCKED = ["/section-0/page-0?print=1", "/files/report.pdf", "/private/public/more", "/private/secret"]


class FixtureSite:
    def __init__(self, origin_ref: list, throttle_phase: range = range(20, 23), fixed=()) -> None:
        self.origin_ref = origin_ref  # [origin], filled once the server has a port
        self.throttle_phase = throttle_phase
        self.fixed = set(fixed)  # defect pages served without their defect (a later crawl of a fixed site)
        self.page_requests = 0
        self.throttled = 0
        self.lock = threading.Lock()

    @property
    def origin(self) -> str:
        return self.origin_ref[0]

    def __call__(self, path: str) -> Reply:
        if path == "/robots.txt":
            return Reply(200, ROBOTS.format(origin=self.origin).encode(), {"Content-Type": "text/plain"})
        if path.startswith("/sitemap"):
            return self.sitemap(path)
        with self.lock:
            self.page_requests += 1
            if self.page_requests in self.throttle_phase:
                self.throttled += 1
                return Reply(429, b"slow down", {"Retry-After": "1"})
        return self.page(path)

    def sitemap(self, path: str) -> Reply:
        o = self.origin
        if path == "/sitemap_index.xml":
            body = ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    f"<sitemap><loc>{o}/sitemap-pages.xml</loc></sitemap><sitemap><loc>{o}/sitemap-extra.xml.gz</loc></sitemap>"
                    "</sitemapindex>")
            return Reply(200, body.encode(), {"Content-Type": "application/xml"})
        if path == "/sitemap-pages.xml":
            urls = ["/", *SECTION_HUBS, *SECTION_PAGES]
        elif path == "/sitemap-extra.xml.gz":
            urls = ["/defects/noindex-page", "/defects/xrobots-noindex", "/orphans/lonely", "/defects/chain-end"]
        else:
            return Reply(404, b"no such sitemap")
        body = ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                + "".join(f"<url><loc>{o}{u}</loc></url>" for u in urls) + "</urlset>").encode()
        if path.endswith(".gz"):
            return Reply(200, gzip.compress(body), {"Content-Type": "application/gzip"})
        return Reply(200, body, {"Content-Type": "application/xml"})

    def page(self, path: str) -> Reply:
        o = self.origin
        if path == "/":
            links = [(h, f"Section {h}") for h in SECTION_HUBS] + [
                ("/defects/", "Defects"), ("/calendar/2024-01", "Calendar"), ("/section-1/?utm_source=home", "Tracked"),
                *[(b, "blocked") for b in BLOCKED], ("/files/report.pdf?x=1", "Report"), ("/private/public", "Public")]
            return Reply(200, healthy("Home page", links).encode())
        if path in SECTION_HUBS:
            return Reply(200, healthy(f"Section {path}", [("/", "Home")] + [(f"{path}page-{p}", f"Page {p}") for p in range(PAGES_PER_SECTION)]).encode())
        if path.startswith("/section-") and "/page-" in path and "?" not in path:
            section, number = path.split("/")[1], int(path.rsplit("-", 1)[1])
            nxt = f"/{section}/page-{(number + 1) % PAGES_PER_SECTION}"
            return Reply(200, healthy(f"Page {path}", [("/", "Home"), (f"/{section}/", "Up"), (nxt, "Next")]).encode())
        if path.startswith("/calendar/"):
            index = next((i for i in range(10_000) if f"/calendar/{month(i)}" == path), None)
            if index is None:
                return Reply(404, b"no such month")
            return Reply(200, healthy(f"Events {month(index)}", [("/", "Home"), (f"/calendar/{month(index + 1)}", "Next month")]).encode())
        if path == "/defects/":
            return Reply(200, healthy("Defects hub", [(f"/defects/{d}", d) for d in DEFECT_PAGES]).encode())
        if path.startswith("/defects/"):
            return self.defect(path.removeprefix("/defects/"), o)
        if path == "/orphans/lonely":
            return Reply(200, healthy("Lonely orphan").encode())
        if path == "/private/public":
            return Reply(200, healthy("Public part of private").encode())
        if path == "/files/report.pdf?x=1":
            return Reply(200, b"%PDF-1.4 not really", {"Content-Type": "application/pdf"})
        return Reply(404, b"<html><head><title>Not found</title></head><body>Not found</body></html>")

    def defect(self, name: str, o: str) -> Reply:
        if name in self.fixed:
            return Reply(200, healthy_variant(f"The fixed version of the page {name}").encode())
        home = [("/", "Home")]
        long_title = "A title that goes on and on well past what search results show for it"
        pages = {
            "title-missing": html(None, "A description of the page without a title, long enough to be fine here ok.", seed=name),
            "title-empty": html("", "A description of the page with an empty title, long enough to be fine here ok.", seed=name),
            "title-long": html(long_title, "A description of the page with a long title, long enough to be fine here too.", seed=name),
            "title-short": html("Short", "A description of the page with a short title, long enough to be fine here ok.", seed=name),
            "dup-title-a": html("The same title on two different pages", "First of two pages that share one title, each with a description of its own.", seed=name),
            "dup-title-b": html("The same title on two different pages", "Second of two pages that share one title, each with a description of its own.", seed=name),
            "desc-missing": html("A page without a meta description tag", None, seed=name),
            "desc-empty": html("A page with an empty meta description", "", seed=name),
            "desc-long": html("A page with a very long meta description", "Far too long. " * 15, seed=name),
            "desc-short": html("A page with a short meta description", "Too short.", seed=name),
            "dup-desc-a": html("First page sharing one meta description", "Both of these pages use this very same meta description text, word for word.", seed=name),
            "dup-desc-b": html("Second page sharing one meta description", "Both of these pages use this very same meta description text, word for word.", seed=name),
            "h1-missing": healthy_variant("A page that has no main heading", h1s=()),
            "h1-multiple": healthy_variant("Page that has several main headings", h1s=("One", "Two")),
            "thin": healthy_variant("Page with hardly any text on it", body_words=40),
            "mixed": healthy_variant("Page linking the site under https", links=[(o.replace("http://", "https://") + "/section-0/", "secure")]),
            "images-no-alt": healthy_variant("Page with images lacking alt text", body_extra='<img src="/a.png"><img src="/b.png" alt="ok">'),
            "noindex-page": healthy_variant("Page that asks not to be indexed", head_extra='<meta name="robots" content="noindex, follow">'),
            "canonical-other": healthy_variant("Page canonicalised to another one", head_extra='<link rel="canonical" href="/section-0/page-0">'),
            "canonical-404": healthy_variant("Page whose canonical is a 404 page", head_extra='<link rel="canonical" href="/defects/gone">'),
            "canonical-noindex": healthy_variant("Page whose canonical is noindex", head_extra='<link rel="canonical" href="/defects/noindex-page">'),
            "hreflang-en": healthy_variant("English page with language versions", head_extra=(
                '<link rel="alternate" hreflang="en" href="/defects/hreflang-en">'
                '<link rel="alternate" hreflang="fr" href="/defects/hreflang-fr">'
                '<link rel="alternate" hreflang="de" href="/defects/hreflang-404">')),
            "hreflang-fr": healthy_variant("French page that does not link back", head_extra='<link rel="alternate" hreflang="fr" href="/defects/hreflang-fr">'),
            "broken-source": healthy_variant("Page with a link to a missing page", links=[("/missing-page", "missing")]),
            "chain-end": healthy_variant("Where the redirect chain ends up"),
            "moved-target": healthy_variant("Where the moved page lives now"),
            "slow": healthy_variant("A page that takes a second to answer"),
            "dead-end": html("A page that links nowhere at all, dead end", "This page has words, a title and a heading, but not a single link to anywhere.", seed=name),
        }
        redirects = {"chain-1": "/defects/chain-2", "chain-2": "/defects/chain-3", "chain-3": "/defects/chain-end",
                     "loop-a": "/defects/loop-b", "loop-b": "/defects/loop-a", "moved": "/defects/moved-target"}
        if name in redirects:
            return Reply(301, b"", {"Location": redirects[name]})
        if name == "server-error":
            return Reply(500, b"<html><body>Internal error</body></html>")
        if name == "xrobots-noindex":
            return Reply(200, healthy_variant("Page with a noindex X-Robots-Tag").encode(), {"X-Robots-Tag": "noindex"})
        if name == "latin1":
            body = healthy_variant("Café page written in Latin-1 encoding", charset="iso-8859-1").encode("latin-1")
            return Reply(200, body, {"Content-Type": "text/html; charset=iso-8859-1"})
        if name in pages:
            return Reply(200, pages[name].encode(), delay=1.0 if name == "slow" else 0.0)
        del home
        return Reply(404, b"<html><head><title>Not found</title></head><body>Gone</body></html>")


def healthy_variant(title: str, h1s=("Heading",), links=(), body_words=250, head_extra="", body_extra="", charset="utf-8") -> str:
    description = f"{title}: a page of the fixture site whose only defect is the one it is named after."
    assert 30 <= len(title) <= 60 and 70 <= len(description) <= 160, title
    return html(title, description, h1s, [("/", "Home"), *links], body_words, head_extra, body_extra, seed=title, charset=charset)


# --- what a crawl of it must find (paths; the tests add the origin) ------------------------------------------------------

def expected_pages(origin: str) -> dict[str, int]:
    """Every URL the crawl fetches, with the status it must record (0: no answer)."""
    statuses = {"/": 200, **{p: 200 for p in SECTION_HUBS + SECTION_PAGES + CALENDAR_CRAWLED}, "/defects/": 200,
                "/orphans/lonely": 200, "/private/public": 200, "/files/report.pdf?x=1": 200,
                "/missing-page": 404, "/defects/gone": 404, "/defects/hreflang-404": 404, "/defects/hreflang-fr": 200,
                "/defects/chain-2": 301, "/defects/chain-3": 301, "/defects/chain-end": 200, "/defects/loop-b": 301,
                "/defects/moved-target": 200}
    for name in DEFECT_PAGES:
        statuses[f"/defects/{name}"] = {"server-error": 500, "chain-1": 301, "loop-a": 301, "moved": 301}.get(name, 200)
    found = {origin + path: status for path, status in statuses.items()}
    found[origin.replace("http://", "https://") + "/section-0/"] = 0  # the mixed link: no TLS on this port
    return found


def expected_issues(origin: str) -> set[tuple[str, str]]:
    secure = origin.replace("http://", "https://") + "/section-0/"
    d = "/defects/"
    pairs = {
        ("status_4xx", "/missing-page"), ("status_4xx", d + "gone"), ("status_4xx", d + "hreflang-404"),
        ("status_5xx", d + "server-error"), ("fetch_error", secure),
        ("broken_link", d + "broken-source"), ("broken_link", d), ("broken_link", d + "mixed"),
        ("redirect_chain", d + "chain-1"), ("redirect_loop", d + "loop-a"), ("internal_link_to_redirect", d),
        ("title_missing", d + "title-missing"), ("title_empty", d + "title-empty"), ("title_too_long", d + "title-long"),
        ("title_too_short", d + "title-short"), ("title_duplicate", d + "dup-title-a"), ("title_duplicate", d + "dup-title-b"),
        ("description_missing", d + "desc-missing"), ("description_empty", d + "desc-empty"),
        ("description_too_long", d + "desc-long"), ("description_too_short", d + "desc-short"),
        ("description_duplicate", d + "dup-desc-a"), ("description_duplicate", d + "dup-desc-b"),
        ("h1_missing", d + "h1-missing"), ("h1_multiple", d + "h1-multiple"),
        ("noindex_in_sitemap", d + "noindex-page"), ("noindex_in_sitemap", d + "xrobots-noindex"),
        ("canonical_to_other", d + "canonical-other"), ("canonical_to_non200", d + "canonical-404"),
        ("canonical_to_noindex", d + "canonical-noindex"),
        ("hreflang_to_non200", d + "hreflang-en"), ("hreflang_no_return", d + "hreflang-en"),
        *[("blocked_by_robots_linked", path) for path in BLOCKED],
        ("orphan", "/orphans/lonely"), ("thin_content", d + "thin"), ("mixed_links", d + "mixed"),
        *[("too_deep", f"/calendar/{month(i)}") for i in range(5, MAX_DEPTH)],
        ("images_without_alt", d + "images-no-alt"),
    }
    return {(kind, path if path.startswith("https://") else origin + path) for kind, path in pairs}
