"""Hostile Markdown and HTML: what a user, a model or a crawled page might send to the chat.

Each entry tries to get an attribute or a URL into the page that would run script, send a
request to the app (htmx's hx-*, ws-*), restyle it (style) or leave http(s)/mailto. Used by the
renderer's unit tests and by the Chromium test that renders them all in the real page.
"""

from __future__ import annotations

HOSTILE_MARKDOWN = [
    # The breakout that deleted a profile: a bare URL inside a link's URL, entities, hx-delete.
    "See [the docs](http://a/&https://docs.example/hx-delete=/profiles/2?x)",
    "[x](http://a/&quot;&gt;&lt;b hx-post=/profiles onclick=alert(1)&gt;)",
    "[x](http://a/&#34; hx-delete=&#34;/profiles/1)",
    "[x](http://a/&#x22; hx-delete=/profiles/1 x=&#x22;)",
    "[x](https://a.example/\" hx-delete=\"/profiles/1)",
    "[x](https://a.example/' hx-delete='/profiles/1)",
    "[x](<https://a.example/\" onmouseover=\"alert(1)>)",
    "[x](https://a.example/ \"title\" hx-post=\"/todos\")",
    '[x](https://a.example/ "a title with \\" quote onclick=alert(1)")',
    "[[nested](https://a.example/1)](https://b.example/2)",
    "[a [b [c](https://a.example/x)](https://b.example)](https://c.example)",
    "[x]([y](https://a.example))",
    "[x](https://a.example/(nested)/(parens\" onclick=alert(1)))",
    "[x](https://a.example/&amp;https://b.example/hx-get=/profiles)",
    "https://a.example/&https://b.example/\"hx-delete=/profiles/2",
    "https://a.example/?q=<b hx-post=/todos>",
    "www.a.example/\"onclick=alert(1)",
    "<https://a.example/\" hx-delete=\"/profiles/1>",
    "<javascript:alert(1)>",
    "<mailto:a@b.example?subject=\" onclick=\"alert(1)>",
    # Schemes that must never become a link.
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "[x](file:///etc/passwd)",
    "[x](//evil.example/x)",
    "[x](/profiles/2)",
    "[x](profiles/2)",
    "[x](#hx-delete)",
    "[x]: javascript:alert(1)\n\n[x]",
    "[x]: /profiles/1 \"t\"\n\n[x] and [y][x]",
    # Images: never rendered (a reply must not make the browser fetch anything).
    "![x](https://a.example/i.png)",
    "![x](https://a.example/i.png\" onerror=\"alert(1))",
    "![x\" onerror=\"alert(1)](https://a.example/i.png)",
    "[![img](https://a.example/i.png)](https://a.example/)",
    "![x](/profiles/2)",
    # Raw HTML, which must stay text.
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "<button hx-delete=\"/profiles/2\" hx-trigger=\"load\">x</button>",
    "<div hx-post=\"/todos\" hx-vals='{\"title\":\"pwned\"}' hx-trigger=\"load\"></div>",
    "<form ws-send><input name=action value=chat></form>",
    "<p style=\"position:fixed;inset:0\">cover</p>",
    "<svg onload=alert(1)>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<details open ontoggle=alert(1)>",
    "<!-- <img src=x onerror=alert(1)> -->",
    "**<iframe src=x>**",
    "`<svg onload=alert(1)>`",
    "```html\n<script>alert(1)</script>\n```",
    "<a href=\"https://a.example\" hx-get=\"/profiles\">ok?</a>",
    # Attribute quotes and entities in plain text.
    "\" onmouseover=\"alert(1)",
    "' onmouseover='alert(1)",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;img src=x onerror=alert(1)&#62;",
    "> [quote](javascript:alert(1))\n> <b onclick=alert(1)>x</b>",
    "- [item](https://a.example/\"><b hx-delete=/profiles/2>)\n- two",
    "| a | b |\n|---|---|\n| [x](javascript:alert(1)) | <b style=color:red>y</b> |",
    "~~[x](https://a.example/\" style=\"x)~~",
    "***[x](https://a.example/)***\" hx-post=\"/todos",
    "a@b.example\" onclick=\"alert(1)",
]
