"""The facts the parser reads from a page, including broken markup."""

from __future__ import annotations

from pipulate_seo.crawl.parse import decode, parse

PAGE = """<!doctype html><html><head><base href="/base/"><title>  The   title </title>
<meta name="Description" content=" Desc ">
<meta name="robots" content="NOINDEX, follow"><link rel="canonical" href="/canon">
<link rel="alternate" hreflang="fr-FR" href="https://example.com/fr/"></head>
<body><h1>One</h1><h1>Two <b>bold</b></h1><svg><title>not the title</title></svg>
<a href="a">A <img src=x alt="ignored"></a><a href="/b" rel="nofollow ugc"><img src="y" alt="Picture"></a>
<a href="http://example.com/insecure">insecure</a><a href="mailto:x@y">mail</a>
<img src="http://example.com/pic.png"><script>var words = "not counted at all";</script>
<p>five words of body text
"""


def test_facts_of_a_page():
    facts = parse(PAGE, "https://example.com/dir/page")
    assert facts.title == "The title" and facts.title_count == 1
    assert facts.description == "Desc" and facts.description_count == 1
    assert facts.meta_robots == "noindex, follow"
    assert facts.canonical == "https://example.com/canon"
    assert facts.hreflang == [("fr-fr", "https://example.com/fr/")]
    assert facts.h1 == "One" and facts.h1_count == 2
    links = [(link.url, link.anchor, link.nofollow) for link in facts.links if link.kind == "a"]
    assert links == [("https://example.com/base/a", "A", False), ("https://example.com/b", "Picture", True),
                     ("http://example.com/insecure", "insecure", False)]
    assert facts.images == 3 and facts.images_without_alt == 1
    assert facts.http_links == 2  # the http link to the same site, and the http image on an https page
    assert "counted" not in str(facts.word_count) and facts.word_count < 20


def test_decoding_follows_the_header_then_the_meta_then_utf8():
    assert decode("é".encode("latin-1"), "text/html; charset=ISO-8859-1") == "é"
    assert decode(b'<meta charset="windows-1252">\x93q\x94', "text/html") .endswith("“q”")
    assert decode(b"\xff ok", "text/html; charset=nonsense") == "\ufffd ok"
