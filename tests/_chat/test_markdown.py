"""The chat's Markdown: formatting works, and nothing from the user or the model becomes markup."""

import re

import pytest

from pipulate._chat.markdown import render_markdown

ALLOWED_TAGS = {"p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "h3", "h4", "h5", "blockquote", "a"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("**bold** and *it* and `code`", "<p><strong>bold</strong> and <em>it</em> and <code>code</code></p>"),
        ("- a\n- b", "<ul><li>a</li><li>b</li></ul>"),
        ("1. one\n2. two", "<ol><li>one</li><li>two</li></ol>"),
        ("# Title", "<h3>Title</h3>"),
        ("```\n<b>x</b>\n```", "<pre><code>&lt;b&gt;x&lt;/b&gt;</code></pre>"),
        ("line one\nline two", "<p>line one<br>line two</p>"),
    ],
)
def test_formatting(text, expected):
    assert render_markdown(text) == expected


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '[x](javascript:alert(1))',
        '[x](data:text/html,<script>alert(1)</script>)',
        '" onmouseover="alert(1)',
        "<a href='javascript:alert(1)'>x</a>",
        "**<iframe src=x>**",
        "`<svg onload=alert(1)>`",
    ],
)
def test_no_markup_survives(attack):
    html = render_markdown(attack)
    # Every tag in the output is one the renderer makes itself, and no attribute but a safe href.
    assert set(re.findall(r"</?([a-zA-Z0-9]+)", html)) <= ALLOWED_TAGS, html
    assert not re.search(r"<[^>]*\son\w+=", html), html
    assert 'href="javascript' not in html and 'href="data' not in html


def test_safe_links_are_kept():
    html = render_markdown("[docs](https://example.com/a?b=1&c=2) and https://example.org/x.")
    assert '<a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer nofollow" target="_blank">docs</a>' in html
    assert '<a href="https://example.org/x"' in html
