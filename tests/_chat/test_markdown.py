"""The chat's Markdown: formatting works, and nothing from the user or the model becomes markup.

The renderer is markdown-it-py (CommonMark, raw HTML off) followed by the nh3 allow-list; the
same hostile corpus is rendered in Chromium by tests/browser/test_hostile_markdown_in_chromium.py.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from pipulate._chat.highlight import token_classes
from pipulate._chat.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, COPY_BUTTON, render_markdown
from tests.support.hostile_markdown import HOSTILE_MARKDOWN


def compact(html: str) -> str:
    """The rendering without the line breaks markdown-it puts between block tags."""
    return re.sub(r">\n+", ">", html).strip()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("**bold** and *it* and `code`", "<p><strong>bold</strong> and <em>it</em> and <code>code</code></p>"),
        ("- a\n- b", "<ul><li>a</li><li>b</li></ul>"),
        ("1. one\n2. two", "<ol><li>one</li><li>two</li></ol>"),
        ("3. three", '<ol start="3"><li>three</li></ol>'),
        ("# Title", "<h3>Title</h3>"),
        ("### Small", "<h5>Small</h5>"),
        ("```\n<b>x</b>\n```", f'<div class="code-block">{COPY_BUTTON}<pre><code>&lt;b&gt;x&lt;/b&gt;\n</code></pre></div>'),
        ("line one\nline two", "<p>line one<br>line two</p>"),  # a chat keeps its line breaks
        ("line one  \nline two", "<p>line one<br>line two</p>"),
        ("> quoted", "<blockquote><p>quoted</p></blockquote>"),
        ("~~gone~~", "<p><s>gone</s></p>"),
        ("| a |\n|---|\n| 1 |", "<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>"),
    ],
)
def test_formatting(text, expected):
    assert compact(render_markdown(text)) == expected


def test_safe_links_are_kept_and_open_apart():
    html = render_markdown("[docs](https://example.com/a?b=1&c=2) and https://example.org/x.")
    assert '<a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer nofollow">docs</a>' in html
    assert '<a href="https://example.org/x" target="_blank" rel="noopener noreferrer nofollow">https://example.org/x</a>' in html


def test_mailto_and_autolinks_are_links():
    html = render_markdown("<https://a.example/x> and mail someone@example.com")
    assert 'href="https://a.example/x"' in html and 'href="mailto:someone@example.com"' in html


def test_the_link_breakout_is_one_link_with_its_whole_url():
    html = render_markdown("See [the docs](http://a/&https://docs.example/hx-delete=/profiles/2?x)")
    assert compact(html) == (
        '<p>See <a href="http://a/&amp;https://docs.example/hx-delete=/profiles/2?x" target="_blank" '
        'rel="noopener noreferrer nofollow">the docs</a></p>'
    )


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict]]:
    """The elements of a rendering, less the code blocks' frame and Copy button (the app's own
    markup, added after sanitizing)."""
    parser = _Elements()
    parser.feed(html.replace(f'<div class="code-block">{COPY_BUTTON}', "").replace("</pre></div>", "</pre>"))
    parser.close()
    return parser.elements


def test_the_corpus_is_large_enough():
    assert len(HOSTILE_MARKDOWN) >= 50 and len(set(HOSTILE_MARKDOWN)) == len(HOSTILE_MARKDOWN)


@pytest.mark.parametrize("attack", HOSTILE_MARKDOWN)
def test_no_hostile_markup_survives(attack):
    html = render_markdown(attack)
    for tag, attributes in elements(html):
        assert tag in ALLOWED_TAGS, html
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | ({"target", "rel"} if tag == "a" else set())
        assert set(attributes) <= allowed, html
        if tag == "span":
            assert set(attributes.get("class", "").split()) <= token_classes(), html
        if tag == "a":
            url = urlsplit(attributes["href"])
            assert url.scheme in ("http", "https", "mailto"), html
            assert url.scheme == "mailto" or url.hostname, html
            assert attributes["target"] == "_blank" and "noopener" in attributes["rel"], html


@pytest.mark.parametrize("text", ["", " ", "\n\n", "\x00", "a\x00b", "\ufffd", "\u202eevil", "x" * 20_000, "[" * 5_000, "*" * 5_000, "> " * 2_000])
def test_odd_inputs_render_without_error(text):
    assert isinstance(render_markdown(text), str)


def test_code_with_a_language_is_highlighted_with_pygments_classes_only():
    html = render_markdown('```python\ndef f(x):\n    return "<b>"  # note\n```')
    assert '<span class="k">def</span>' in html and '<span class="nf">f</span>' in html
    assert '<span class="s2">"&lt;b&gt;"</span>' in html  # the code's own markup stays text
    assert '<span class="c1"># note</span>' in html
    classes = set(re.findall(r'class="([^"]*)"', html)) - {"code-block", "msg-action code-copy"}
    assert classes and classes <= token_classes()
    assert html.count("data-chat-action=\"copy-code\"") == 1


@pytest.mark.parametrize("fence", [
    '```python" onclick="alert(1)\nx = 1\n```',
    "```python class=x\nx = 1\n```",
    "```<script>\nx = 1\n```",
    "```nosuchlanguage\n<b>x</b>\n```",
    "    indented <b>code</b>",
    "```python\n" + "x = 1\n" * 5_000 + "```",  # too long to colour: shown plain
])
def test_odd_fences_render_as_code_without_markup(fence):
    html = render_markdown(fence)
    assert "onclick" not in html.replace("&quot;", "") or 'onclick="' not in html
    for tag, attributes in elements(html):
        assert tag in ALLOWED_TAGS, html
        if tag == "span":
            assert set(attributes["class"].split()) <= token_classes()
        else:
            assert set(attributes) <= ALLOWED_ATTRIBUTES.get(tag, set()), html


def test_a_typed_span_with_a_pygments_class_is_text():
    assert render_markdown('<span class="k">x</span>') == '<p>&lt;span class="k"&gt;x&lt;/span&gt;</p>'


def test_the_highlight_stylesheet_is_made_from_the_pygments_styles():
    from pathlib import Path

    from pipulate._chat.highlight import style_css

    shipped = Path(__file__).resolve().parents[2] / "pipulate" / "_ui" / "static" / "highlight.css"
    assert shipped.read_text() == style_css(), "run: python -m pipulate._chat.highlight"
