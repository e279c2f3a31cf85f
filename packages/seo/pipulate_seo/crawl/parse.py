"""What an HTML page says about itself: title, description, robots, canonical, hreflang, H1s,
words, links and images, read with selectolax's lexbor engine (a maintained HTML5 parser in C,
tolerant of broken markup and many times faster than a pure-Python one).

Text from a page is kept as text: it is escaped wherever it is shown.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser

from .urls import normalize

TEXT_LIMIT = 500  # characters kept of a title, description or H1
ANCHOR_LIMIT = 200
_SPACE = re.compile(r"\s+")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.I)


@dataclass
class Link:
    url: str
    anchor: str = ""
    nofollow: bool = False
    kind: str = "a"  # a, canonical, hreflang, redirect


@dataclass
class Facts:
    title: str | None = None
    title_count: int = 0
    description: str | None = None
    description_count: int = 0
    meta_robots: str = ""
    canonical: str | None = None
    hreflang: list[tuple[str, str]] = field(default_factory=list)
    h1: str | None = None
    h1_count: int = 0
    word_count: int = 0
    images: int = 0
    images_without_alt: int = 0
    http_links: int = 0  # links to the same site under the other scheme, http images on https (mixed)
    links: list[Link] = field(default_factory=list)


def clean(text: str | None, limit: int = TEXT_LIMIT) -> str:
    return _SPACE.sub(" ", text or "").strip()[:limit]


def decode(body: bytes, content_type: str) -> str:
    """The page's text: the charset of the header, else of a <meta>, else UTF-8; bytes that do
    not decode become U+FFFD rather than failing the page."""
    charset = None
    match = re.search(r"charset=([\w\-:.]+)", content_type or "", re.I)
    if match:
        charset = match.group(1)
    else:
        found = _CHARSET.search(body[:4096])
        charset = found.group(1).decode("ascii", "ignore") if found else None
    try:
        codec = codecs.lookup(charset or "utf-8").name
    except LookupError:
        codec = "utf-8"
    if body.startswith(codecs.BOM_UTF8):
        codec, body = "utf-8", body[len(codecs.BOM_UTF8):]
    return body.decode(codec, errors="replace")


def parse(html: str, url: str, strip_params: frozenset[str] = frozenset()) -> Facts:
    tree = LexborHTMLParser(html)
    facts = Facts()
    base = url
    base_node = tree.css_first("base[href]")
    if base_node is not None:
        base = normalize(base_node.attributes.get("href") or "", url) or url
    scheme, host = url.split("://", 1)[0], url.split("/")[2]

    titles = tree.css("head > title")
    facts.title_count = len(titles)
    if titles:
        facts.title = clean(titles[0].text())
    robots = []
    for meta in tree.css("meta[name]"):
        name = (meta.attributes.get("name") or "").strip().lower()
        content = meta.attributes.get("content")
        if name == "description":
            facts.description_count += 1
            if facts.description is None:
                facts.description = clean(content)
        elif name in ("robots", "googlebot"):
            robots.append(clean(content, 200).lower())
    facts.meta_robots = ", ".join(r for r in robots if r)
    for link in tree.css("link[rel][href]"):
        rel = (link.attributes.get("rel") or "").lower().split()
        href = normalize(link.attributes.get("href") or "", base, strip_params)
        if href is None:
            continue
        if "canonical" in rel and facts.canonical is None:
            facts.canonical = href
            facts.links.append(Link(href, kind="canonical"))
        elif "alternate" in rel and link.attributes.get("hreflang"):
            lang = clean(link.attributes.get("hreflang"), 20).lower()
            facts.hreflang.append((lang, href))
            facts.links.append(Link(href, lang, kind="hreflang"))
    h1s = tree.css("h1")
    facts.h1_count = len(h1s)
    if h1s:
        facts.h1 = clean(h1s[0].text(separator=" "))
    page_nofollow = "nofollow" in facts.meta_robots or "none" in facts.meta_robots.split(", ")
    for anchor in tree.css("a[href]"):
        href = anchor.attributes.get("href") or ""
        target = normalize(href, base, strip_params)
        if target is None:
            continue
        if not target.startswith(scheme + "://") and target.split("/")[2] == host:
            facts.http_links += 1  # the same site under the other scheme
        rel = (anchor.attributes.get("rel") or "").lower().split()
        text = clean(anchor.text(separator=" "), ANCHOR_LIMIT)
        if not text:
            image = anchor.css_first("img[alt]")
            text = clean(image.attributes.get("alt"), ANCHOR_LIMIT) if image is not None else ""
        facts.links.append(Link(target, text, page_nofollow or "nofollow" in rel))
    for image in tree.css("img"):
        facts.images += 1
        if "alt" not in image.attributes:
            facts.images_without_alt += 1
        source = image.attributes.get("src") or ""
        if scheme == "https" and source.strip().lower().startswith("http://"):
            facts.http_links += 1
    body = tree.body
    if body is not None:
        for node in body.css("script, style, noscript, template, svg"):
            node.decompose()
        facts.word_count = len(body.text(separator=" ").split())
    return facts
