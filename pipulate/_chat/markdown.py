"""Chat messages as Markdown: rendered by a CommonMark library, then sanitized by an allow-list.

Two independent layers, so a mistake in one is caught by the other:

1. markdown-it-py (CommonMark, maintained) parses the text with raw HTML off: `<b>` in a message
   is shown as text, never as markup. Links must be http(s) or mailto (`validateLink`); images
   are not rendered (a reply must not make the browser fetch anything).
2. nh3 (the Rust `ammonia` sanitizer) keeps only the tags and attributes listed below. Whatever
   the renderer emits, no `on*`, `hx-*`, `ws-*`, `style`, `id` or `class` attribute survives, and
   a link's href must be an absolute http(s) or mailto URL.

Code blocks that name their language are highlighted by Pygments (highlight.py): the only
`class` the sanitizer lets through is one of Pygments' token classes, on a `span`. Each block
then gets a Copy button (added after sanitizing: it is the app's markup, not the message's).

Why libraries: the hand-written renderer this replaces built a link inside an already-built
href, and one crafted message gave a link live htmx attributes (issue: "Markdown link
breakout"). Parsing CommonMark's edge cases (nested brackets, entities, autolinks) is what
these libraries are tested for.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

from .highlight import highlight_code, keep_class

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
ALLOWED_TAGS = frozenset(
    {"p", "br", "hr", "strong", "em", "s", "del", "code", "pre", "blockquote", "ul", "ol", "li",
     "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td", "span"}
)
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}, "span": {"class"}}
COPY_BUTTON = ('<button type="button" class="msg-action code-copy" data-chat-action="copy-code" '
               'aria-label="Copy code" title="Copy code"></button>')
LINK_REL = "noopener noreferrer nofollow"
# A host name or address as it may appear in a link (IDNs arrive punycoded from markdown-it).
_HOST = re.compile(r"[a-z0-9._-]+|[0-9a-f:.]+", re.I)


def render_markdown(text: str) -> str:
    """Safe HTML for a chat message (user's, model's or a notice)."""
    tokens = _parser().parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            # The chat lives inside a page: `#` becomes h3, and so on down to h6.
            token.tag = f"h{min(int(token.tag[1]) + 2, 6)}"
    html = _parser().renderer.render(tokens, _parser().options, {})
    safe = sanitize_html(html).rstrip("\n")
    # Only the renderer writes <pre> (raw HTML is off, and a "<pre>" typed is escaped text).
    return safe.replace("<pre>", f'<div class="code-block">{COPY_BUTTON}<pre>').replace("</pre>", "</pre></div>")


def sanitize_html(html: str) -> str:
    """Keep only ALLOWED_TAGS with ALLOWED_ATTRIBUTES; links open in a new tab, without referrer."""
    import nh3

    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        # "*": none on every tag (nh3 would otherwise keep `title` and `lang` anywhere).
        attributes={"*": set()} | {tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_keep_attribute,
        url_schemes=set(SAFE_SCHEMES),
        url_relative="deny",
        link_rel=LINK_REL,
        set_tag_attribute_values={"a": {"target": "_blank"}},
        strip_comments=True,
    )


def is_safe_url(url: str) -> bool:
    """An absolute http(s) URL with a host, or a mailto: address. Relative URLs are refused: in
    the page they would point at the app itself."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if scheme == "mailto":
        return bool(parts.path) and url.isprintable()
    return scheme in ("http", "https") and bool(parts.hostname) and _readable_host(parts.hostname)


def _readable_host(host: str) -> bool:
    """A host of letters, digits, dots and dashes (an IP address too), whose punycode labels
    (markdown-it turns international names into them) decode to printable text."""
    if not _HOST.fullmatch(host):
        return False
    for label in host.split("."):
        if label.lower().startswith("xn--"):
            try:
                decoded = label.encode("ascii").decode("idna")
            except UnicodeError:
                return False
            if not decoded.isprintable():
                return False
    return True


def _keep_attribute(tag: str, name: str, value: str) -> str | None:
    if tag == "a" and name == "href" and not is_safe_url(value):
        return None
    if tag == "ol" and name == "start" and not value.isdigit():
        return None
    if tag == "span" and name == "class":
        return keep_class(value)
    return value


@lru_cache(maxsize=1)
def _parser():
    # Imported on first use: markdown-it loads when the first message is shown, not at start-up.
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False, "breaks": True,
                                       "highlight": lambda code, language, attributes: highlight_code(code, language)})
    parser.enable(["linkify", "table", "strikethrough"])
    parser.disable("image")
    parser.validateLink = is_safe_url
    return parser
