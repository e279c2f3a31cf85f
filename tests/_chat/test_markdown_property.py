"""Property: whatever text is rendered, the HTML holds only the allowed tags and attributes, and
every link is an absolute http(s) or mailto URL (Hypothesis generates the text from Markdown's
and HTML's special characters, URLs, entities and attribute-like fragments)."""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from pipulate._chat.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, render_markdown
from tests._chat.test_markdown import elements

PIECES = st.sampled_from([
    "[", "]", "(", ")", "<", ">", "!", "*", "_", "`", "```", "#", "-", "1.", "|", "~~", "\n", "  \n", "\\", '"', "'",
    "&", "&amp;", "&#x22;", "&quot;", "&#106;", "&colon;", "=", " ", "http://", "https://", "javascript:", "data:",
    "mailto:", "//", "/profiles/2", "a.example", "hx-delete", "hx-post=/todos", "onclick=alert(1)", "style=",
    "ws-send", "<a href=", "<img src=x onerror=", "<script>", "</script>", "<!--", "-->", "www.", "@", "\x00", "\u202e",
])
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=8)), max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_rendered_markdown_holds_only_safe_markup(text):
    html = render_markdown(text)
    for tag, attributes in elements(html):
        assert tag in ALLOWED_TAGS, (text, html)
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | ({"target", "rel"} if tag == "a" else set())
        assert set(attributes) <= allowed, (text, html)
        if tag == "a":
            url = urlsplit(attributes["href"])
            assert url.scheme in ("http", "https", "mailto") and (url.scheme == "mailto" or url.hostname), (text, html)
