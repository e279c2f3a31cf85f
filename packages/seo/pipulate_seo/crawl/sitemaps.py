"""XML sitemaps: a urlset, or a sitemap index pointing at more of them, plain or gzipped.

Read with the standard library's incremental XML parser (expat: no external entities, and
protected against entity expansion), fed in pieces and stopped as soon as the crawl has as many
URLs as it can use, so a sitemap listing a million URLs costs no more than the ones kept.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError, XMLPullParser

SITEMAP_CAP = 50 * 1024 * 1024  # the protocol's own limit for one file, uncompressed
MAX_SITEMAPS = 500  # files read from indexes, at most
MAX_INDEX_DEPTH = 3


@dataclass
class SitemapRead:
    urls: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: int = 0
    capped: bool = False


def gunzip(body: bytes, cap: int = SITEMAP_CAP) -> tuple[bytes, bool]:
    """A gzipped file's content, at most `cap` bytes (and whether it was cut)."""
    decoder = zlib.decompressobj(wbits=47)
    data = decoder.decompress(body, cap + 1)
    return data[:cap], len(data) > cap or bool(decoder.unconsumed_tail)


def parse_sitemap(body: bytes, limit: int) -> tuple[str, list[str], bool]:
    """('urlset' or 'sitemapindex' or '', the <loc> values (at most `limit`), whether the XML
    was broken or truncated)."""
    parser = XMLPullParser(events=("start", "end"))
    kind, locs, broken = "", [], False
    step = 1 << 16
    try:
        for start in range(0, len(body), step):
            parser.feed(body[start:start + step])
            for event, element in parser.read_events():
                tag = element.tag.rsplit("}", 1)[-1]
                if event == "start":
                    if not kind:
                        kind = tag.lower()
                    continue
                if tag == "loc" and element.text:
                    locs.append(element.text.strip())
                    if len(locs) >= limit:
                        return kind, locs, False
                element.clear()  # keep memory flat: nothing parsed is held beyond its <loc>
    except ParseError:
        broken = True  # broken or truncated XML: what was read before the fault is kept
    return kind, locs, broken


async def read_sitemaps(first: list[str], get, limit: int) -> SitemapRead:
    """Every page URL listed by the sitemaps `first` (following indexes), at most `limit`.
    `get(url)` fetches politely and answers a fetch.Response with the whole body."""
    read = SitemapRead()
    pending = [(url, 0) for url in first]
    seen: set[str] = set()
    while pending and read.files < MAX_SITEMAPS:
        url, depth = pending.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = await get(url)
        read.files += 1
        if response.error or response.status != 200:
            read.notes.append(f"The sitemap {url} could not be read ({response.error or response.status}).")
            continue
        body, cut = response.body, response.truncated
        if body[:2] == b"\x1f\x8b":
            body, cut_zip = gunzip(body)
            cut = cut or cut_zip
        kind, locs, broken = parse_sitemap(body, limit - len(read.urls) if kind_is_urls(body) else MAX_SITEMAPS)
        if kind == "sitemapindex":
            if depth >= MAX_INDEX_DEPTH:
                read.notes.append(f"The sitemap index {url} is nested too deeply; it was skipped.")
                continue
            pending += [(loc, depth + 1) for loc in locs]
        elif kind == "urlset":
            read.urls += locs
            if len(read.urls) >= limit:
                read.capped = True
                read.notes.append(f"The sitemaps list more URLs than this crawl can use; the first {limit:,} were kept.")
                break
        else:
            read.notes.append(f"{url} is not a sitemap (no <urlset> or <sitemapindex>).")
        if cut or broken:
            read.notes.append(f"The sitemap {url} is larger than 50 MB or malformed; what could be read was used.")
    if pending and read.files >= MAX_SITEMAPS:
        read.notes.append(f"More than {MAX_SITEMAPS} sitemap files; the rest were not read.")
    return read


def kind_is_urls(body: bytes) -> bool:
    """A cheap look at the root element, so an index is never cut by the URL limit."""
    head = body[:2048].lower()
    return b"sitemapindex" not in head
