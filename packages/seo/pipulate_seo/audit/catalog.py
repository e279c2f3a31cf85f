"""Every issue the audit reports: its severity and one line a non-specialist understands."""

from __future__ import annotations

from dataclasses import dataclass

TITLE_RANGE = (30, 60)  # characters: roughly what search results show before cutting
DESCRIPTION_RANGE = (70, 160)
THIN_WORDS = 200  # fewer words than this on an HTML page: thin
DEEP = 5  # more clicks than this from the start: very deep
SEVERITIES = ("error", "warning", "notice")


@dataclass(frozen=True)
class IssueType:
    id: str
    title: str
    severity: str
    explanation: str


_ISSUES = [
    IssueType("status_4xx", "Page not found (4xx)", "error",
              "This URL answers with a client error such as 404, so visitors and search engines reach a dead end."),
    IssueType("status_5xx", "Server error (5xx)", "error",
              "The server failed to answer this URL; search engines drop pages that keep failing."),
    IssueType("fetch_error", "No answer", "error",
              "No complete answer came back (a timeout, a refused connection or a broken response)."),
    IssueType("broken_link", "Links to a broken page", "error",
              "This page links to a URL that answers with an error or not at all; anyone following the link hits a dead end."),
    IssueType("redirect_loop", "Redirect loop", "error",
              "The redirects from this URL go round in a circle and never reach a page."),
    IssueType("redirect_chain", "Redirect chain", "warning",
              "Reaching the final page takes two or more redirects in a row, which slows visitors down and wastes crawling."),
    IssueType("internal_link_to_redirect", "Internal link to a redirect", "warning",
              "This page links to a URL of the site that redirects; link straight to where it ends up instead."),
    IssueType("title_missing", "Title missing", "error",
              "The page has no <title>, the headline search results show for it."),
    IssueType("title_empty", "Title empty", "error",
              "The page's <title> is there but says nothing, so search engines make one up."),
    IssueType("title_duplicate", "Duplicate title", "warning",
              "Several pages share this exact title, so searchers cannot tell them apart."),
    IssueType("title_too_long", "Title too long", "warning",
              f"The title is over {TITLE_RANGE[1]} characters and is likely cut off in search results."),
    IssueType("title_too_short", "Title too short", "notice",
              f"The title is under {TITLE_RANGE[0]} characters; there is room to say more about the page."),
    IssueType("description_missing", "Meta description missing", "warning",
              "The page has no meta description, the text search results often show under the title."),
    IssueType("description_empty", "Meta description empty", "warning",
              "The meta description is there but empty, so search engines pick a snippet themselves."),
    IssueType("description_duplicate", "Duplicate meta description", "warning",
              "Several pages share this exact meta description, so their search snippets look the same."),
    IssueType("description_too_long", "Meta description too long", "notice",
              f"The meta description is over {DESCRIPTION_RANGE[1]} characters and is likely cut off."),
    IssueType("description_too_short", "Meta description too short", "notice",
              f"The meta description is under {DESCRIPTION_RANGE[0]} characters; it may not sell the page well."),
    IssueType("h1_missing", "H1 missing", "warning",
              "The page has no main heading (<h1>), which tells readers and search engines what it is about."),
    IssueType("h1_multiple", "Several H1s", "notice",
              "The page has more than one main heading (<h1>); one clear heading is easier to understand."),
    IssueType("noindex_in_sitemap", "Noindex page in the sitemap", "warning",
              "The sitemap asks search engines to index this page, but the page itself says noindex: a mixed signal."),
    IssueType("canonical_to_other", "Canonical points elsewhere", "notice",
              "This page names another URL as its canonical, so search engines are asked to index that one instead."),
    IssueType("canonical_to_non200", "Canonical to a broken or redirecting URL", "error",
              "The page's canonical URL does not answer 200, so search engines may ignore it or index the wrong page."),
    IssueType("canonical_to_noindex", "Canonical to a noindex page", "error",
              "The page's canonical URL says noindex: the page asks to be replaced by one that refuses to be indexed."),
    IssueType("hreflang_no_return", "Hreflang without a return link", "warning",
              "This page points to a language version that does not point back, so search engines ignore the pair."),
    IssueType("hreflang_to_non200", "Hreflang to a broken or redirecting URL", "warning",
              "This page's hreflang points to a URL that does not answer 200."),
    IssueType("blocked_by_robots_linked", "Linked but blocked by robots.txt", "warning",
              "Pages link here, but robots.txt forbids crawling it, so search engines cannot read it."),
    IssueType("orphan", "Orphan page", "warning",
              "The page is in the sitemap but no crawled page links to it, so visitors cannot find it by clicking."),
    IssueType("thin_content", "Thin content", "warning",
              f"The page has fewer than {THIN_WORDS} words; pages with little text rarely rank."),
    IssueType("mixed_links", "Mixed http/https links", "warning",
              "The page links to (or loads images from) the site under the other scheme, http on https or the reverse."),
    IssueType("too_deep", "Very deep page", "notice",
              f"The page is more than {DEEP} clicks from the start page; deep pages get less attention from visitors and crawlers."),
    IssueType("images_without_alt", "Images without alt text", "notice",
              "Some images have no alt attribute, which screen readers and image search rely on."),
]

ISSUES: dict[str, IssueType] = {issue.id: issue for issue in _ISSUES}
RANK = {severity: number for number, severity in enumerate(SEVERITIES)}
